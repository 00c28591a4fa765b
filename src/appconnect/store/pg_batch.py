"""Group commit for PostgreSQL: concurrent writes share one transaction and one commit.

Each ``Database.write`` used to be a transaction of its own, and on PostgreSQL a commit waits
for the WAL to reach the disk: under concurrent logging, commits were the bottleneck.
``python -m bench.pg_writes`` (64 concurrent writers of small upserts, the server's pool) measured
430-625 writes/s with one transaction per write against 3,400-5,200 with the writes that queue up
meanwhile committed together (2 cores, a busy machine).

In the server (``bench/run.py --setup pg-redis``, 2 workers, 64 connections, same machine and
hour) ``POST /callLog`` went from 196 to 430 requests/s (p99 662 -> 316 ms) and ``PATCH
/callLog`` from 193 to 231.

So writes queue here and a few flusher tasks (each on one pooled connection) commit whatever has
queued, in arrival order, up to ``max_batch`` at a time. Four flushers did a little better than
two (a batch's statements are round trips one after the other; more flushers overlap them).
No caller hears of success before the commit. As with SQLite's group commit (in
:mod:`appconnect.store.db`), if any job of a batch raises (a constraint, a deadlock with another
batch), the whole transaction is rolled back and every job runs again in a transaction of its
own, so one job's failure never changes another's outcome.
Jobs are plain synchronous Core code (``work(connection)``), run with ``run_sync``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("appconnect.store")

Job = tuple[Callable[[Connection], Any], "asyncio.Future[Any]"]


class WriteBatcher:
    """Queue writes; ``flushers`` tasks commit what queued up, ``max_batch`` jobs at a time."""

    def __init__(self, engine: AsyncEngine, *, flushers: int = 4, max_batch: int = 64) -> None:
        self._engine = engine
        self._flushers = flushers
        self._max_batch = max_batch
        self._queue: deque[Job] = deque()
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, work: Callable[[Connection], Any]) -> Any:
        """Run ``work`` in a committed transaction (shared with other queued writes)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if len(self._running) < self._flushers:
            task = asyncio.ensure_future(self._flush())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def _flush(self) -> None:
        while self._queue:
            batch: list[Job] = []
            while self._queue and len(batch) < self._max_batch:
                job = self._queue.popleft()
                if not job[1].cancelled():  # its caller gave up before it started
                    batch.append(job)
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[Job]) -> None:
        if len(batch) > 1:
            try:
                async with self._engine.begin() as conn:
                    results = await conn.run_sync(lambda c: [work(c) for work, _ in batch])
            except Exception:
                pass  # rolled back: each job again, alone
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        for work, future in batch:
            try:
                async with self._engine.begin() as conn:
                    result = await conn.run_sync(work)
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if not future.done():
                    future.set_result(result)

    async def aclose(self) -> None:
        """Let queued writes commit (the engine is disposed after this)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
