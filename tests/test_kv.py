"""The key-value store and its locks, in memory and (when configured) on a real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from appconnect.kv import KeyValueStore, LockTimeout, MemoryStore

REDIS_URL = os.environ.get("APPCONNECT_TEST_REDIS_URL")


@pytest.fixture(params=["memory", *(["redis"] if REDIS_URL else [])])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    if request.param == "memory":
        kv: KeyValueStore = MemoryStore()
    else:
        from appconnect.kv.redis import RedisStore

        kv = RedisStore(REDIS_URL or "")
    yield kv
    await kv.close()


async def test_values_expire_and_add_is_exclusive(store: KeyValueStore) -> None:
    key = f"k-{uuid.uuid4()}"
    assert await store.get(key) is None
    assert await store.add(key, "one", ttl=0.2)
    assert not await store.add(key, "two")
    assert await store.get(key) == "one"
    await asyncio.sleep(0.3)
    assert await store.get(key) is None
    await store.set(key, "x")
    await store.delete(key)
    assert await store.get(key) is None


async def test_lock_serialises_holders(store: KeyValueStore) -> None:
    name = f"lock-{uuid.uuid4()}"
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with store.lock(name, timeout=5, wait=5):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(10)))
    assert peak == 1


async def test_lock_wait_is_bounded(store: KeyValueStore) -> None:
    name = f"lock-{uuid.uuid4()}"
    async with store.lock(name, timeout=5, wait=1):
        with pytest.raises(LockTimeout):
            async with store.lock(name, timeout=5, wait=0.1):
                pass
