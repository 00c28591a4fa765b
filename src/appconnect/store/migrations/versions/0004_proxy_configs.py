"""The proxyConfigs table: declarative connector configs selected by proxyId.

0001 creates every table of the models that exist when it runs, so on a fresh database the table
is already there; this revision adds it to databases created before it existed.

Revision ID: 0004_proxy_configs
Revises: 0003_appointments_mcp
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_proxy_configs"
down_revision = "0003_appointments_mcp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "proxyConfigs" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "proxyConfigs",
        sa.Column("proxyId", sa.String(255), primary_key=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secretKey", sa.Text()),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proxyConfigs")
