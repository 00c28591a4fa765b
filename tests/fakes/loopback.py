"""A fake CRM on a real loopback socket, for tests whose servers run in other processes.

An in-process mock transport cannot see what several worker processes send; this one listens
on 127.0.0.1 (a thread of the test process) and counts what arrives:

* ``POST /oauth/token`` (refresh grant): ``refreshes``; answers a new access token after a short
  delay, so concurrent requests have time to pile up behind the server's refresh lock.
* ``GET /contacts?phone=...``: answers one contact (after ``lookup_delay`` s), but only for the
  current access token (anything else is ``401``, as a real CRM refuses an expired token).
* ``POST /activities`` (``{"sessionId": ...}``): ``created`` (one entry per CRM activity).
  While ``holding`` is set, creates wait for :meth:`release`; a held create whose caller hung up
  meanwhile (its process was killed) is dropped uncommitted, as a CRM drops a request cut off
  before it committed. ``held_from`` counts held creates by the worker pid the caller sent.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WORKER_HEADER = "X-Worker-Pid"


class LoopbackCrm:
    def __init__(self, *, refresh_delay: float = 0.3, lookup_delay: float = 0.0) -> None:
        self.refresh_delay = refresh_delay
        self.lookup_delay = lookup_delay
        self.lookup_started = threading.Event()
        self.lock = threading.Lock()
        self.refreshes = 0
        self.access_token = "at-0"
        self.lookups = 0
        self.created: list[str] = []
        self.dropped: list[str] = []
        self.held_from: Counter[str] = Counter()
        self.holding = threading.Event()
        self.released = threading.Event()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/contacts":
                    self._reply(404, {})
                    return
                if self.headers.get("Authorization") != f"Bearer {crm.access_token}":
                    self._reply(401, {"error": "invalid_token"})
                    return
                phone = parse_qs(url.query).get("phone", [""])[0]
                crm.lookup_started.set()
                time.sleep(crm.lookup_delay)
                with crm.lock:
                    crm.lookups += 1
                self._reply(200, [{"id": f"c-{phone}", "name": "Pat"}])

            def do_POST(self) -> None:
                raw = self._body()
                if self.path == "/oauth/token":
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    if form.get("grant_type") != "refresh_token":
                        self._reply(400, {"error": "unsupported_grant_type"})
                        return
                    time.sleep(crm.refresh_delay)
                    with crm.lock:
                        crm.refreshes += 1
                        crm.access_token = f"at-{crm.refreshes}"
                        token = crm.access_token
                    self._reply(200, {"access_token": token, "refresh_token": f"rt-{token}",
                                      "expires_in": 3600})  # fmt: skip
                    return
                if self.path != "/activities":
                    self._reply(404, {})
                    return
                session_id = json.loads(raw)["sessionId"]
                if crm.holding.is_set():
                    with crm.lock:
                        crm.held_from[self.headers.get(WORKER_HEADER, "?")] += 1
                    crm.released.wait(60)
                    if _hung_up(self.connection):
                        with crm.lock:
                            crm.dropped.append(session_id)
                        return
                with crm.lock:
                    crm.created.append(session_id)
                    log_id = f"act-{len(crm.created)}"
                self._reply(200, {"id": log_id})

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Answer (or drop, when their caller is gone) the held creates, and hold no more."""
        self.holding.clear()
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def _hung_up(conn: socket.socket) -> bool:
    """Has the peer closed this connection (EOF or reset waiting to be read)?"""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
