"""Rate limits shared by every worker: one budget per CRM origin, kept in Redis.

``APPCONNECT_CRM_RATE_LIMIT`` and ``Connector.rate_limit`` promise the CRM at most N requests a
second. Kept in process memory (:class:`aiolimiter.AsyncLimiter`) that held per process, so N
workers sent up to N times the limit. With Redis the budget is one for all: each request reserves
the next slot atomically (GCRA: a burst of up to N requests within a second, then one every 1/N s),
on Redis's own clock so hosts need not agree on the time, and waits until its slot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from aiolimiter import AsyncLimiter

logger = logging.getLogger("appconnect.kv")

# KEYS[1]: the limiter; ARGV: seconds between requests, burst window in seconds.
# Returns the seconds to wait before sending (a string: Redis would truncate a Lua number).
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', next_tat), 'PX',
           math.ceil((next_tat - now) * 1000) + 1000)
local delay = next_tat - now - window
if delay < 0 then delay = 0 end
return string.format('%.6f', delay)
"""


class Limiter(Protocol):
    """What the outbound sender needs of a rate limiter."""

    async def acquire(self) -> None: ...


def local_limiter(_name: str, per_second: float) -> Limiter:
    """This process's own budget (one process, or no Redis)."""
    return AsyncLimiter(per_second, 1.0)


class SharedRateLimiter:
    """At most ``per_second`` requests a second under ``key``, for every process together."""

    def __init__(self, client: Any, key: str, per_second: float) -> None:
        self._script = client.register_script(_RESERVE)
        self._key = key
        self._interval = 1.0 / per_second
        self._fallback = AsyncLimiter(per_second, 1.0)

    async def reserve(self) -> float:
        """Take the next slot; the seconds until it (0: send now)."""
        return float(await self._script(keys=[self._key], args=[self._interval, 1.0]))

    async def acquire(self) -> None:
        try:
            delay = await self.reserve()
        except Exception:
            logger.warning("shared rate limit unavailable; limiting this process alone",
                           exc_info=True)  # fmt: skip
            await self._fallback.acquire()
            return
        if delay > 0:
            await asyncio.sleep(delay)
