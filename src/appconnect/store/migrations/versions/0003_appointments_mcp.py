"""Tables of issue 11: the demo CRM's calendar and the MCP sessions.

``demoAppointments`` holds the demo connector's appointments; ``llmSessions`` maps a RingCentral
extension id to the CRM session token an AI assistant (MCP) uses. ``callDownLists`` already came
with 0001. Tables that already exist are left alone (0001 creates a fresh database from the
current models, so on a new database both tables are there before this revision runs).

Revision ID: 0003_appointments_mcp
Revises: 0002_session_security
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_appointments_mcp"
down_revision = "0002_session_security"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "demoAppointments" not in existing:
        op.create_table(
            "demoAppointments",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("userId", sa.String(255), nullable=False),
            sa.Column("title", sa.String(500), nullable=False),
            sa.Column("summary", sa.Text, nullable=False),
            sa.Column("startTime", sa.DateTime(timezone=True), nullable=False),
            sa.Column("durationMinutes", sa.Integer, nullable=False),
            sa.Column("status", sa.String(64), nullable=False),
            sa.Column("contacts", sa.JSON),
            *_timestamps(),
        )
        op.create_index("ix_demoAppointments_userId", "demoAppointments", ["userId"])
        op.create_index("ix_demoAppointments_startTime", "demoAppointments", ["startTime"])
    if "llmSessions" not in existing:
        op.create_table(
            "llmSessions",
            sa.Column("id", sa.String(255), primary_key=True),
            sa.Column("jwtToken", sa.Text),
            sa.Column("expiry", sa.DateTime(timezone=True)),
            *_timestamps(),
        )


def downgrade() -> None:
    op.drop_table("llmSessions")
    op.drop_table("demoAppointments")
