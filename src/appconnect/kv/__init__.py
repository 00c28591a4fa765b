"""A small async key-value store with locks: in-memory for one process, Redis for many."""

from appconnect.kv.base import KeyValueStore, LockTimeout
from appconnect.kv.memory import MemoryStore
from appconnect.kv.stamps import Stamps, StampUnavailable


def create_store(redis_url: str | None) -> KeyValueStore:
    """Redis when configured (shared by every worker), else this process's memory."""
    if redis_url:
        from appconnect.kv.redis import RedisStore

        return RedisStore(redis_url)
    return MemoryStore()


__all__ = [
    "KeyValueStore",
    "LockTimeout",
    "MemoryStore",
    "StampUnavailable",
    "Stamps",
    "create_store",
]
