"""One piece of work at a time across every worker process, its result handed to the waiters.

In one process, identical concurrent contact look-ups already share one task (see
:mod:`appconnect.services.contacts`). With several workers behind a load balancer, a call pop
reaches each of them; with a shared key-value store (Redis) they coordinate too: the first takes
a lock named after the work and does it, then publishes the result for a few seconds; the others
wait on the lock and take that result instead of repeating the CRM call. A waiter only takes a
result finished after it started waiting, exactly what joining an in-flight call gives.

Without a shared store, or when the lock cannot be had in time, the work simply runs: this is
an optimisation, never a condition for correctness.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import orjson

from appconnect.kv import LockTimeout
from appconnect.runtime import Runtime

logger = logging.getLogger("appconnect.flights")

# Seconds a published result stays readable: enough for the waiters queued on the lock.
RESULT_TTL = 10.0


def flight_key(*parts: Any) -> str:
    """A short, stable key for the work ``parts`` describe (any repr-able values)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


async def across_workers(
    rt: Runtime, key: str, work: Callable[[], Awaitable[dict[str, Any]]], *, wait: float
) -> dict[str, Any]:
    """``work()``'s result, computed by whichever worker got there first (JSON-able dicts)."""
    if not rt.kv.shared:
        return await work()
    started = time.time()
    async with AsyncExitStack() as held:
        try:
            await held.enter_async_context(rt.kv.lock(f"flight:{key}", timeout=wait, wait=wait))
        except LockTimeout:
            logger.warning("waited %g s for another worker's identical call; calling again", wait)
            return await work()
        except Exception:  # the store is down: the work does not depend on it
            logger.warning("no shared lock for flight %s; calling alone", key, exc_info=True)
            return await work()
        published = await _published(rt, key, started)
        if published is not None:
            return published
        result = await work()
        await _publish(rt, key, result)
        return result
    raise AssertionError("unreachable")  # pragma: no cover (mypy: the block always returns)


async def _published(rt: Runtime, key: str, since: float) -> dict[str, Any] | None:
    try:
        raw = await rt.kv.get(f"flight-result:{key}")
        if raw is None:
            return None
        entry = orjson.loads(raw)
    except Exception:  # unreadable: do the work ourselves
        return None
    if not isinstance(entry, dict) or entry.get("at", 0) < since:
        return None  # finished before this request started: not the call it would join
    result = entry.get("result")
    return result if isinstance(result, dict) else None


async def _publish(rt: Runtime, key: str, result: dict[str, Any]) -> None:
    try:
        raw = orjson.dumps({"at": time.time(), "result": result})
        await rt.kv.set(f"flight-result:{key}", raw.decode(), RESULT_TTL)
    except Exception:  # not JSON-able, or the store is down: waiters call on their own
        logger.debug("result of flight %s not published", key, exc_info=True)
