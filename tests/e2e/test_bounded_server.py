"""End to end, a real `appconnect serve` process: bounded bodies, connections and shutdown.

The server runs with small limits (``--timeout-header 1 --limit-connections 20
--timeout-graceful-shutdown 2``) so the tests finish quickly; the defaults are documented in
docs/deployment.md. Memory is read from ``/proc/<pid>/status`` (Linux): ``VmHWM`` is the peak
resident size, so "did it ever grow past the limit" is one number.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from appconnect.body_limit import DEFAULT_LIMIT, MB

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads memory from /proc (Linux)"
)

UPLOAD = 600 * MB
CHUNK = b"x" * MB  # sent 600 times: the test never holds more than this one megabyte
LIMITS = ["--timeout-header", "1", "--limit-connections", "20", "--timeout-graceful-shutdown", "2"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_SERVER", "HASH_KEY", "DATABASE_URL", "APPCONNECT_"))
    }
    cli = Path(sys.executable).with_name("appconnect")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port), "--log-level", "warning", *LIMITS],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/isAlive", timeout=0.5).status_code == 200:
                return proc, port
        except httpx2.TransportError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("server did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    proc, port = _start(tmp_path_factory.mktemp("bounded"))
    try:
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def token(server: tuple[int, int]) -> str:
    """A demo session: the upload goes to a route that reads the body (it is logged in)."""
    login = httpx2.post(
        f"http://127.0.0.1:{server[1]}/apiKeyLogin", json={"platform": "demo", "apiKey": "k"}
    )
    return str(login.json()["jwtToken"])


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(field)


def _upload(port: int, head: bytes, frame: bytes) -> tuple[bytes, int]:
    """Send ``head`` then ``frame`` until the server answers (or stops reading); return the
    status line and the number of body bytes that went out."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        while sent < UPLOAD:
            try:
                answer += sock.recv(4096)
            except BlockingIOError:
                pass
            except OSError:
                break
            if answer:
                break
            try:
                sock.settimeout(5)
                sock.sendall(frame)
                sock.setblocking(False)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(frame)
        sock.settimeout(10)
        while b"\r\n" not in answer:
            try:
                more = sock.recv(4096)
            except OSError:
                break
            if not more:
                break
            answer += more
    return answer.split(b"\r\n", 1)[0], sent


def _head(extra: str, token: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        "POST /messageLog HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"{auth}{extra}\r\n"
    ).encode()


def test_a_600_mb_chunked_upload_is_refused_without_growing_past_the_limit(
    server: tuple[int, int], token: str
) -> None:
    pid, port = server
    httpx2.get(f"http://127.0.0.1:{port}/isAlive")
    peak_before = _memory_kb(pid, "VmHWM")
    frame = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"

    status, sent = _upload(port, _head("Transfer-Encoding: chunked\r\n", token), frame)

    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert sent < UPLOAD  # the rest was never read
    growth = (_memory_kb(pid, "VmHWM") - peak_before) * 1024
    assert growth < DEFAULT_LIMIT + 16 * MB, growth  # at most the limit (plus buffers)
    assert httpx2.get(f"http://127.0.0.1:{port}/isAlive").text == "OK"


def test_a_600_mb_declared_upload_is_refused_before_reading_it(
    server: tuple[int, int], token: str
) -> None:
    pid, port = server
    peak_before = _memory_kb(pid, "VmHWM")

    status, sent = _upload(port, _head(f"Content-Length: {UPLOAD}\r\n", token), CHUNK)

    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert sent < 64 * MB  # refused on the header; the socket buffers took what went out
    assert (_memory_kb(pid, "VmHWM") - peak_before) * 1024 < 16 * MB


def test_silent_connections_are_capped_and_closed(server: tuple[int, int]) -> None:
    _, port = server
    silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(30)]
    try:
        # Beyond the cap (20 per worker) a connection is answered 503 and closed at once.
        answers = []
        for sock in silent:
            sock.settimeout(10)
            answers.append(sock.recv(4096))  # b"" when the server closes without a word
        assert any(a.startswith(b"HTTP/1.1 503") for a in answers)
        # The others got nothing and were closed at the header deadline (1 s): EOF, no reply.
        assert all(a == b"" or a.startswith(b"HTTP/1.1 503") for a in answers)
        assert httpx2.get(f"http://127.0.0.1:{port}/isAlive", timeout=5).text == "OK"
    finally:
        for sock in silent:
            sock.close()


def test_a_trickled_header_is_cut_off(server: tuple[int, int]) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        closed = False
        for char in b"GET /isAlive HTTP/1.1\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([char]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)  # 100+ bytes at 20/s: longer than the 1 s header deadline
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        assert closed


def test_sigterm_ends_the_server_despite_a_trickling_body(tmp_path: Path) -> None:
    proc, port = _start(tmp_path)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head("Transfer-Encoding: chunked\r\n") + b"1\r\nx\r\n")
        time.sleep(0.2)  # the request is in progress, its body unfinished
        proc.send_signal(signal.SIGTERM)
        for _ in range(10):  # keep trickling while the server shuts down
            try:
                sock.sendall(b"1\r\nx\r\n")
            except OSError:
                break
            time.sleep(0.1)
        # --timeout-graceful-shutdown 2: the process ends on its own, the request cut short.
        assert proc.wait(timeout=30) is not None
