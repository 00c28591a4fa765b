"""The key-value contract shared by the memory and Redis backends."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from appconnect.kv.ratelimit import Limiter


class LockTimeout(TimeoutError):
    """The lock was held by someone else for longer than we were willing to wait."""


class KeyValueStore(Protocol):
    """Strings with optional expiry, plus named mutual-exclusion locks.

    ``shared`` tells whether other processes see the same data (Redis) or only this one
    (memory): per-process caches consult stamps (:mod:`appconnect.kv.stamps`) only when shared.
    """

    shared: bool

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set only if absent; ``True`` if this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    def lock(
        self, name: str, *, timeout: float = 20.0, wait: float = 20.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold ``name`` exclusively; expires after ``timeout`` s; waits at most ``wait`` s."""
        ...

    def rate_limiter(self, name: str, per_second: float) -> Limiter:
        """A budget of ``per_second`` requests a second named ``name`` (shared when shared)."""
        ...

    async def close(self) -> None: ...
