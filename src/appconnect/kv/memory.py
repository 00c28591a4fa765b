"""In-process backend: correct for one process (the default single-worker server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from appconnect.kv.base import LockTimeout
from appconnect.kv.ratelimit import Limiter, local_limiter


class MemoryStore:
    shared = False

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = (value, None if ttl is None else time.monotonic() + ttl)

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    @asynccontextmanager
    async def lock(
        self, name: str, *, timeout: float = 20.0, wait: float = 20.0
    ) -> AsyncIterator[None]:
        # ``timeout`` (auto-expiry) matters only across processes; within one, holders release.
        lock = self._locks.setdefault(name, asyncio.Lock())
        self._waiters[name] = self._waiters.get(name, 0) + 1
        try:
            try:
                await asyncio.wait_for(lock.acquire(), wait)
            except TimeoutError as exc:
                raise LockTimeout(f"lock {name!r} not acquired within {wait}s") from exc
            try:
                yield
            finally:
                lock.release()
        finally:
            self._waiters[name] -= 1
            if not self._waiters[name]:
                del self._waiters[name]
                if not lock.locked():
                    self._locks.pop(name, None)

    def rate_limiter(self, name: str, per_second: float) -> Limiter:
        return local_limiter(name, per_second)

    async def close(self) -> None:
        self._data.clear()
