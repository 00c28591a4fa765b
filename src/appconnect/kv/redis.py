"""Redis backend: locks and values shared by every worker and host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import LockError

from appconnect.kv.base import LockTimeout
from appconnect.kv.ratelimit import SharedRateLimiter

_PREFIX = "appconnect:"


class RedisStore:
    shared = True

    def __init__(self, url: str) -> None:
        self.client: Redis = Redis.from_url(url, decode_responses=True)

    async def get(self, key: str) -> str | None:
        value = await self.client.get(_PREFIX + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.client.set(_PREFIX + key, value, px=None if ttl is None else int(ttl * 1000))

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        done = await self.client.set(
            _PREFIX + key, value, nx=True, px=None if ttl is None else int(ttl * 1000)
        )
        return bool(done)

    async def delete(self, key: str) -> None:
        await self.client.delete(_PREFIX + key)

    @asynccontextmanager
    async def lock(
        self, name: str, *, timeout: float = 20.0, wait: float = 20.0
    ) -> AsyncIterator[None]:
        lock = self.client.lock(
            _PREFIX + "lock:" + name, timeout=timeout, blocking_timeout=wait, sleep=0.05
        )
        if not await lock.acquire():
            raise LockTimeout(f"lock {name!r} not acquired within {wait}s")
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:
                pass  # expired while held; someone else may own it now

    def rate_limiter(self, name: str, per_second: float) -> SharedRateLimiter:
        """A request budget shared with every process using this Redis."""
        return SharedRateLimiter(self.client, _PREFIX + "rate:" + name, per_second)

    async def close(self) -> None:
        await self.client.aclose()
