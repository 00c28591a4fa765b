"""A fake CRM for the benchmark: a minimal raw-ASGI app served by uvicorn in its own process.

Why raw ASGI and not FastAPI: the fake shares the machine's cores with the server under test and
the load driver, so every microsecond it spends is stolen from the thing being measured. A dict
lookup and one ``orjson.dumps`` per request is all it does.

Endpoints (what :mod:`bench.connector` calls):

* ``GET /me``: the API key's user (login).
* ``GET /contacts?phone=<E.164>``: contacts whose phone has the same digits (seeded at start).
* ``POST /activities``, ``GET /activities/{id}``, ``PATCH /activities/{id}``: call activities.
* ``POST /messages``, ``PATCH /messages/{id}``: message (conversation) activities.
* ``GET /__stats``: request counters per endpoint (``"GET /activities/{id}"``...), plus the
  number of stored activities. ``POST /__reset`` (or ``GET``) zeroes the counters.

Every non-``/__`` request waits ``--latency-ms`` before answering (``asyncio.sleep``), which is
how a remote CRM's round trip is simulated without burning CPU.

Run: ``python bench/fake_crm.py --port 7070 --latency-ms 50 --contacts 1000``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

try:  # the venv has orjson; fall back to json so the file also runs on a bare interpreter
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    def loads(data: bytes) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    def loads(data: bytes) -> Any:
        return json.loads(data)


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SEED_PREFIX = "+1650555"  # seeded numbers: +16505550000, +16505550001, ...


def seeded_phone(index: int) -> str:
    """The phone number of seeded contact ``index`` (the load scripts use the same rule)."""
    return f"{SEED_PREFIX}{index:04d}"


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class FakeCrm:
    """State of the fake: contacts by phone digits, activities, message logs, counters."""

    def __init__(self, latency_ms: float = 0.0, contacts: int = 1000) -> None:
        self.latency = latency_ms / 1000.0
        self.counts: Counter[str] = Counter()
        self.contacts: dict[str, list[dict[str, Any]]] = {}
        for i in range(contacts):
            phone = seeded_phone(i)
            self.contacts[_digits(phone)] = [
                {"id": f"c-{i}", "name": f"Contact {i}", "phone": phone, "type": "Contact"}
            ]
        self.activities: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    # -- the CRM's endpoints --------------------------------------------------------------------

    def route(self, method: str, path: str, query: bytes, body: bytes) -> tuple[str, int, Any]:
        """(counter key, status, JSON body) for one CRM request."""
        parts = path.strip("/").split("/")
        head = parts[0]
        if len(parts) == 1:
            if method == "GET" and head == "me":
                return "GET /me", 200, {"id": "bench-user", "name": "Bench User"}
            if method == "GET" and head == "contacts":
                phone = dict(parse_qsl(query.decode("latin-1"))).get("phone", "")
                return "GET /contacts", 200, self.contacts.get(_digits(phone), [])
            if method == "POST" and head in ("activities", "messages"):
                return self._create(head, body)
        elif len(parts) == 2 and head in ("activities", "messages"):
            return self._item(method, head, parts[1], body)
        return f"{method} (unknown)", 404, {"error": "no such endpoint"}

    def _store(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.activities if kind == "activities" else self.messages

    def _create(self, kind: str, body: bytes) -> tuple[str, int, Any]:
        record = loads(body) if body else {}
        if not isinstance(record, dict):
            return f"POST /{kind}", 400, {"error": "object expected"}
        record["id"] = str(next(self._ids))
        self._store(kind)[record["id"]] = record
        return f"POST /{kind}", 201, {"id": record["id"]}

    def _item(self, method: str, kind: str, item_id: str, body: bytes) -> tuple[str, int, Any]:
        key = f"{method} /{kind}/{{id}}"
        record = self._store(kind).get(item_id)
        if record is None:
            return key, 404, {"error": "not found"}
        if method == "GET":
            return key, 200, record
        if method == "PATCH":
            changes = loads(body) if body else {}
            if isinstance(changes, dict):
                record.update(changes)
            return key, 200, record
        return key, 405, {"error": "method not allowed"}

    # -- bookkeeping ------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "total": sum(self.counts.values()),
            "activities": len(self.activities),
            "messages": len(self.messages),
            "latencyMs": self.latency * 1000.0,
        }

    # -- ASGI -------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        if path.startswith("/__"):
            if path == "/__reset":
                self.counts.clear()
                await _reply(send, 200, {"reset": True})
            elif path == "/__stats":
                await _reply(send, 200, self.stats())
            else:
                await _reply(send, 404, {"error": "no such endpoint"})
            return
        key, status, payload = self.route(scope["method"], path, scope["query_string"], body)
        self.counts[key] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        await _reply(send, status, payload)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, payload: Any) -> None:
    data = dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7070)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--contacts", type=int, default=1000, help="seeded contacts")
    args = parser.parse_args()
    app = FakeCrm(latency_ms=args.latency_ms, contacts=args.contacts)
    # The fake keeps every record it is sent (tens of thousands of parsed JSON dicts per run).
    # Python's cyclic collector would walk all of them now and then, stalling every request
    # in flight for tens of milliseconds: latency spikes of the fake, not of the server under
    # test. Parsed JSON holds no reference cycles, so reference counting frees all garbage.
    gc.disable()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="auto",  # uvloop and httptools when installed: the cheapest per request
        http="auto",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
