"""Schema migrations: fresh databases, repeated start-ups, and adopting a reference database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, text

from appconnect import ConnectorRegistry, ManifestError, create_app
from appconnect.security import SecretBox
from appconnect.settings import Settings
from appconnect.store.db import Database
from appconnect.store.users import UserStore

REFERENCE_TABLES = {"users", "callLogs", "messageLogs", "adminConfigs", "accountData", "caches",
                    "callDownLists", "noteCache"}  # fmt: skip


def _tables(sync_conn: Any) -> set[str]:
    return set(inspect(sync_conn).get_table_names())


async def test_migration_creates_every_table_and_is_repeatable(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        await db.migrate()  # a second start-up finds the schema at head and changes nothing
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("users")}
            )
        assert REFERENCE_TABLES <= tables
        assert {"appconnectConversationLogs", "alembic_version"} <= tables
        expected = {"accessToken", "refreshToken", "tokenExpiry", "platformAdditionalInfo",
                    "hashedRcExtensionId", "userSettings", "createdAt", "updatedAt"}  # fmt: skip
        assert expected <= columns
        assert not {"demoContacts", "demoActivities"} & tables  # the demo creates its own
    finally:
        await db.dispose()


async def test_demo_tables_exist_only_where_the_demo_connector_is_served(
    settings: Settings,
) -> None:
    from appconnect.connectors.demo import demo_registry

    plain = create_app(ConnectorRegistry(), settings=settings)
    async with plain.router.lifespan_context(plain):
        db = plain.state.appconnect.runtime.db
        async with db.engine.connect() as conn:
            assert "demoContacts" not in await conn.run_sync(_tables)
    served = create_app(demo_registry(), settings=settings)
    async with served.router.lifespan_context(served):
        db = served.state.appconnect.runtime.db
        async with db.engine.connect() as conn:
            assert {"demoContacts", "demoActivities"} <= await conn.run_sync(_tables)


async def test_a_reference_database_is_adopted_and_its_plaintext_tokens_read(
    settings: Settings,
) -> None:
    db = Database(settings.database_url)
    try:
        async with db.engine.begin() as conn:
            # The reference's users table, as its ORM created it, with a plaintext token.
            await conn.execute(text(
                'CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, "rcAccountId" VARCHAR(255), '
                'hostname VARCHAR(255), "timezoneName" VARCHAR(255), '
                '"timezoneOffset" VARCHAR(255), '
                'platform VARCHAR(255), "accessToken" VARCHAR(2000), "refreshToken" VARCHAR(2000), '
                '"tokenExpiry" TIMESTAMP WITH TIME ZONE, "platformAdditionalInfo" JSON, '
                '"hashedRcExtensionId" VARCHAR(255), "userSettings" JSON, '
                '"createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, '
                '"updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL)'
            ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO users (id, platform, \"accessToken\", \"platformAdditionalInfo\", "
                "\"userSettings\", \"createdAt\", \"updatedAt\") VALUES ('u1-pipedrive', "
                "'pipedrive', 'plain-token', '{\"proxyId\": null}', '{}', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            ))  # fmt: skip
        await db.migrate()
        users = UserStore(db, SecretBox("secret"))
        user = await users.get("u1-pipedrive", "pipedrive")
        assert user is not None and user.access_token == "plain-token"
        await user.save()  # the next save encrypts it
        async with db.engine.connect() as conn:
            raw = (await conn.execute(text('SELECT "accessToken" FROM users'))).scalar_one()
        assert raw.startswith("gcm1:")
        assert (await users.get("u1-pipedrive")).access_token == "plain-token"  # type: ignore[union-attr]
    finally:
        await db.dispose()


def test_a_broken_manifest_stops_start_up_naming_the_field(settings: Settings) -> None:
    broken = {
        "author": {"name": "x"},
        "platforms": {
            "acme": {"name": "acme", "auth": {"type": "oauth", "oauth": {"authUrl": "u"}}}
        },
    }
    with pytest.raises(ManifestError, match=r"platforms\.acme\.auth\.oauth\.clientId"):
        create_app(ConnectorRegistry(), settings=settings, manifest=broken)


async def test_user_cache_is_coherent_for_this_process_and_bounded_for_others(
    settings: Settings,
) -> None:
    db = Database(settings.database_url)
    await db.migrate()
    box = SecretBox("secret")
    mine = UserStore(db, box, cache_ttl=60)
    other_process = UserStore(db, box)  # another worker writing the same database
    try:
        await mine.upsert_login(
            user_id="u1", platform="demo", hostname="a", access_token="t1", refresh_token=None,
            token_expiry=None, timezone_name=None, timezone_offset=None, rc_account_id=None,
            hashed_rc_extension_id=None, platform_additional_info={"k": [1]},
        )  # fmt: skip
        first = await mine.get("u1")
        assert first is not None
        first.platform_additional_info["k"].append(2)  # callers' mutations stay theirs
        assert (await mine.get("u1")).platform_additional_info == {"k": [1]}  # type: ignore[union-attr]

        first.hostname = "b"
        await first.save()  # a write through this store is seen at once
        assert (await mine.get("u1")).hostname == "b"  # type: ignore[union-attr]

        theirs = await other_process.get("u1")
        assert theirs is not None
        theirs.access_token = "t2"
        await theirs.save()
        assert (await mine.get("u1")).access_token == "t1"  # type: ignore[union-attr]  # within TTL
        assert (await mine.get("u1", fresh=True)).access_token == "t2"  # type: ignore[union-attr]
        assert (await mine.get("u1")).access_token == "t2"  # type: ignore[union-attr]

        await mine.delete("u1")
        assert await mine.get("u1") is None
    finally:
        await db.dispose()


async def test_write_is_one_transaction_and_rolls_back_on_error(settings: Settings) -> None:
    from appconnect.store.models import NoteCacheRow

    db = Database(settings.database_url)
    await db.migrate()
    table = NoteCacheRow.__table__
    try:
        await db.write(
            lambda conn: conn.execute(table.insert(), {"sessionId": "a", "note": "x", "ttl": 1})
        )

        def half_done(conn: Any) -> None:
            conn.execute(table.insert(), {"sessionId": "b", "note": "y", "ttl": 1})
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await db.write(half_done)
        rows = await db.read(lambda conn: conn.execute(table.select()).mappings().all())
        assert [r["sessionId"] for r in rows] == ["a"]  # "b" was rolled back with the error
    finally:
        await db.dispose()


async def test_queued_writes_share_a_commit_and_one_failure_touches_only_itself(
    settings: Settings,
) -> None:
    """Group commit (SQLite): writes that queue up while one runs commit together; a failing
    write rolls the batch back, every other write is redone alone and succeeds."""
    import asyncio
    import threading

    from appconnect.store.models import NoteCacheRow

    db = Database(settings.database_url)
    if not db.is_sqlite:
        pytest.skip("PostgreSQL writes run on the async pool, one transaction each")
    await db.migrate()
    table = NoteCacheRow.__table__
    gate = threading.Event()
    sizes: list[int] = []
    execute = db._writer._execute  # type: ignore[union-attr]

    def recording(calls: Any) -> Any:
        sizes.append(len(calls))
        return execute(calls)

    db._writer._execute = recording  # type: ignore[union-attr]
    try:
        # The first write holds the writer thread until the others have queued behind it.
        first = asyncio.create_task(db.write(lambda conn: gate.wait(5)))
        await asyncio.sleep(0.05)

        def insert(session_id: str) -> Any:
            def work(conn: Any) -> str:
                conn.execute(table.insert(), {"sessionId": session_id, "note": "n", "ttl": 1})
                if session_id == "bad":
                    raise RuntimeError("bad write")
                return session_id

            return work

        names = ["a", "b", "bad", "c"]
        writes = [asyncio.create_task(db.write(insert(name))) for name in names]
        await asyncio.sleep(0.05)
        gate.set()
        await first
        outcomes = await asyncio.gather(*writes, return_exceptions=True)

        assert sizes[-1] == 4  # the four queued writes went to the writer as one batch
        assert outcomes[:2] == ["a", "b"] and outcomes[3] == "c"
        assert isinstance(outcomes[2], RuntimeError)
        rows = await db.read(lambda conn: conn.execute(table.select()).mappings().all())
        assert sorted(r["sessionId"] for r in rows) == ["a", "b", "c"]
    finally:
        gate.set()
        await db.dispose()


async def test_an_expected_duplicate_does_not_rerun_its_group_commit_batch(
    settings: Settings,
) -> None:
    """A reservation refused as a duplicate is an answer, not an error: the batch it shared
    with other reservations commits once and nothing runs twice."""
    import asyncio
    import threading

    from sqlalchemy import event

    from appconnect.services.call_log_store import CallLogStore, Identity

    db = Database(settings.database_url)
    if not db.is_sqlite:
        pytest.skip("PostgreSQL writes run on the async pool, one transaction each")
    await db.migrate()
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith('INSERT INTO "callLogs"'):
            inserts.append(statement)

    event.listen(db._sync_engine, "before_cursor_execute", count)  # type: ignore[arg-type]
    store = CallLogStore(db)

    async def reserve(session_id: str) -> Any:
        return await store.reserve(row_id=f"t-{session_id}", session_id=session_id,
                                   identity=Identity("", ""), platform="p", user_id="u",
                                   contact_id="c")

    gate = threading.Event()
    try:
        assert await reserve("taken") is not None
        inserts.clear()
        first = asyncio.create_task(db.write(lambda conn: gate.wait(5)))
        await asyncio.sleep(0.05)
        names = ["a", "taken", "b", "taken", "c"]
        tasks = [asyncio.create_task(reserve(name)) for name in names]
        await asyncio.sleep(0.05)
        gate.set()
        await first
        outcomes = await asyncio.gather(*tasks)
        assert [o is not None for o in outcomes] == [True, False, True, False, True]
        assert len(inserts) == len(names)  # each reservation's INSERT ran exactly once
    finally:
        gate.set()
        await db.dispose()


async def test_postgresql_writes_queued_together_share_a_commit_and_fail_alone(
    settings: Settings,
) -> None:
    """Group commit (PostgreSQL): concurrent writes commit in one transaction; a failing write
    rolls its batch back and every other write is redone alone and succeeds."""
    import asyncio

    from sqlalchemy import event

    from appconnect.store.models import NoteCacheRow

    db = Database(settings.database_url)
    if db.is_sqlite:
        pytest.skip("SQLite's group commit is tested above")
    await db.migrate()
    table = NoteCacheRow.__table__
    commits: list[int] = []
    event.listen(db.engine.sync_engine, "commit", lambda conn: commits.append(1))
    try:

        def insert(session_id: str) -> Any:
            def work(conn: Any) -> str:
                conn.execute(table.insert(), {"sessionId": session_id, "note": "n", "ttl": 1})
                return session_id

            return work

        names = [f"s{n}" for n in range(40)]
        outcomes = await asyncio.gather(*(db.write(insert(name)) for name in names))
        assert outcomes == names
        assert len(commits) < len(names)  # they shared commits (at most 2 flushers' worth)

        def bad(conn: Any) -> None:
            conn.execute(table.insert(), {"sessionId": "bad", "note": "n", "ttl": 1})
            raise RuntimeError("bad write")

        mixed = [insert("a"), insert("b"), bad, insert("s0"), insert("c")]  # s0: a duplicate
        results = await asyncio.gather(*(db.write(w) for w in mixed), return_exceptions=True)
        assert results[:2] == ["a", "b"] and results[4] == "c"
        assert isinstance(results[2], RuntimeError)
        assert "duplicate key" in str(results[3])  # its own error, nobody else's
        rows = await db.read(lambda conn: conn.execute(table.select()).mappings().all())
        assert sorted(r["sessionId"] for r in rows) == sorted([*names, "a", "b", "c"])
    finally:
        await db.dispose()
