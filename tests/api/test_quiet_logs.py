"""Quiet logs: a full flow, failures included, logs no note, token or SQL parameter; SQLite
database files are created readable by their owner only. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from appconnect.settings import normalise_database_url
from appconnect.store.db import Database
from appconnect.store.models import NoteCacheRow

from ._call_log_helpers import API_KEY, Harness, log_body, running_app

NOTE = "patient-diagnosis-7f3a9c"  # what must never show up in a log line
SECOND_NOTE = "second-secret-note-51b2"


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url, USE_CACHE="true") as harness:
        yield harness


async def test_a_full_flow_logs_no_note_and_no_token(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # log every statement
    try:
        auth = await h.login()
        jwt = auth["Authorization"].removeprefix("Bearer ")
        await h.client.post("/callLog/cacheNote", json={"sessionId": "s-1", "note": NOTE},
                            headers=auth)  # fmt: skip
        sscl = {**auth, "User-Agent": "SSCL"}
        created = await h.client.post("/callLog", json=log_body("s-1", note=NOTE), headers=sscl)
        assert created.json()["successful"] is True
        await h.client.get("/callLog?sessionIds=s-1&requireDetails=true", headers=auth)
        await h.client.patch("/callLog", json={"sessionId": "s-1", "note": SECOND_NOTE},
                             headers=auth)  # fmt: skip
        await h.client.put("/callDisposition", json={"sessionId": "s-1", "dispositions": {
            "note": NOTE}}, headers=auth)  # fmt: skip

        # Failures log more: a CRM that errors, then a database that does.
        h.crm.fail_with("PUT", 500)
        await h.client.patch("/callLog", json={"sessionId": "s-1", "note": NOTE}, headers=auth)
        async with h.rt.db.transaction() as session:
            await session.execute(text(f'DROP TABLE "{NoteCacheRow.__tablename__}"'))
        failed = await h.client.post(
            "/callLog/cacheNote", json={"sessionId": "s-2", "note": SECOND_NOTE}, headers=auth
        )
        assert failed.json()["successful"] is False
        await h.client.post("/unAuthorize", headers=auth)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    logged = "\n".join(
        [r.getMessage() for r in caplog.records] + [caplog.text]  # formatted, with tracebacks
    )
    assert "INSERT INTO" in logged  # statements were logged, so parameters had their chance
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    for secret in (NOTE, SECOND_NOTE, jwt, API_KEY, basic):
        assert secret not in logged, secret


async def test_database_errors_hide_bound_values(db_url: str) -> None:
    db = Database(normalise_database_url(db_url))
    try:
        with pytest.raises(SQLAlchemyError) as caught:
            async with db.session() as session:
                await session.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": NOTE})
        assert NOTE not in str(caught.value)
        assert "hide_parameters" in str(caught.value)
    finally:
        await db.dispose()


async def test_sqlite_files_are_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    old = os.umask(0o022)  # a typical umask: files are world-readable by default
    try:
        async with running_app(f"sqlite:///{path}") as harness:
            await harness.login()
            files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
            assert path in files
            for candidate in files:
                assert stat.S_IMODE(candidate.stat().st_mode) == 0o600, candidate
    finally:
        os.umask(old)
