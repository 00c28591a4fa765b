"""One update at a time per CRM log, across requests, workers and processes.

Connectors update a CRM log by reading it and writing it back (append a message, re-compose a
call body, merge dispositions). Two requests doing that to one log at once lose one write: the
reference kept 3 of 30 concurrent messages of one conversation. Every framework path that updates
an existing CRM log therefore holds that log's lease while it calls the connector:

* within a process, waiters queue on an ``asyncio.Lock`` (no polling, FIFO);
* across processes, on PostgreSQL, the lease is a row of ``appconnectLogLocks`` (primary key =
  the log's key), taken with ``INSERT ... ON CONFLICT DO NOTHING`` and given back with a
  ``DELETE`` of our own row; a waiter polls with backoff. A lease whose holder died expires
  after :func:`lease_seconds`, then the next waiter takes it over (compare-and-set on the
  expiry). Nothing is held in the database between statements: no connection stays checked out
  while the CRM is called.
* across processes, on SQLite (every process that shares the file runs on its host), the lease
  is a byte-range lock of the kernel on a file beside the database (``<database>-loglocks``),
  one byte per log key: an open-file-description lock (Linux's ``F_OFD_SETLK``), so two
  :class:`LogLocks` exclude each other even inside one process, and the kernel gives the lease
  back the moment its holder dies. It costs two system calls instead of two database writes
  per update (``PATCH /callLog`` ~7% of its CPU on the bench). Where OFD locks do not exist
  (not Linux), SQLite uses the rows too.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import secrets
import struct
import sys
import weakref
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, delete, update
from sqlalchemy.engine import make_url

from appconnect.runtime import Runtime
from appconnect.store.db import Database, changed, conflict_insert
from appconnect.store.models import LogLockRow, utcnow

# Poll interval while another process holds the lease: starts small, grows to the cap.
POLL_FIRST_SECONDS = 0.01
POLL_MAX_SECONDS = 0.2
_STATE_KEY = "log_locks"

_TABLE = cast(Table, LogLockRow.__table__)
_C = _TABLE.c
_TAKE_OVER = (
    update(_TABLE)
    .where(_C.lockKey == bindparam("key"), _C.expiresAt < bindparam("now"))
    .values(owner=bindparam("v_owner"), expiresAt=bindparam("v_expires"))
)
_RELEASE = delete(_TABLE).where(_C.lockKey == bindparam("key"), _C.owner == bindparam("owner"))


class LogLockTimeout(RuntimeError):
    """Another request held the CRM log for longer than a request may wait."""


def lease_seconds(http_timeout: float) -> float:
    """How long a lease lives: longer than any sane connector update (several CRM calls)."""
    return max(120.0, 4 * http_timeout)


def log_key(platform: str, third_party_log_id: Any) -> str:
    return hashlib.sha256(f"{platform}\0{third_party_log_id}".encode()).hexdigest()


@dataclass
class _Local:
    lock: asyncio.Lock
    users: int = 0


class _Leases(Protocol):
    """Where a process's leases meet other processes' (see the module's docstring)."""

    async def take(self, key: str, owner: str) -> bool: ...

    async def give_back(self, key: str, owner: str) -> None: ...


class RowLeases:
    """Leases as rows of ``appconnectLogLocks`` (any database, any number of hosts)."""

    def __init__(self, db: Database, *, lease: float) -> None:
        self._db = db
        self._lease = timedelta(seconds=lease)
        self._insert = conflict_insert(db.dialect)(_TABLE).on_conflict_do_nothing(
            index_elements=["lockKey"]
        )

    def _try(self, conn: Connection, key: str, owner: str) -> bool:
        now = utcnow()
        row = {"lockKey": key, "owner": owner, "expiresAt": now + self._lease}
        if changed(conn.execute(self._insert, row)):
            return True
        params = {"key": key, "now": now, "v_owner": owner, "v_expires": row["expiresAt"]}
        return changed(conn.execute(_TAKE_OVER, params))

    async def take(self, key: str, owner: str) -> bool:
        return await self._db.write(lambda conn: self._try(conn, key, owner))

    async def give_back(self, key: str, owner: str) -> None:
        params = {"key": key, "owner": owner}
        await self._db.write(lambda conn: conn.execute(_RELEASE, params))


# struct flock of 64-bit Linux (x86-64, aarch64...): l_type, l_whence, l_start, l_len, l_pid.
_FLOCK = struct.Struct("hhxxxxqqixxxx")
_OFD_SETLK: int | None = None
if sys.platform == "linux":
    import fcntl

    if sys.maxsize > 2**32:
        _OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", None)


class FileLeases:
    """Leases as kernel byte-range locks on one file (processes of one host).

    A key's byte is at an offset taken from its hash (60 bits: a collision between two logs
    updated at the same moment is not a practical concern, and would only make them take turns).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None
        _OPEN.add(self)

    @staticmethod
    def available() -> bool:
        return _OFD_SETLK is not None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def forget_inherited(self) -> None:
        # In a forked child the descriptor still names the parent's open file description,
        # whose locks are the parent's: the child opens its own (the inherited one is left to
        # the parent; closing it would not release the parent's locks, but it is not ours).
        self._fd = None

    def _lock(self, key: str, kind: int) -> bool:
        assert _OFD_SETLK is not None
        request = _FLOCK.pack(kind, os.SEEK_SET, int(key[:15], 16), 1, 0)
        try:
            fcntl.fcntl(self._file(), _OFD_SETLK, request)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def take_now(self, key: str) -> bool:
        return self._lock(key, fcntl.F_WRLCK)

    def give_back_now(self, key: str) -> None:
        self._lock(key, fcntl.F_UNLCK)

    async def take(self, key: str, owner: str) -> bool:
        return self.take_now(key)

    async def give_back(self, key: str, owner: str) -> None:
        self.give_back_now(key)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


# Checking the process id on every lock was a system call per update; forks are rare.
_OPEN: weakref.WeakSet[FileLeases] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for leases in list(_OPEN):
        leases.forget_inherited()


os.register_at_fork(after_in_child=_after_fork_in_child)


def leases_for(db: Database, *, lease: float) -> _Leases:
    """The cross-process leases that fit ``db`` (see the module's docstring)."""
    if db.is_sqlite and FileLeases.available():
        path = make_url(db.url).database
        if path and not path.startswith("file:"):
            return FileLeases(os.path.abspath(path) + "-loglocks")
    return RowLeases(db, lease=lease)


class LogLocks:
    """The leases of one process (one app: two apps in a process are two "processes")."""

    def __init__(self, leases: _Leases, *, wait: float) -> None:
        self.leases = leases
        # Kernel locks are taken and given back without awaiting (the common, free case).
        self._files = leases if isinstance(leases, FileLeases) else None
        self._wait = wait
        self._local: dict[str, _Local] = {}

    def hold(self, platform: str, third_party_log_id: Any) -> _Held:
        """``async with locks.hold(platform, log_id):`` update the log, nobody else does."""
        return _Held(self, log_key(platform, third_party_log_id))

    async def _acquire(self, key: str, owner: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        delay = POLL_FIRST_SECONDS
        while not await self.leases.take(key, owner):
            if loop.time() >= deadline:
                raise LogLockTimeout("the CRM log is being updated by another request")
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    async def enter(self, key: str) -> str:
        local = self._local.get(key)
        if local is None:
            local = self._local[key] = _Local(asyncio.Lock())
        local.users += 1
        try:
            if local.lock.locked():  # queue behind this process's holder, for a bounded time
                await asyncio.wait_for(local.lock.acquire(), self._wait)
            else:  # free: taken at once (no timer, no task)
                await local.lock.acquire()
        except BaseException:
            self._forget(key, local)
            raise
        owner = secrets.token_hex(16)
        try:
            if not (self._files is not None and self._files.take_now(key)):
                await self._acquire(key, owner)
        except BaseException:
            local.lock.release()
            self._forget(key, local)
            raise
        return owner

    async def exit(self, key: str, owner: str) -> None:
        local = self._local[key]
        try:
            if self._files is not None:
                self._files.give_back_now(key)  # a system call: nothing to cancel half-way
            else:
                await asyncio.shield(self.leases.give_back(key, owner))
        finally:
            local.lock.release()
            self._forget(key, local)

    def _forget(self, key: str, local: _Local) -> None:
        local.users -= 1
        if local.users == 0 and self._local.get(key) is local:
            del self._local[key]


class _Held:
    __slots__ = ("_key", "_locks", "_owner")

    def __init__(self, locks: LogLocks, key: str) -> None:
        self._locks = locks
        self._key = key
        self._owner: str | None = None

    async def __aenter__(self) -> None:
        self._owner = await self._locks.enter(self._key)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owner is not None:
            owner, self._owner = self._owner, None
            await self._locks.exit(self._key, owner)


def log_locks(rt: Runtime) -> LogLocks:
    found = rt.state.get(_STATE_KEY)
    if not isinstance(found, LogLocks):
        lease = lease_seconds(rt.settings.http_timeout)
        leases = leases_for(rt.db, lease=lease)
        if isinstance(leases, FileLeases):
            rt.closers.append(leases.close)
        found = rt.state[_STATE_KEY] = LogLocks(leases, wait=lease / 2)
    return found
