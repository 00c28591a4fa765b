"""The database handle: one async engine and session factory per process."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import SingletonThreadPool

from appconnect.store.pg_batch import WriteBatcher
from appconnect.store.worker import Call, Outcome, SerialWorker, run_each

logger = logging.getLogger("appconnect.store")
# aiosqlite logs every statement *with its bound values* (call notes, encrypted tokens) at DEBUG;
# a deployment that turns on DEBUG logging must not get them. Its other levels stay as they are.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")

# At most this many queued SQLite jobs go to a worker thread together: queued writes share one
# transaction (see Database's batch writer); queued reads run back to back and their results
# come back to the event loop in one wake-up instead of one each (PATCH /callLog ~1,140 -> ~1,400).
BATCH_MAX = 32

# PostgreSQL advisory-lock key held while migrating (any fixed 64-bit number; "appcmigr").
MIGRATION_LOCK_KEY = 0x617070636D696772
# How long a process waits for another one's migration before giving up with an error.
MIGRATION_WAIT = 60.0

# The databases the server runs on; both speak INSERT ... ON CONFLICT.
DIALECTS = ("sqlite", "postgresql")


def conflict_insert(dialect: str) -> Callable[..., Any]:
    """The ``insert()`` construct with ``on_conflict_do_*`` for ``dialect``."""
    return sqlite_insert if dialect == "sqlite" else pg_insert


def changed(result: Any) -> bool:
    """Did a DML statement touch a row (``rowcount`` where the driver reports it)?"""
    return bool(getattr(result, "rowcount", 0))


def _create_private_file(path: str | None) -> None:
    """Create a new SQLite database file readable by its owner only (mode 0600).

    SQLite would create it with the umask's mode (often world-readable); its ``-wal`` and
    ``-shm`` files take the database file's mode. An existing file is left as it is.
    """
    if not path or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # e.g. the directory is missing: SQLite reports that itself
    os.close(fd)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class MigrationLockTimeout(RuntimeError):
    """Another process kept migrating the database for longer than we were willing to wait."""


class Database:
    """Owns the engine; hands out sessions; migrates the schema."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        # Bound values (call notes, encrypted tokens) never reach a log or an error message.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            if ":memory:" in url or url.endswith("://"):
                raise ValueError("use a file for SQLite; an in-memory database is per connection")
            _create_private_file(make_url(url).database)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer. Left to itself, a second writer spins in SQLite's busy
        # handler, which sleeps in steps up to 100 ms: under load that made write latency
        # explode. Queueing this process's writers on an asyncio lock instead hands the write
        # lock over the moment it is free. (Other processes still meet busy_timeout.)
        self._write_gate: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._in_write: ContextVar[bool] = ContextVar(f"in_write_{id(self)}", default=False)
        # SQLite's hot writes run whole transactions on one writer thread (see write()).
        self._writer: SerialWorker | None = None
        self._reader: SerialWorker | None = None
        self._sync_engine: Engine | None = None
        self._threads = threading.local()
        # PostgreSQL: writes that queue up commit together (see appconnect.store.pg_batch).
        self._batcher: WriteBatcher | None = None if self.is_sqlite else WriteBatcher(self.engine)
        if self.is_sqlite:
            self._writer = SerialWorker(
                "sqlite-writer", execute=self._write_batch, max_batch=BATCH_MAX
            )
            self._reader = SerialWorker("sqlite-reader", max_batch=BATCH_MAX)
            self._sync_engine = create_engine(
                "sqlite" + url[url.index("://") :],
                poolclass=SingletonThreadPool,
                echo=echo,
                hide_parameters=True,
            )
            event.listen(self._sync_engine, "connect", _tune_sqlite)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction (committed on success, rolled back on error)."""
        if self._write_gate is None or self._in_write.get():
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._write_gate:
            token = self._in_write.set(True)
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            finally:
                self._in_write.reset(token)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` (plain synchronous Core code) as one write transaction.

        On SQLite the whole transaction runs on a single writer thread with the stdlib driver:
        one hand-off instead of one per statement, and the database's write lock is held only
        while the statements actually run. Holding it across event-loop awaits instead (as
        :meth:`transaction` must) made every writer wait for the loop to get round to the
        holder, which under load capped call logging at ~150 requests/s. On PostgreSQL it runs
        on a pooled async connection (``run_sync``), and writes that queue up meanwhile share
        one transaction (:mod:`appconnect.store.pg_batch`); the code is the same.
        """
        if self._writer is None:
            assert self._batcher is not None
            result: T = await self._batcher.run(work)  # PostgreSQL: group commit too
            return result
        return await self._writer.run(self._write_sync, work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` (synchronous Core reads) in one hop.

        On SQLite a dedicated reader thread with its own connection runs it (WAL lets it read
        while the writer writes); on PostgreSQL a pooled async connection runs it via run_sync.
        """
        if self._reader is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(work)
        return await self._reader.run(self._read_sync, work)

    def _thread_connection(self) -> Connection:
        """This worker thread's own connection, opened on first use and then kept.

        Checking a connection out of the pool and back in for every transaction was a visible
        share of a write's CPU; each of the two threads keeps one for the process's lifetime.
        """
        conn: Connection | None = getattr(self._threads, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            assert self._sync_engine is not None
            conn = self._threads.conn = self._sync_engine.connect()
        return conn

    def _read_sync(self, work: Callable[[Connection], T]) -> T:
        conn = self._thread_connection()
        try:
            return work(conn)
        finally:
            if conn.in_transaction():  # a read ends its implicit transaction (WAL snapshot)
                conn.rollback()

    def _write_sync(self, work: Callable[[Connection], T]) -> T:
        conn = self._thread_connection()
        with conn.begin():
            return work(conn)

    def _write_batch(self, calls: Sequence[Call]) -> list[Outcome]:
        """Group commit: the writes that queued up meanwhile, in one transaction.

        A commit (WAL append and index update, with the GIL dropped and taken back around
        it) was the writer thread's largest cost, and the writer is where concurrent logging
        requests queue. Jobs run in arrival order, so each sees the writes before it exactly
        as if they had committed one by one, and no caller hears of success before the
        commit. If any job raises, the whole transaction is rolled back and every job of the
        batch runs again in a transaction of its own, so one job's failure (a duplicate, a
        constraint) never touches another's outcome.
        """
        # Only transactions from write() share one; other jobs (closing the connection at
        # shutdown) run on their own.
        if len(calls) > 1 and all(fn == self._write_sync for fn, _ in calls):
            conn = self._thread_connection()
            try:
                with conn.begin():
                    results = [arg(conn) for _, arg in calls]
            except Exception:
                pass  # fall through: one transaction per job
            else:
                return [(True, result) for result in results]
        return run_each(calls)

    async def ping(self) -> None:
        """One round trip to the database (``GET /readyz``); raises when it is unreachable."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self, *, wait: float = MIGRATION_WAIT) -> None:
        """Bring the schema to the newest Alembic revision (creating tables that are missing).

        On PostgreSQL the migration runs under a transaction-level advisory lock, so when
        several workers or hosts start together exactly one migrates; the others wait for it
        (at most ``wait`` seconds, then :class:`MigrationLockTimeout`), and then find the schema
        at the newest revision and do nothing. (SQLite serializes DDL by its own write lock.)
        """
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await _lock_migrations(conn, wait)
            await conn.run_sync(_upgrade_to_head)

    async def dispose(self) -> None:
        if self._batcher is not None:
            await self._batcher.aclose()
        await self.engine.dispose()
        if self._writer is not None and self._sync_engine is not None:
            sync_engine = self._sync_engine
            # Connections live on the worker threads: close each there first, and only then
            # dispose of the pool (disposing earlier closed the other thread's connection under
            # it, and its close then failed with a traceback at every Ctrl-C); then stop and
            # join the threads.
            workers = [w for w in (self._reader, self._writer) if w is not None and not w.closed]
            for worker in workers:
                await worker.run(self._close_thread_connection, None)
            if workers:
                await workers[-1].run(lambda _: sync_engine.dispose(), None)
            for worker in workers:
                await worker.aclose()

    def _close_thread_connection(self, _: None = None) -> None:
        conn: Connection | None = getattr(self._threads, "conn", None)
        if conn is not None:
            self._threads.conn = None
            conn.close()


async def _lock_migrations(conn: Any, wait: float) -> None:
    """Take the migration lock for the rest of ``conn`` 's transaction, polling until ``wait``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    query = text("SELECT pg_try_advisory_xact_lock(:key)")
    waited = False
    while not (await conn.execute(query, {"key": MIGRATION_LOCK_KEY})).scalar():
        if not waited:
            waited = True
            logger.info("another process is migrating the database: waiting for it")
        if loop.time() >= deadline:
            raise MigrationLockTimeout(
                f"another process has been migrating the database for more than {wait:g} s "
                "(advisory lock held); start again once it has finished"
            )
        await asyncio.sleep(min(0.25, max(0.0, deadline - loop.time())))


def _upgrade_to_head(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
