"""End to end: the `appconnect serve` command, a real server process (uvicorn, the default, and
granian, ``--server granian``), the demo connector."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("server")
    server_name = str(request.param)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_SERVER", "HASH_KEY", "DATABASE_URL"))
    }
    cli = Path(sys.executable).with_name("appconnect")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port), "--log-level", "warning", "--server", server_name],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx2.get(f"{base}/isAlive", timeout=0.5).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.05)
        else:
            proc.kill()
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"server did not start:\n{output}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)  # SIGTERM ends either server (granian: its worker too)
    assert proc.returncode is not None
    # The embedded default: a SQLite file and a persisted development secret in the cwd.
    assert (workdir / "appconnect.db").exists()
    assert (workdir / ".appconnect-secret").exists()


def test_demo_flow_over_a_real_socket(server: str) -> None:
    with httpx2.Client(base_url=server, timeout=10) as client:
        assert client.get("/isAlive").text == "OK"
        manifest = client.get("/crmManifest", params={"platformName": "demo"}).json()
        assert "demo" in manifest["platforms"]
        login = client.post("/apiKeyLogin", json={"platform": "demo", "apiKey": "e2e-key"})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['jwtToken']}"}

        found = client.get("/contact", params={"phoneNumber": "+16505550100"}, headers=headers)
        assert found.status_code == 200, found.text
        names = [c["name"] for c in found.json()["contact"]]
        assert "Ada Lovelace" in names

        created = client.post(
            "/contact",
            json={
                "phoneNumber": "+16505550199",
                "newContactName": "Newcomer",
                "newContactType": "contact",
            },
            headers=headers,
        ).json()
        assert created["successful"] is True
        contact_id = created["contact"]["id"]

        log = client.post(
            "/callLog",
            json={
                "logInfo": {
                    "id": "call-1",
                    "sessionId": "session-1",
                    "telephonySessionId": "tel-1",
                    "direction": "Outbound",
                    "startTime": "2026-11-25T10:00:00.000Z",
                    "duration": 42,
                    "result": "Call connected",
                    "from": {"phoneNumber": "+16505550000"},
                    "to": {"phoneNumber": "+16505550199"},
                },
                "contactId": contact_id,
                "contactName": "Newcomer",
                "contactType": "contact",
                "note": "Talked about the demo",
            },
            headers=headers,
        )
        assert log.status_code == 200, log.text
        assert log.json()["successful"] is True
        checked = client.get(
            "/callLog",
            params={"sessionIds": "session-1", "requireDetails": "true"},
            headers=headers,
        ).json()
        assert checked["logs"][0]["matched"] is True
        assert "Talked about the demo" in checked["logs"][0]["logData"]["fullBody"]

        message = client.post(
            "/messageLog",
            json={
                "logInfo": {
                    "conversationId": "conv-1",
                    "conversationLogId": "conv-1-2026-11-25",
                    "correspondents": [{"phoneNumber": "+16505550199"}],
                    "messages": [
                        {
                            "id": "m1",
                            "type": "SMS",
                            "direction": "Inbound",
                            "subject": "Hello from the demo",
                            "from": {"phoneNumber": "+16505550199"},
                            "to": [{"phoneNumber": "+16505550000"}],
                            "creationTime": "2026-11-25T10:05:00.000Z",
                        }
                    ],
                },
                "contactId": contact_id,
                "contactName": "Newcomer",
            },
            headers=headers,
        )
        assert message.status_code == 200, message.text
        assert message.json()["successful"] is True and message.json()["logIds"] == ["m1"]


def test_ctrl_c_after_reads_and_writes_exits_cleanly(tmp_path: Path) -> None:
    """SIGINT on a server whose SQLite threads have worked: exit 0, no traceback."""
    import signal

    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_SERVER", "HASH_KEY", "DATABASE_URL"))
    }
    cli = Path(sys.executable).with_name("appconnect")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx2.get(f"{base}/isAlive", timeout=0.5).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.05)
        with httpx2.Client(base_url=base, timeout=10) as client:
            login = client.post("/apiKeyLogin", json={"platform": "demo", "apiKey": "k"})
            headers = {"Authorization": f"Bearer {login.json()['jwtToken']}"}
            client.get("/contact", params={"phoneNumber": "+16505550100"}, headers=headers)
            body = {
                "logInfo": {
                    "id": "c1",
                    "sessionId": "s1",
                    "direction": "Inbound",
                    "from": {"phoneNumber": "+16505550100"},
                    "to": {"phoneNumber": "+1"},
                },
                "contactId": "sample-ada",
            }
            assert client.post("/callLog", json=body, headers=headers).json()["successful"]
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = output.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "ERROR" not in text, text
