"""Crash safety: SIGKILL the server in the middle of a burst of call logs, restart, replay.

The fake CRM creates the first activities at once and then holds the next create requests
unanswered; the server is killed while they are held (the CRM then drops them: a request cut
off before the CRM committed it). After a restart on the same database, once the dead
process's reservations are stale (``APPCONNECT_STALE_RESERVATION``), the whole burst is sent
again: every call must be logged exactly once at the CRM and no session may stay reserved.

Not covered (no server can without the CRM's help): a kill after the CRM committed a create
but before the server stored its id; see ``docs/deployment.md``.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

SERVER = Path(__file__).with_name("_crash_server.py")
BURST = 24
CREATED_BEFORE_HOLD = 6
STALE_AFTER = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeCrm:
    """``POST /activities`` creates an activity, or holds the request while ``holding``."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.held = 0
        self.hold_enabled = True
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with crm.lock:
                    hold = crm.hold_enabled and (
                        crm.holding.is_set() or len(crm.created) >= CREATED_BEFORE_HOLD
                    )
                    if hold:
                        crm.holding.set()
                        crm.held += 1
                if hold:
                    crm.release.wait(30)
                    return  # dropped: the caller is dead, nothing was created
                with crm.lock:
                    crm.created.append(body["sessionId"])
                    log_id = f"act-{len(crm.created)}"
                reply = json.dumps({"id": log_id}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop_holding(self) -> None:
        """Drop the held requests (their caller is dead) and answer every later one."""
        with self.lock:
            self.hold_enabled = False
        self.release.set()


@pytest.fixture
def crm() -> Iterator[FakeCrm]:
    fake = FakeCrm()
    yield fake
    fake.release.set()
    fake.server.shutdown()


def _start(tmp_path: Path, crm: FakeCrm) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APPCONNECT_", "DATABASE"))},
        "CRM_URL": crm.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.db'}",
        "APP_SERVER_SECRET_KEY": "crash-test-secret-0123456789abcdef",
        "HASH_KEY": "crash-hash",
        "APPCONNECT_HTTP_TIMEOUT": "1",
        "APPCONNECT_STALE_RESERVATION": str(STALE_AFTER),
    }
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port)], env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx2.get(f"{base}/isAlive", timeout=0.5).status_code == 200:
                return proc, base
        except httpx2.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("the server did not start")


def _body(n: int) -> dict[str, Any]:
    return {
        "logInfo": {"id": f"call-{n}", "sessionId": f"s-{n}", "telephonySessionId": f"t-{n}",
                    "direction": "Outbound", "duration": 10, "from": {"phoneNumber": "+1"},
                    "to": {"phoneNumber": "+2"}},
        "contactId": "c-1",
    }  # fmt: skip


def _post(base: str, token: str, n: int) -> Any:
    try:
        reply = httpx2.post(f"{base}/callLog", json=_body(n), timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
        return reply.json()
    except httpx2.TransportError as exc:
        return exc


def _rows(tmp_path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(tmp_path / "crash.db") as conn:
        return list(conn.execute('SELECT "sessionId", "thirdPartyLogId" FROM "callLogs"'))


def test_sigkill_mid_burst_then_replay_logs_every_call_once(
    tmp_path: Path, crm: FakeCrm
) -> None:
    proc, base = _start(tmp_path, crm)
    try:
        login = httpx2.post(f"{base}/apiKeyLogin", json={"platform": "crashcrm", "apiKey": "k"})
        token = login.json()["jwtToken"]
        pool = concurrent.futures.ThreadPoolExecutor(BURST)
        burst = [pool.submit(_post, base, token, n) for n in range(BURST)]
        assert crm.holding.wait(20), "the burst never reached the CRM's hold"
        time.sleep(0.1)  # a few more requests pile up in the server and at the CRM
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        concurrent.futures.wait(burst, timeout=20)
        pool.shutdown()
        killed_with = Counter(crm.created)
        assert 0 < len(killed_with) < BURST and crm.held > 0
        pending = [s for s, log_id in _rows(tmp_path) if log_id is None]
        assert pending, "the kill should leave reservations of calls in flight"
        crm.stop_holding()

        proc, base = _start(tmp_path, crm)
        time.sleep(STALE_AFTER + 0.5)  # the dead process's reservations are now stale
        with concurrent.futures.ThreadPoolExecutor(8) as replay_pool:
            replies = list(replay_pool.map(lambda n: _post(base, token, n), range(BURST)))
        assert all(isinstance(r, dict) for r in replies), replies
        counts = Counter(crm.created)
        assert sorted(counts) == sorted(f"s-{n}" for n in range(BURST))
        assert set(counts.values()) == {1}, counts  # every call logged exactly once
        rows = _rows(tmp_path)
        assert sorted(s for s, _ in rows) == sorted(f"s-{n}" for n in range(BURST))
        assert all(log_id for _, log_id in rows), rows  # no session stays reserved
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
