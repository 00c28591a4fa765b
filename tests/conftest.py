"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when configured).

Set ``APPCONNECT_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``) to run
every test that uses ``db_url`` against PostgreSQL as well; CI does. With
``APPCONNECT_TEST_REDIS_URL`` set too, that PostgreSQL variant also runs with ``REDIS_URL`` (the
key-value store of a multi-worker deployment) on an emptied Redis database: the SQLite variant
is the single-process setup, the PostgreSQL one the scale-out setup.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest

from appconnect.settings import Settings

POSTGRES_URL = os.environ.get("APPCONNECT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("APPCONNECT_TEST_REDIS_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def _reset_postgres(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database for this test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/appconnect.db"
    assert POSTGRES_URL
    asyncio.run(_reset_postgres(POSTGRES_URL))
    return POSTGRES_URL


@pytest.fixture(autouse=True)
def _redis_beside_postgres(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PostgreSQL variant of a test runs with ``REDIS_URL`` as well (when configured)."""
    if not REDIS_URL or "db_url" not in request.fixturenames:
        return
    if not str(request.getfixturevalue("db_url")).startswith("postgres"):
        return
    asyncio.run(_flush_redis(REDIS_URL))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)


@pytest.fixture
def redis_url() -> str:
    """An emptied Redis database (the test skips without ``APPCONNECT_TEST_REDIS_URL``)."""
    if not REDIS_URL:
        pytest.skip("APPCONNECT_TEST_REDIS_URL is not set")
    asyncio.run(_flush_redis(REDIS_URL))
    return REDIS_URL


@pytest.fixture
def make_settings(db_url: str, tmp_path: Any) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": db_url,
            "APP_SERVER_SECRET_KEY": "test-secret-key",
            "HASH_KEY": "test-hash-key",
            "APPCONNECT_SECRET_FILE": str(tmp_path / "secret.json"),
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()

