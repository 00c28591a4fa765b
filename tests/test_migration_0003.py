"""Migration 0003: a database at 0002_session_security gains demoAppointments and llmSessions."""

from __future__ import annotations

from sqlalchemy import inspect, text

from appconnect.settings import normalise_database_url
from appconnect.store.db import Database


async def test_database_at_0002_gets_the_new_tables(db_url: str) -> None:
    db = Database(normalise_database_url(db_url))
    try:
        await db.migrate()
        async with db.engine.begin() as conn:
            await conn.execute(text('DROP TABLE "demoAppointments"'))
            await conn.execute(text('DROP TABLE "llmSessions"'))
            await conn.execute(
                text("UPDATE alembic_version SET version_num = '0002_session_security'")
            )
        await db.migrate()
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            indexes = await conn.run_sync(
                lambda c: {ix["name"] for ix in inspect(c).get_indexes("demoAppointments")}
            )
        assert {"demoAppointments", "llmSessions", "callDownLists"} <= tables
        assert version == [("0003_appointments_mcp",)]
        assert "ix_demoAppointments_userId" in indexes
    finally:
        await db.dispose()
