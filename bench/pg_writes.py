"""Does batching PostgreSQL writes pay? ``python -m bench.pg_writes [--url ...]``.

SQLite commits the writes that queue up meanwhile in one transaction (group commit,
``Database._write_batch``): a commit is its writer thread's largest cost. This measures the same
question on PostgreSQL with the server's engine settings (asyncpg, pool 10 + 20 overflow):
``--writers`` concurrent tasks, each doing small upserts (the size of a call-log reservation)
for ``--seconds``, either one transaction per write (what ``Database.write`` does), or handed to
one flusher that commits whatever queued up in one transaction. Prints writes/s of each.
The database must have 'bench' in its name: the script creates and drops its own table there.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

UPSERT = text(
    "INSERT INTO bench_writes (id, v) VALUES (:id, :v) "
    "ON CONFLICT (id) DO UPDATE SET v = excluded.v"
)


async def each(engine: Any, writers: int, seconds: float) -> int:
    done = 0
    stop = time.monotonic() + seconds

    async def writer(n: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < stop:
            async with engine.begin() as conn:
                await conn.execute(UPSERT, {"id": f"e{n}-{i}", "v": "x" * 200})
            done += 1
            i += 1

    await asyncio.gather(*(writer(n) for n in range(writers)))
    return done


async def batched(engine: Any, writers: int, seconds: float) -> int:
    done = 0
    stop = time.monotonic() + seconds
    queue: list[tuple[dict[str, str], asyncio.Future[None]]] = []
    wake = asyncio.Event()

    async def flusher() -> None:
        while time.monotonic() < stop or queue:
            await wake.wait()
            wake.clear()
            batch = queue[:]
            del queue[: len(batch)]
            if not batch:
                continue
            async with engine.begin() as conn:
                await conn.execute(UPSERT, [params for params, _ in batch])
            for _, future in batch:
                future.set_result(None)

    async def writer(n: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < stop:
            future = asyncio.get_running_loop().create_future()
            queue.append(({"id": f"b{n}-{i}", "v": "x" * 200}, future))
            wake.set()
            await future
            done += 1
            i += 1

    flushers = [asyncio.ensure_future(flusher()) for _ in range(2)]
    await asyncio.gather(*(writer(n) for n in range(writers)))
    wake.set()
    for task in flushers:
        task.cancel()
    await asyncio.gather(*flushers, return_exceptions=True)
    return done


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/appconnect_bench"
    )
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if "bench" not in args.url.rsplit("/", 1)[-1]:
        raise SystemExit("--url must name a database with 'bench' in its name")
    engine = create_async_engine(args.url, pool_size=10, max_overflow=20)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_writes"))
        await conn.execute(text("CREATE TABLE bench_writes (id text PRIMARY KEY, v text)"))
    try:
        for round_ in range(1, args.rounds + 1):
            for name, mode in (("one transaction per write", each), ("batched", batched)):
                count = await mode(engine, args.writers, args.seconds)
                rate = count / args.seconds
                print(f"round {round_}: {name:26s} {rate:8,.0f} writes/s ({args.writers} writers)")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS bench_writes"))
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
