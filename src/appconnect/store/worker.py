"""A thread that runs blocking database work in order and hands results back to the loop.

SQLite's driver blocks, so the server runs its SQLite transactions on two dedicated threads
(one writer, one reader; see :class:`appconnect.store.db.Database`). ``loop.run_in_executor``
would do, but each hand-off through it builds a ``concurrent.futures.Future``, takes its
condition lock several times and chains it to an asyncio future: under load that bookkeeping
was ~5% of a call-log create's CPU, more than the INSERT it carried. Here a job is a tuple on
a ``SimpleQueue`` and results come back with one ``call_soon_threadsafe`` per batch.

The thread is started on first use and stopped (and joined) by :meth:`SerialWorker.aclose`;
a stopped worker accepts no more jobs.

Batches: when jobs have queued up while one ran, the thread takes them all (up to
``max_batch``) and gives them to ``execute`` together, which may run them in one database
transaction (group commit; see ``Database``). The default runs them one by one.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
A = TypeVar("A")

Call = tuple[Callable[[Any], Any], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, exception)
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[Any], Any], Any]


def run_each(calls: Sequence[Call]) -> list[Outcome]:
    """Run every call on its own; an exception is that call's outcome only."""
    outcomes: list[Outcome] = []
    for fn, arg in calls:
        try:
            outcomes.append((True, fn(arg)))
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            outcomes.append((False, exc))
    return outcomes


def _deliver(results: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value) in results:
        if future.done():  # the awaiting task was cancelled meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class SerialWorker:
    """One daemon thread; :meth:`run` queues ``fn(arg)`` and awaits its result."""

    def __init__(
        self,
        name: str,
        *,
        execute: Callable[[Sequence[Call]], list[Outcome]] = run_each,
        max_batch: int = 1,
    ) -> None:
        self._name = name
        self._execute = execute
        self._max_batch = max(1, max_batch)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is shut down")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    async def run(self, fn: Callable[[A], T], arg: A) -> T:
        """Run ``fn(arg)`` on the worker thread, after every job queued before it.

        One thread ever consumes the queue: after :meth:`shutdown` no job is accepted (a second
        thread could otherwise take jobs out of order, or the first thread's stop signal).
        """
        if self._thread is None or self._closed:
            self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn, arg))
        return await future

    def _take_batch(self, first: _Job) -> tuple[list[_Job], bool]:
        """``first`` plus the jobs already waiting; ``True`` if the stop signal was seen."""
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
        return batch, False

    def _loop(self) -> None:
        stopping = False
        while not stopping and (first := self._jobs.get()) is not None:
            batch, stopping = self._take_batch(first)
            try:
                outcomes = self._execute([(fn, arg) for _, _, fn, arg in batch])
            except BaseException as exc:
                # A runner that raises must not kill the thread (every later caller would
                # hang): each job of the batch gets the exception instead.
                outcomes = [(False, exc)] * len(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Outcome]]] = {}
            for (loop, future, _, _), outcome in zip(batch, outcomes, strict=True):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, results in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_deliver, results)
                except RuntimeError:  # the loop closed while the jobs ran: nobody is waiting
                    pass
            del batch, outcomes, by_loop, first

    @property
    def closed(self) -> bool:
        return self._closed

    def shutdown(self) -> threading.Thread | None:
        """Refuse new jobs and stop the thread after the ones already queued.

        Returns the thread, for the caller to join (:meth:`aclose` does it off the loop).
        """
        with self._start_lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._jobs.put(None)
        return thread

    async def aclose(self) -> None:
        """:meth:`shutdown`, then wait for the thread to finish (without blocking the loop)."""
        thread = self.shutdown()
        if thread is not None and thread is not threading.current_thread():
            await asyncio.to_thread(thread.join)
