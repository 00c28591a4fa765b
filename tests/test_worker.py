"""The serial worker thread behind SQLite's reader and writer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from appconnect.store.worker import SerialWorker, run_each


async def test_jobs_run_in_order_on_one_other_thread() -> None:
    worker = SerialWorker("test-worker")
    seen: list[tuple[int, str]] = []

    def job(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * 2

    results = await asyncio.gather(*(worker.run(job, n) for n in range(50)))
    worker.shutdown()

    assert results == [n * 2 for n in range(50)]
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"test-worker"}


async def test_an_exception_reaches_the_caller_and_the_worker_goes_on() -> None:
    worker = SerialWorker("test-worker")

    def boom(_: None) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await worker.run(boom, None)
    assert await worker.run(lambda x: x + 1, 1) == 2
    worker.shutdown()


async def test_a_cancelled_caller_does_not_stop_the_worker() -> None:
    worker = SerialWorker("test-worker")
    release = threading.Event()

    waiting = asyncio.create_task(worker.run(lambda _: release.wait(5), None))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await worker.run(lambda x: x, "still here") == "still here"
    worker.shutdown()


async def test_a_batch_keeps_order_and_each_jobs_own_outcome() -> None:
    """Jobs that queued while one ran are taken together; by default each still runs alone."""
    batches: list[int] = []

    def execute(calls: Any) -> Any:
        batches.append(len(calls))
        return run_each(calls)

    worker = SerialWorker("test-worker", execute=execute, max_batch=8)
    # Events, not sleeps: under CPU load the thread may take its first job late, and a fixed
    # sleep then let the five later jobs join the first batch.
    running, gate = threading.Event(), threading.Event()

    def blocker(_: None) -> bool:
        running.set()
        return gate.wait(30)

    first = asyncio.create_task(worker.run(blocker, None))
    await asyncio.to_thread(running.wait, 30)  # the thread holds the first job, alone
    assert running.is_set()

    def job(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    queued = [asyncio.create_task(worker.run(job, n)) for n in range(5)]
    await asyncio.sleep(0)  # each task runs up to its await: all five jobs are queued
    assert batches == [1] and not any(task.done() for task in queued)
    gate.set()
    await first
    outcomes = await asyncio.gather(*queued, return_exceptions=True)
    worker.shutdown()

    assert batches == [1, 5]
    assert outcomes[:2] == [0, 1] and outcomes[3:] == [3, 4]
    assert isinstance(outcomes[2], ValueError)


async def test_a_failing_runner_fails_its_batch_and_the_thread_goes_on() -> None:
    calls = 0

    def execute(batch: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database file unavailable")
        return run_each(batch)

    worker = SerialWorker("test-worker", execute=execute)
    with pytest.raises(OSError, match="unavailable"):
        await worker.run(lambda x: x, 1)
    assert await worker.run(lambda x: x, 2) == 2
    worker.shutdown()


async def test_a_stopped_worker_is_joined_and_takes_no_more_jobs() -> None:
    worker = SerialWorker("test-worker")
    assert await worker.run(lambda x: x + 1, 1) == 2
    thread = worker._thread
    assert thread is not None and thread.is_alive()
    await worker.aclose()
    assert not thread.is_alive() and worker.closed
    with pytest.raises(RuntimeError, match="shut down"):
        await worker.run(lambda x: x, 1)  # no second thread ever consumes the queue
    await worker.aclose()  # idempotent
