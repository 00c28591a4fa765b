"""Version stamps: a cheap cross-worker "has this changed?" for per-process caches.

Each worker keeps users and session generations in memory for a few seconds
(``APPCONNECT_USER_CACHE_TTL``), because reading them on every request costs more than the rest
of a request. With several workers that cache must not outlive a change another worker made (a
logout, a token refresh): a stamp is a random value per key in the shared key-value store
(Redis), replaced by every change. A worker remembers the stamp it read *before* loading a
value and trusts its cached copy only while the stamp is unchanged, so a change made anywhere is
seen everywhere at the next request, at the cost of one key-value read.

Without a shared store (one process) no stamps are used: the process that changes a value
updates its own cache, which is all there is.
"""

from __future__ import annotations

import logging
import secrets

from appconnect.kv.base import KeyValueStore

logger = logging.getLogger("appconnect.kv")

# A stamp outlives every cache entry that could have been filled under its previous value (those
# live seconds): an expired stamp reads as "never changed", which only entries younger than the
# expiry could confuse with an older state.
STAMP_TTL = 24 * 3600.0
_PREFIX = "stamp:"


class StampUnavailable(RuntimeError):
    """The shared store could not be read: callers bypass their cache (never trust it blind)."""


class Stamps:
    """Read and replace stamps in a shared key-value store."""

    def __init__(self, kv: KeyValueStore, *, ttl: float = STAMP_TTL) -> None:
        self._kv = kv
        self._ttl = ttl

    async def read(self, key: str) -> str:
        """The current stamp of ``key`` (``""`` when it never changed, or its stamp expired)."""
        try:
            return await self._kv.get(_PREFIX + key) or ""
        except Exception as exc:  # Redis down: the caller reads the database instead
            raise StampUnavailable(str(exc)) from exc

    async def bump(self, key: str) -> None:
        """Mark ``key`` as changed for every worker (call it *after* the change is committed)."""
        try:
            await self._kv.set(_PREFIX + key, secrets.token_hex(8), self._ttl)
        except Exception:
            # The change itself is committed; other workers see it when their entries expire.
            logger.warning("could not publish a change of %s to other workers", key, exc_info=True)
