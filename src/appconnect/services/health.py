"""Readiness: can this process serve requests right now (database and key-value store)?"""

from __future__ import annotations

import asyncio
import logging

from appconnect.runtime import Runtime

logger = logging.getLogger("appconnect.health")

TIMEOUT = 5.0  # seconds each dependency may take to answer


async def readiness(rt: Runtime) -> tuple[bool, dict[str, str]]:
    """``(ready, {dependency: "ok" | "error: <what>"})``; never raises."""
    checks: dict[str, str] = {}
    for name, probe in (("database", rt.db.ping), ("kv", lambda: rt.kv.get("appconnect:readyz"))):
        try:
            await asyncio.wait_for(probe(), TIMEOUT)
        except Exception as exc:
            logger.warning("readiness: %s is not available: %s", name, exc)
            checks[name] = f"error: {type(exc).__name__}"
        else:
            checks[name] = "ok"
    return all(v == "ok" for v in checks.values()), checks
