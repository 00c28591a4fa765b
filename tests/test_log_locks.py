"""The per-CRM-log leases across processes: kernel locks beside a SQLite file, rows elsewhere.

The HTTP-level promise (concurrent updates of one log take turns, nothing is lost) is proven in
tests/api/test_serialized_updates.py; these tests pin the two lease kinds underneath it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appconnect.services.log_locks import (
    FileLeases,
    LogLocks,
    LogLockTimeout,
    RowLeases,
    leases_for,
    log_key,
)
from appconnect.store.db import Database

needs_ofd_locks = pytest.mark.skipif(
    not FileLeases.available(), reason="open-file-description locks are Linux's"
)
KEY = log_key("crm", "log-1")


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/app.db")
    await db.migrate()
    yield db
    await db.dispose()


@needs_ofd_locks
async def test_sqlite_takes_kernel_locks_beside_its_file_and_postgres_takes_rows(
    sqlite_db: Database, tmp_path: Path
) -> None:
    leases = leases_for(sqlite_db, lease=60)
    assert isinstance(leases, FileLeases)
    await leases.take(KEY, "me")
    assert (tmp_path / "app.db-loglocks").exists()
    await leases.give_back(KEY, "me")
    leases.close()
    postgres = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert isinstance(leases_for(postgres, lease=60), RowLeases)
    await postgres.dispose()


@pytest.mark.parametrize("kind", ["file", "row"])
async def test_two_lock_sets_exclude_each_other_until_given_back(
    sqlite_db: Database, tmp_path: Path, kind: str
) -> None:
    """Two apps in one process (as the HTTP tests run two "workers") exclude each other too."""
    if kind == "file" and not FileLeases.available():
        pytest.skip("open-file-description locks are Linux's")

    def make() -> FileLeases | RowLeases:
        if kind == "file":
            return FileLeases(str(tmp_path / "app.db-loglocks"))
        return RowLeases(sqlite_db, lease=60)

    one, two = make(), make()
    assert await one.take(KEY, "one")
    assert not await two.take(KEY, "two")
    assert await two.take(log_key("crm", "log-2"), "two")  # another log is free
    await one.give_back(KEY, "one")
    assert await two.take(KEY, "two")
    assert not await one.take(KEY, "one")
    for leases in (one, two):
        if isinstance(leases, FileLeases):
            leases.close()


@needs_ofd_locks
def test_a_holder_that_dies_gives_the_lease_back_at_once(tmp_path: Path) -> None:
    """The kernel drops a dead process's locks: no expiry to wait for (rows wait lease_seconds)."""
    path = str(tmp_path / "app.db-loglocks")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import asyncio, sys, time
                from appconnect.services.log_locks import FileLeases
                leases = FileLeases({path!r})
                assert asyncio.run(leases.take({KEY!r}, "holder"))
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        ours = FileLeases(path)
        assert not asyncio.run(ours.take(KEY, "me"))
        holder.kill()
        holder.wait()
        assert asyncio.run(ours.take(KEY, "me"))
        ours.close()
    finally:
        holder.kill()
        holder.wait()


async def test_a_row_lease_whose_holder_died_expires_and_is_taken_over(
    sqlite_db: Database,
) -> None:
    dead, alive = RowLeases(sqlite_db, lease=0.2), RowLeases(sqlite_db, lease=0.2)
    assert await dead.take(KEY, "dead")  # and never given back
    assert not await alive.take(KEY, "alive")
    await asyncio.sleep(0.3)
    assert await alive.take(KEY, "alive")
    await dead.give_back(KEY, "dead")  # a late give-back of the dead owner changes nothing
    assert not await dead.take(KEY, "dead")


@pytest.mark.parametrize("kind", ["file", "row"])
async def test_waiters_of_another_lock_set_get_the_log_in_turn_or_time_out(
    sqlite_db: Database, tmp_path: Path, kind: str
) -> None:
    if kind == "file" and not FileLeases.available():
        pytest.skip("open-file-description locks are Linux's")
    path = str(tmp_path / "app.db-loglocks")

    def make(wait: float) -> LogLocks:
        leases = FileLeases(path) if kind == "file" else RowLeases(sqlite_db, lease=60)
        return LogLocks(leases, wait=wait)

    first, second, impatient = make(5), make(5), make(0.1)
    order: list[str] = []

    async def update(locks: LogLocks, name: str, pause: float) -> None:
        async with locks.hold("crm", "log-1"):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    holding = asyncio.create_task(update(first, "first", 0.3))
    await asyncio.sleep(0.05)
    with pytest.raises(LogLockTimeout):
        await update(impatient, "impatient", 0)
    await update(second, "second", 0)
    await holding
    assert order == ["first in", "first out", "second in", "second out"]
    for locks in (first, second, impatient):
        if isinstance(locks.leases, FileLeases):
            locks.leases.close()


@needs_ofd_locks
def test_a_forked_child_takes_leases_of_its_own(tmp_path: Path) -> None:
    """After a fork the child must not share the parent's open file description (its locks
    would count as the child's too): the child opens its own, and meets the parent's lease."""
    import os

    leases = FileLeases(str(tmp_path / "app.db-loglocks"))
    assert leases.take_now(KEY)
    pid = os.fork()
    if pid == 0:  # the child: report by exit status only
        code = 0
        try:
            code = 1 if leases.take_now(KEY) else 0
            code = code or (0 if leases.take_now(log_key("crm", "other")) else 2)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    leases.close()
