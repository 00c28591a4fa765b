"""A thread that runs blocking database work in order and hands results back to the loop.

SQLite's driver blocks, so the server runs its SQLite transactions on two dedicated threads
(one writer, one reader; see :class:`appconnect.store.db.Database`). ``loop.run_in_executor``
would do, but each hand-off through it builds a ``concurrent.futures.Future``, takes its
condition lock several times and chains it to an asyncio future: under load that bookkeeping
was ~5% of a call-log create's CPU, more than the INSERT it carried. Here a job is a tuple on
a ``SimpleQueue`` and its result comes back with one ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
A = TypeVar("A")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[Any], Any], Any]


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the awaiting task may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class SerialWorker:
    """One daemon thread; :meth:`run` queues ``fn(arg)`` and awaits its result."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    async def run(self, fn: Callable[[A], T], arg: A) -> T:
        """Run ``fn(arg)`` on the worker thread, after every job queued before it."""
        if self._thread is None:
            self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn, arg))
        return await future

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, arg = job
            try:
                outcome: tuple[Callable[..., None], Any] = (_succeed, fn(arg))
            except BaseException as exc:  # handed to the awaiting task, which re-raises it
                outcome = (_fail, exc)
            try:
                loop.call_soon_threadsafe(outcome[0], future, outcome[1])
            except RuntimeError:  # the loop closed while the job ran: nobody is waiting
                pass
            del job, future, outcome

    def shutdown(self) -> None:
        """Stop the thread after the jobs already queued (it is a daemon: never joined)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None
