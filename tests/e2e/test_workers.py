"""Two real worker processes (``appconnect serve --workers 2``) on PostgreSQL and Redis.

* One expired OAuth token, 100 concurrent requests split over both workers: the CRM sees
  exactly one refresh, and every request uses the refreshed token.
* A logout through one worker is refused by the other at once (its user and session caches
  are checked against Redis stamps).
* One worker is SIGKILLed in the middle of a burst of call logs: the survivor keeps serving,
  the burst replayed afterwards logs every call exactly once at the CRM.

The test server adds an ``x-worker-pid`` header to each response. Connections are pinned to a
worker (keep-alive), and each test proves that both workers answered. Skips without
``APPCONNECT_TEST_POSTGRES_URL`` and ``APPCONNECT_TEST_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.e2e._server import CLI, clean_env, free_port, running
from tests.fakes.loopback import LoopbackCrm

from appconnect.security import SecretBox, SessionSigner
from appconnect.settings import Settings
from appconnect.store.db import Database
from appconnect.store.users import UserStore

POSTGRES_URL = os.environ.get("APPCONNECT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("APPCONNECT_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL) or sys.platform == "win32",
    reason="needs APPCONNECT_TEST_POSTGRES_URL and APPCONNECT_TEST_REDIS_URL",
)

HERE = Path(__file__).parent
SECRET = "workers-test-secret-0123456789abcdef"
STALE_AFTER = 2.0


@pytest.fixture
def crm() -> Iterator[LoopbackCrm]:
    fake = LoopbackCrm()
    yield fake
    fake.close()


async def _seed(user_id: str, *, expired: bool) -> str:
    """A connected OAuth user in a fresh schema; returns a session token for it."""
    assert POSTGRES_URL
    import asyncpg
    from redis.asyncio import Redis

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    redis = Redis.from_url(REDIS_URL or "")
    await redis.flushdb()
    await redis.aclose()
    db = Database(Settings(DATABASE_URL=POSTGRES_URL).database_url)  # the asyncpg driver
    try:
        await db.migrate()
        expiry = datetime.now(UTC) + (timedelta(hours=-1) if expired else timedelta(hours=1))
        await UserStore(db, SecretBox(SECRET)).upsert_login(
            user_id=user_id, platform="wcrm", hostname=None, access_token="at-0",
            refresh_token="rt-0", token_expiry=expiry, timezone_name=None, timezone_offset=None,
            rc_account_id=None, hashed_rc_extension_id=None, platform_additional_info={},
        )  # fmt: skip
    finally:
        await db.dispose()
    return SessionSigner(SECRET).issue(user_id, "wcrm")


class Workers:
    """``appconnect serve --workers 2`` and keep-alive connections pinned to each worker."""

    def __init__(self, base: str, proc: Any) -> None:
        self.base = base
        self.proc = proc
        self.pinned: dict[str, list[httpx2.Client]] = {}

    def pin(self, per_worker: int, workers: int = 2) -> list[str]:
        """Open connections until ``per_worker`` are pinned to each of ``workers`` pids."""
        spare: list[httpx2.Client] = []
        for _ in range(40):
            fresh = [self._client() for _ in range(16)]
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                pids = list(pool.map(self._pid_of, fresh))
            for client, pid in zip(fresh, pids, strict=True):
                group = self.pinned.setdefault(pid, []) if pid else spare
                if pid and len(group) < per_worker:
                    group.append(client)
                else:
                    spare.append(client)
            full = [pid for pid, group in self.pinned.items() if len(group) >= per_worker]
            if len(full) >= workers:
                break
        for client in spare:
            client.close()
        full = [pid for pid, group in self.pinned.items() if len(group) >= per_worker]
        reached = {pid: len(group) for pid, group in self.pinned.items()}
        assert len(full) >= workers, f"connections reached only {reached}"
        return full[:workers]

    def _client(self) -> httpx2.Client:
        one = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
        return httpx2.Client(base_url=self.base, timeout=30, limits=one)

    @staticmethod
    def _pid_of(client: httpx2.Client) -> str:
        try:
            return client.get("/isAlive").headers.get("x-worker-pid", "")
        except httpx2.TransportError:
            return ""

    def close(self) -> None:
        for group in self.pinned.values():
            for client in group:
                client.close()


@pytest.fixture
def serve_workers(crm: LoopbackCrm) -> Iterator[Any]:
    with contextlib.ExitStack() as stack:

        def start() -> Workers:
            port = free_port()
            env = clean_env(
                CRM_URL=crm.url, DATABASE_URL=POSTGRES_URL or "", REDIS_URL=REDIS_URL or "",
                APP_SERVER_SECRET_KEY=SECRET, HASH_KEY="workers-hash",
                APPCONNECT_USER_CACHE_TTL="60", APPCONNECT_HTTP_TIMEOUT="10",
                APPCONNECT_STALE_RESERVATION=str(STALE_AFTER),
            )  # fmt: skip
            args = [CLI, "serve", "_workers_server:app", "--workers", "2", "--port", str(port),
                    "--timeout-keep-alive", "60", "--log-level", "warning"]  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            ready = f"{base}/isAlive"
            proc = stack.enter_context(running(args, cwd=HERE, env=env, ready_url=ready))
            workers = Workers(base, proc)
            stack.callback(workers.close)
            return workers

        yield start


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_one_expired_token_and_100_requests_over_two_workers_refresh_once(
    serve_workers: Any, crm: LoopbackCrm
) -> None:
    token = asyncio.run(_seed("r1-wcrm", expired=True))
    workers = serve_workers()
    pids = workers.pin(per_worker=50)
    clients = [c for pid in pids for c in workers.pinned[pid][:50]]
    assert len(clients) == 100

    def look_up(n: int) -> tuple[str, Any]:
        reply = clients[n].get("/contact", params={"phoneNumber": f"+1650555{n:04d}"},
                               headers=_bearer(token))  # fmt: skip
        return reply.headers.get("x-worker-pid", ""), reply.json()

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        replies = list(pool.map(look_up, range(100)))

    assert crm.refreshes == 1  # one refresh at the CRM for both workers together
    assert {pid for pid, _ in replies} == set(pids)  # both workers answered (50 each)
    for n, (_pid, body) in enumerate(replies):
        assert body["successful"] is True, body
        assert body["contact"][0]["id"] == f"c-+1650555{n:04d}"
    assert crm.lookups == 100  # every look-up reached the CRM with the refreshed token


def test_a_logout_through_one_worker_is_refused_by_the_other(
    serve_workers: Any, crm: LoopbackCrm
) -> None:
    token = asyncio.run(_seed("l1-wcrm", expired=False))
    workers = serve_workers()
    one, two = workers.pin(per_worker=1)
    first, second = workers.pinned[one][0], workers.pinned[two][0]
    for client in (first, second, first, second):  # both workers cache the user and session
        reply = client.get("/licenseStatus", headers=_bearer(token))
        assert reply.json()["isLicenseValid"] is True, reply.text
    logout = first.post("/unAuthorize", headers=_bearer(token))
    assert logout.status_code == 200 and logout.headers["x-worker-pid"] == one
    refused = second.get("/licenseStatus", headers=_bearer(token))
    assert refused.headers["x-worker-pid"] == two
    assert refused.json()["licenseStatus"] == "Invalid (Invalid user session)"


def _call_log(n: int) -> dict[str, Any]:
    return {
        "logInfo": {"id": f"call-{n}", "sessionId": f"s-{n}", "telephonySessionId": f"t-{n}",
                    "direction": "Outbound", "duration": 10, "from": {"phoneNumber": "+1"},
                    "to": {"phoneNumber": "+2"}},
        "contactId": "c-1",
    }  # fmt: skip


def test_killing_one_worker_mid_burst_loses_and_duplicates_nothing(
    serve_workers: Any, crm: LoopbackCrm
) -> None:
    token = asyncio.run(_seed("k1-wcrm", expired=False))
    workers = serve_workers()
    victim, survivor = workers.pin(per_worker=13)
    clients = workers.pinned[victim][:12] + workers.pinned[survivor][:12]
    burst = len(clients)

    def log(n: int, client: httpx2.Client | None = None) -> Any:
        try:
            reply = (client or clients[n]).post("/callLog", json=_call_log(n),
                                                headers=_bearer(token))  # fmt: skip
            return reply.json()
        except httpx2.TransportError as exc:
            return exc

    crm.holding.set()  # every create waits at the CRM until released
    pool = concurrent.futures.ThreadPoolExecutor(burst)
    sent = [pool.submit(log, n) for n in range(burst)]
    deadline = time.monotonic() + 30
    while (crm.held_from[victim] < 12 or crm.held_from[survivor] < 12) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert crm.held_from[victim] == 12 and crm.held_from[survivor] == 12, crm.held_from

    os.kill(int(victim), signal.SIGKILL)
    time.sleep(0.5)  # the kernel closes the dead worker's sockets
    serving = workers.pinned[survivor][12].get("/licenseStatus", headers=_bearer(token))
    assert serving.json()["isLicenseValid"] is True  # the survivor serves meanwhile
    assert serving.headers["x-worker-pid"] == survivor
    crm.release()
    outcomes = [future.result(timeout=30) for future in sent]
    pool.shutdown()

    lost = [n for n, out in enumerate(outcomes) if isinstance(out, Exception)]
    assert sorted(lost) == list(range(12))  # the victim's requests died with it...
    assert sorted(crm.dropped) == sorted(f"s-{n}" for n in range(12))  # ...uncommitted
    assert all(out.get("successful") for out in outcomes[12:]), outcomes[12:]

    time.sleep(STALE_AFTER + 0.5)  # the dead worker's reservations are stale now
    with httpx2.Client(base_url=workers.base, timeout=30) as fresh, \
            concurrent.futures.ThreadPoolExecutor(8) as replay:  # fmt: skip
        replies = list(replay.map(lambda n: log(n, fresh), range(burst)))
    assert all(r["successful"] for r in replies[:12]), replies[:12]  # logged now
    for n, reply in enumerate(replies[12:], 12):  # the survivor's: already logged, never again
        assert reply["returnMessage"]["message"] == f"Existing log for session s-{n}", reply
    counts = Counter(crm.created)
    assert sorted(counts) == sorted(f"s-{n}" for n in range(burst))
    assert set(counts.values()) == {1}, counts  # every call logged exactly once
