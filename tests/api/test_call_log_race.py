"""Exactly-once call logging under concurrency, on SQLite and (when configured) PostgreSQL.

The fake CRM holds every create request at a gate until all other requests have answered, so
the requests truly overlap: the first one is inside the CRM call while the rest arrive. The
database must then turn all the others away ("Existing log for session ...") without a second
CRM request. Set ``APPCONNECT_TEST_POSTGRES_URL`` (e.g.
``postgresql://postgres@127.0.0.1:5432/test``) to also run against PostgreSQL; each test gets a
throw-away database on that server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from appconnect.security.hashing import hash_id
from appconnect.services.call_log_store import CallLogStore

from ._call_log_helpers import (
    HASH_KEY,
    Harness,
    log_body,
    postgres_database,
    postgres_url,
    running_app,
    sqlite_url,
)

EXISTING = {"message": "Existing log for session s-1", "messageType": "warning", "ttl": 3000}
CONCURRENCY = 20


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "sqlite":
        async with running_app(sqlite_url(tmp_path)) as harness:
            yield harness
        return
    base = postgres_url()
    if base is None:
        pytest.skip("set APPCONNECT_TEST_POSTGRES_URL to run against PostgreSQL")
    async with postgres_database(base) as url, running_app(url) as harness:
        yield harness


async def _race(h: Harness, requests: list[Awaitable[httpx2.Response]]) -> list[dict[str, Any]]:
    """Run ``requests`` together; CRM creates are held until every other request answered."""
    h.crm.gate = asyncio.Event()
    tasks = [asyncio.ensure_future(r) for r in requests]

    async def open_gate_when_settled() -> None:
        while True:
            in_crm = len(h.crm.calls("POST"))
            if in_crm and sum(t.done() for t in tasks) >= len(tasks) - in_crm:
                break
            await asyncio.sleep(0.005)
        assert h.crm.gate is not None
        h.crm.gate.set()

    await asyncio.wait_for(open_gate_when_settled(), timeout=60)
    responses = await asyncio.gather(*tasks)
    assert all(r.status_code == 200 for r in responses)
    return [r.json() for r in responses]


def _outcomes(results: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    created = [r for r in results if r["successful"]]
    refused = [r["returnMessage"] for r in results if not r["successful"]]
    return len(created), refused


async def test_identical_concurrent_creates_make_one_crm_log(h: Harness) -> None:
    auth = await h.login()
    posts = [h.client.post("/callLog", json=log_body(), headers=auth) for _ in range(CONCURRENCY)]
    created, refused = _outcomes(await _race(h, posts))
    assert created == 1
    assert refused == [EXISTING] * (CONCURRENCY - 1)
    assert len(h.crm.calls("POST")) == 1
    [row] = await h.link_rows()
    assert (row.session_id, row.third_party_log_id) == ("s-1", "act-1")


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the window around a reservation's duplicate check (insert ... check ... commit).

    Without per-session serialization, overlapping reservations would each check before the
    others commit and miss their rows. With it, the delays only make the others wait. (Delays to
    provoke overlap, not timing assertions.)
    """
    original = CallLogStore._conflicts

    def slow(self: CallLogStore, *args: Any) -> bool:
        # The check is synchronous code inside the write transaction (db.write), so a plain
        # sleep is what widens the window.
        time.sleep(0.02)
        found = original(self, *args)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(CallLogStore, "_conflicts", slow)


async def test_browser_and_server_side_racing_make_one_crm_log(
    h: Harness, slow_check: None
) -> None:
    """Different primary keys, same identity (§3.1): only the per-session check catches this."""
    auth = await h.login()
    hashed = hash_id("400200000001", HASH_KEY)
    browser = log_body(extensionNumber="101", hashedExtensionId=hashed)
    server = log_body(rcExtensionId="400200000001")
    server["logInfo"].pop("telephonySessionId")  # a different row id as well
    sscl = {**auth, "User-Agent": "SSCL"}
    posts = [
        h.client.post("/callLog", json=browser if i % 2 else server,
                      headers=auth if i % 2 else sscl)
        for i in range(CONCURRENCY)
    ]
    created, refused = _outcomes(await _race(h, posts))
    assert (created, refused) == (1, [EXISTING] * (CONCURRENCY - 1))
    assert len(h.crm.calls("POST")) == 1
    assert len(await h.link_rows()) == 1


async def test_failed_winner_leaves_no_row_and_a_retry_logs(h: Harness) -> None:
    auth = await h.login()
    h.crm.fail_with("POST", 500)
    posts = [h.client.post("/callLog", json=log_body(), headers=auth) for _ in range(5)]
    results = await _race(h, posts)
    messages = sorted(r["returnMessage"]["message"] for r in results)
    assert messages == ["Error creating call log"] + ["Existing log for session s-1"] * 4
    assert await h.link_rows() == []
    h.crm.failures.clear()
    h.crm.gate = None
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json()["successful"] is True
    assert len(await h.link_rows()) == 1


async def test_concurrent_creates_for_different_calls_all_log(h: Harness) -> None:
    auth = await h.login()
    posts = [
        h.client.post("/callLog", json=log_body(f"s-{i}"), headers=auth) for i in range(10)
    ]
    results = await asyncio.gather(*posts)
    assert all(r.json()["successful"] for r in results)
    assert len(h.crm.calls("POST")) == 10
    assert sorted(r.session_id for r in await h.link_rows()) == sorted(f"s-{i}" for i in range(10))
