"""SIGTERM to a real ``appconnect serve``: the request in flight still gets its whole answer.

The CRM takes a second to answer a look-up; the server is told to stop while it waits. It
stops accepting, lets the request finish (``--timeout-graceful-shutdown``), then ends its
lifespan (draining background work, see ``tests/test_shutdown.py``) and exits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import sys
from collections.abc import Iterator
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

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

HERE = Path(__file__).parent
SECRET = "shutdown-test-secret-0123456789abcdef"


@pytest.fixture
def crm() -> Iterator[LoopbackCrm]:
    fake = LoopbackCrm(lookup_delay=1.0)
    fake.access_token = "at-0"
    yield fake
    fake.close()


async def _seed(database_url: str) -> str:
    db = Database(Settings(DATABASE_URL=database_url).database_url)
    try:
        await db.migrate()
        await UserStore(db, SecretBox(SECRET)).upsert_login(
            user_id="s1-wcrm", platform="wcrm", hostname=None, access_token="at-0",
            refresh_token=None, token_expiry=None, timezone_name=None, timezone_offset=None,
            rc_account_id=None, hashed_rc_extension_id=None, platform_additional_info={},
        )  # fmt: skip
    finally:
        await db.dispose()
    return SessionSigner(SECRET).issue("s1-wcrm", "wcrm")


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path, crm: LoopbackCrm) -> None:
    database_url = f"sqlite:///{tmp_path / 'shutdown.db'}"
    token = asyncio.run(_seed(database_url))
    port = free_port()
    env = clean_env(CRM_URL=crm.url, DATABASE_URL=database_url, APP_SERVER_SECRET_KEY=SECRET,
                    HASH_KEY="shutdown-hash")  # fmt: skip
    args = [CLI, "serve", "_workers_server:app", "--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    with running(args, cwd=HERE, env=env, ready_url=f"{base}/isAlive") as proc:

        def look_up() -> Any:
            auth = {"Authorization": f"Bearer {token}"}
            reply = httpx2.get(f"{base}/contact", params={"phoneNumber": "+16505550100"},
                               headers=auth, timeout=30)  # fmt: skip
            return reply.status_code, reply.json()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(look_up)
            assert crm.lookup_started.wait(20), "the look-up never reached the CRM"
            proc.send_signal(signal.SIGTERM)  # while the CRM is still answering
            status, body = in_flight.result(timeout=30)
        assert status == 200 and body["successful"] is True
        assert body["contact"][0]["id"] == "c-+16505550100"
        # uvicorn ends by re-raising the signal it handled: a clean stop for systemd & co.
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
        try:
            httpx2.get(f"{base}/isAlive", timeout=2)
            raise AssertionError("the server still answers after SIGTERM")
        except httpx2.TransportError:
            pass  # stopped
