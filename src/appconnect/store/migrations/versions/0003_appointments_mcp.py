"""Tables of issue 11: the MCP sessions.

``llmSessions`` maps a RingCentral extension id to the CRM session token an AI assistant (MCP)
uses. ``callDownLists`` already came with 0001. A table that already exists is left alone (0001
creates a fresh database from the current models, so on a new database it is there before this
revision runs). The demo CRM's ``demoAppointments`` is not the framework's: the demo connector
creates it at start-up with its other tables (``appconnect.connectors.demo.models``), so it
exists only where the demo is served; databases that got it from an earlier version of this
revision keep it.

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
