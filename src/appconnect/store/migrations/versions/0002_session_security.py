"""Session generations: logout refuses every token issued before it.

Created only where missing: ``0001`` creates every table the models declare, so a database
created after these models existed already has them.

Revision ID: 0002_session_security
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from appconnect.store.models import Base

revision = "0002_session_security"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("appconnectSessionGenerations",)


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
