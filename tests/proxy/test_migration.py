"""Migration 0004: a database at 0003 gains the proxyConfigs table."""

from __future__ import annotations

from sqlalchemy import inspect, text
from tests.test_migration_0003 import HEAD

from appconnect.settings import normalise_database_url
from appconnect.store.db import Database


async def test_database_at_0003_gets_the_proxy_configs_table(db_url: str) -> None:
    db = Database(normalise_database_url(db_url))
    try:
        await db.migrate()
        async with db.engine.begin() as conn:
            await conn.execute(text('DROP TABLE "proxyConfigs"'))
            await conn.execute(
                text("UPDATE alembic_version SET version_num = '0003_appointments_mcp'")
            )
        await db.migrate()
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("proxyConfigs")}
            )
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert columns == {"proxyId", "config", "secretKey", "createdAt", "updatedAt"}
        assert version == [(HEAD,)]
    finally:
        await db.dispose()
