"""Leases that serialize updates of one CRM log across worker processes.

Created only where missing (``0001`` creates every table the models declare).

Revision ID: 0005_log_locks
Revises: 0004_proxy_configs
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from appconnect.store.models import Base

revision = "0005_log_locks"
down_revision = "0004_proxy_configs"
branch_labels = None
depends_on = None

TABLES = ("appconnectLogLocks",)


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name in TABLES:
        if name not in existing:
            Base.metadata.tables[name].create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in reversed(TABLES):
        Base.metadata.tables[name].drop(bind, checkfirst=True)
