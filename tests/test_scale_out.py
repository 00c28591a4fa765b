"""Several workers on one database (and one Redis): what one worker changes, the others see.

Each "worker" here is its own store or app instance in this process with its own caches, exactly
what a separate process would have; they share only the database and the key-value store.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.fakes import FakeCrm
from tests.support import add_user, bearer, serve

from appconnect import Connector, ConnectorRegistry, LicenseStatus, create_app
from appconnect.kv import KeyValueStore, MemoryStore, Stamps
from appconnect.security import SecretBox
from appconnect.settings import Settings
from appconnect.store.db import MIGRATION_LOCK_KEY, Database, MigrationLockTimeout
from appconnect.store.users import User, UserStore

POSTGRES_URL = os.environ.get("APPCONNECT_TEST_POSTGRES_URL")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def _login(store: UserStore, user_id: str = "u1", **extra: Any) -> User:
    values: dict[str, Any] = {
        "platform": "demo", "hostname": "h", "access_token": "t1", "refresh_token": "r1",
        "token_expiry": None, "timezone_name": None, "timezone_offset": None,
        "rc_account_id": None, "hashed_rc_extension_id": None, "platform_additional_info": {},
    }  # fmt: skip
    values.update(extra)
    return await store.upsert_login(user_id=user_id, **values)


# -- UserStore.save writes what changed ------------------------------------------------------


async def test_two_workers_saving_different_fields_both_keep_their_change(db: Database) -> None:
    box = SecretBox("secret")
    one, two = UserStore(db, box), UserStore(db, box)
    await _login(one)
    refreshing, configuring = await one.get("u1"), await two.get("u1")
    assert refreshing is not None and configuring is not None
    refreshing.access_token, refreshing.refresh_token = "t2", "r2"  # a token refresh
    configuring.user_settings = {"autoLog": {"value": True}}  # a settings change, elsewhere
    configuring.hostname = "h2"
    await asyncio.gather(refreshing.save(), configuring.save())

    stored = await UserStore(db, box).get("u1")
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == ("t2", "r2")
    assert stored.user_settings == {"autoLog": {"value": True}} and stored.hostname == "h2"


async def test_a_stale_copy_saved_later_does_not_undo_a_token_refresh(db: Database) -> None:
    box = SecretBox("secret")
    store = UserStore(db, box)
    await _login(store, platform_additional_info={"a": 1})
    stale = await store.get("u1")
    fresh = await store.get("u1", fresh=True)
    assert stale is not None and fresh is not None
    fresh.access_token = "t2"
    await fresh.save()
    stale.platform_additional_info["b"] = 2
    await stale.save()  # only platformAdditionalInfo changed on this copy

    stored = await UserStore(db, box).get("u1")
    assert stored is not None
    assert stored.access_token == "t2" and stored.platform_additional_info == {"a": 1, "b": 2}


async def test_a_user_built_in_memory_or_whose_row_is_gone_is_written_whole(db: Database) -> None:
    box = SecretBox("secret")
    store = UserStore(db, box)
    built = User(id="u2", platform="demo", access_token="t", user_settings={"x": 1})
    built.attach_store(store)
    await built.save()
    loaded = await store.get("u2")
    assert loaded is not None and (loaded.platform, loaded.access_token) == ("demo", "t")
    assert loaded.user_settings == {"x": 1} and loaded.created_at is not None

    await store.delete("u2")
    loaded.hostname = "again"
    await loaded.save()  # the reference's save() recreates a deleted row
    back = await store.get("u2")
    assert back is not None and (back.hostname, back.access_token) == ("again", "t")


# -- stamps: one worker's change is seen by the others at once -------------------------------


class _BrokenKv(MemoryStore):
    shared = True

    async def get(self, key: str) -> str | None:
        raise ConnectionError("redis is down")


async def test_without_stamps_other_workers_see_a_change_only_after_the_ttl(db: Database) -> None:
    box = SecretBox("secret")
    mine = UserStore(db, box, cache_ttl=60)
    theirs = UserStore(db, box)
    await _login(mine)
    assert (await mine.get("u1")) is not None  # cached here
    other = await theirs.get("u1")
    assert other is not None
    other.access_token = "t2"
    await other.save()
    cached = await mine.get("u1")
    assert cached is not None and cached.access_token == "t1"  # one process: documented bound


async def test_with_shared_stamps_a_change_is_seen_by_every_worker_at_once(
    db: Database, redis_url: str
) -> None:
    from appconnect.kv.redis import RedisStore

    box = SecretBox("secret")
    kv_a, kv_b = RedisStore(redis_url), RedisStore(redis_url)  # one connection pool per process
    try:
        mine = UserStore(db, box, cache_ttl=60, stamps=Stamps(kv_a))
        theirs = UserStore(db, box, cache_ttl=60, stamps=Stamps(kv_b))
        await _login(mine)
        for _ in range(2):  # cached in both
            assert (await mine.get("u1")) is not None and (await theirs.get("u1")) is not None
        other = await theirs.get("u1")
        assert other is not None
        other.access_token = "t2"
        await other.save()
        seen = await mine.get("u1")
        assert seen is not None and seen.access_token == "t2"
        await theirs.delete("u1")
        assert await mine.get("u1") is None
    finally:
        await kv_a.close()
        await kv_b.close()


async def test_an_unreadable_stamp_means_reading_the_database(db: Database) -> None:
    box = SecretBox("secret")
    mine = UserStore(db, box, cache_ttl=60, stamps=Stamps(_BrokenKv()))
    theirs = UserStore(db, box)
    await _login(theirs)
    assert (await mine.get("u1")) is not None
    other = await theirs.get("u1")
    assert other is not None
    other.access_token = "t2"
    await other.save()
    seen = await mine.get("u1")
    assert seen is not None and seen.access_token == "t2"  # never a blind cache hit


class KeyCRM(Connector):
    platform = "keycrm"
    auth_type = "apiKey"

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def get_license_status(self, **_: Any) -> LicenseStatus:
        return LicenseStatus(is_license_valid=True, license_status="Basic")

    async def unauthorize(self, *, user: User) -> dict[str, Any]:
        user.access_token = ""
        await user.save()
        return {"successful": True, "returnMessage": {"message": "Logged out"}}


def _worker(settings: Settings, kv: KeyValueStore | None) -> Any:
    registry = ConnectorRegistry()
    registry.register(KeyCRM())
    return create_app(registry, settings=settings, http_transport=FakeCrm().transport, kv=kv)


async def test_a_logout_in_one_worker_is_honoured_by_the_other(
    make_settings: Any, redis_url: str
) -> None:
    settings = make_settings(APPCONNECT_USER_CACHE_TTL=60, REDIS_URL=redis_url)
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    async with serve(_worker(settings, None)) as (one, rt_one), \
            serve(_worker(settings, None)) as (two, rt_two):  # fmt: skip
        assert rt_one.kv.shared and rt_one.kv is not rt_two.kv
        token = await add_user(rt_one, user_id, "keycrm")
        for client in (one, two, one, two):  # both workers have cached the user and session
            reply = await client.get("/licenseStatus", headers=bearer(token))
            assert reply.json()["isLicenseValid"] is True, reply.text
        assert (await two.post("/unAuthorize", headers=bearer(token))).status_code == 200
        refused = await one.get("/licenseStatus", headers=bearer(token))
        assert refused.json()["licenseStatus"] == "Invalid (Invalid user session)"
        user = await rt_one.users.get(user_id)
        assert user is not None and user.access_token == ""  # the other worker's save, seen


async def test_without_redis_each_worker_keeps_its_own_memory(make_settings: Any) -> None:
    settings = make_settings(REDIS_URL=None)
    async with serve(_worker(settings, None)) as (_client, rt):
        assert isinstance(rt.kv, MemoryStore) and not rt.kv.shared


# -- identical look-ups in two workers: one CRM call ----------------------------------------


def _lookup_worker(settings: Settings, crm: FakeCrm) -> Any:
    from tests.fakes import FakeCrmConnector

    registry = ConnectorRegistry()
    registry.register(FakeCrmConnector())
    return create_app(registry, settings=settings, http_transport=crm.transport)


async def _wait_for_joined(rt: Any, count: int) -> None:
    from appconnect.services import contacts

    async def joined() -> None:
        while True:
            flights = list(rt.state.get(contacts.INFLIGHT_STATE_KEY, {}).values())
            if flights and flights[0].joined >= count:
                return
            await asyncio.sleep(0.005)

    await asyncio.wait_for(joined(), timeout=10)


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
async def test_identical_look_ups_in_two_workers_share_one_crm_call(
    make_settings: Any, redis_url: str, shared: bool
) -> None:
    crm = FakeCrm()
    jane = {"id": "c-1", "name": "Jane", "phone": "+14155550100"}
    crm.on("GET", "/contacts", json=[jane])
    crm.gate = asyncio.Event()
    settings = make_settings(REDIS_URL=redis_url if shared else None)
    async with serve(_lookup_worker(settings, crm)) as (one, rt_one), \
            serve(_lookup_worker(settings, crm)) as (two, rt_two):  # fmt: skip
        token = await add_user(rt_one, "u1", "testcrm", rc_account_id="acc-1")

        async def find(client: Any) -> Any:
            reply = await client.get("/contact", params={"phoneNumber": "+14155550100"},
                                     headers=bearer(token))  # fmt: skip
            return reply.json()

        replies = [asyncio.ensure_future(find(c)) for c in (one, two, one, two, one, two)]
        await crm.wait_for_requests(1)
        await _wait_for_joined(rt_one, 3)
        await _wait_for_joined(rt_two, 3)  # worker two's look-up has started too
        crm.gate.set()
        answers = await asyncio.gather(*replies)
    assert all(a["contact"] == [jane] for a in answers), answers
    assert len(crm.calls("GET", "/contacts")) == (1 if shared else 2)


# -- migrations run once -----------------------------------------------------------------------


@pytest.fixture
def postgres_url(settings: Settings) -> str:
    if not settings.database_url.startswith("postgres"):
        pytest.skip("advisory locks are PostgreSQL's")
    return settings.database_url


async def _hold_migration_lock(url: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    return conn


async def test_a_worker_waits_for_another_ones_migration_then_finds_it_done(
    postgres_url: str,
) -> None:
    holder = await _hold_migration_lock(postgres_url)
    waiting = Database(postgres_url)
    try:
        started = asyncio.ensure_future(waiting.migrate(wait=30))
        await asyncio.sleep(0.6)
        assert not started.done()  # blocked on the lock
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await asyncio.wait_for(started, 30)
    finally:
        await holder.close()
        await waiting.dispose()


async def test_a_migration_lock_held_too_long_is_a_clear_error(postgres_url: str) -> None:
    holder = await _hold_migration_lock(postgres_url)
    waiting = Database(postgres_url)
    try:
        with pytest.raises(MigrationLockTimeout, match="migrating the database"):
            await waiting.migrate(wait=0.5)
    finally:
        await holder.close()
        await waiting.dispose()


async def test_concurrent_migrations_of_a_fresh_database_all_succeed(postgres_url: str) -> None:
    workers = [Database(postgres_url) for _ in range(4)]
    try:
        await asyncio.gather(*(w.migrate() for w in workers))  # unlocked, these raced on DDL
        async with workers[0].engine.connect() as conn:
            from sqlalchemy import text

            version = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
        assert version == 1
    finally:
        for w in workers:
            await w.dispose()


# -- one rate budget for every worker --------------------------------------------------------


async def test_two_workers_share_one_crm_rate_budget(redis_url: str) -> None:
    from appconnect.kv.redis import RedisStore

    one, two = RedisStore(redis_url), RedisStore(redis_url)
    try:
        limiters = [kv.rate_limiter("https://crm.example", 2) for kv in (one, two)]
        delays = [await limiters[n % 2].reserve() for n in range(8)]
    finally:
        await one.close()
        await two.close()
    # 2 a second: a burst of 2 (one second's worth), whoever asks, then one slot every 0.5 s
    # (each reservation's wait is its slot minus the time already passed: a little under 0.5
    # more than the one before; the reservations themselves take milliseconds).
    assert delays[:2] == [0.0, 0.0]
    steps = [b - a for a, b in itertools.pairwise(delays[1:])]
    assert all(0.25 < step <= 0.5 + 1e-6 for step in steps), delays


def test_without_redis_each_worker_has_its_own_budget() -> None:
    from aiolimiter import AsyncLimiter

    limiter = MemoryStore().rate_limiter("https://crm.example", 5)
    assert isinstance(limiter, AsyncLimiter)


async def test_look_ups_still_work_while_redis_is_down(make_settings: Any) -> None:
    from appconnect.kv.redis import RedisStore

    crm = FakeCrm()
    jane = {"id": "c-1", "name": "Jane", "phone": "+14155550100"}
    crm.on("GET", "/contacts", json=[jane])
    dead = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    registry = ConnectorRegistry()
    from tests.fakes import FakeCrmConnector

    registry.register(FakeCrmConnector())
    app = create_app(registry, settings=make_settings(APPCONNECT_USER_CACHE_TTL=60),
                     http_transport=crm.transport, kv=dead)  # fmt: skip
    async with serve(app) as (client, rt):
        token = await add_user(rt, "u1", "testcrm", rc_account_id="acc-1")
        for _ in range(2):  # users read from the database, the look-up made alone
            reply = await client.get("/contact", params={"phoneNumber": "+14155550100"},
                                     headers=bearer(token))  # fmt: skip
            assert reply.json()["contact"] == [jane], reply.text
