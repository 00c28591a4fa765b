"""Migration 0003: a database at 0002_session_security gains llmSessions (and no demo table)."""

from __future__ import annotations

from sqlalchemy import inspect, text

from appconnect.settings import normalise_database_url
from appconnect.store.db import MIGRATIONS_DIR, Database


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    return str(head)


HEAD = _head()


async def test_database_at_0002_gets_the_new_tables(db_url: str) -> None:
    db = Database(normalise_database_url(db_url))
    try:
        await db.migrate()
        async with db.engine.begin() as conn:
            await conn.execute(text('DROP TABLE "llmSessions"'))
            await conn.execute(
                text("UPDATE alembic_version SET version_num = '0002_session_security'")
            )
        await db.migrate()
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert {"llmSessions", "callDownLists"} <= tables
        assert "demoAppointments" not in tables  # the demo connector creates its own tables
        assert version == [(HEAD,)]  # 0003 ran, and every later revision after it
    finally:
        await db.dispose()
