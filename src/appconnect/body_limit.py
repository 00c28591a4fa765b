"""Request-body size limits, enforced while the body is read (raw ASGI).

The reference (Express ``body-parser``, 50 MB) and a naive ``await request.body()`` read the whole
body before looking at its size: a 600 MB upload cost 1.36 GB of memory before it was refused.
Here a declared ``Content-Length`` over the route's limit is refused before a byte of the body is
read, and a body without one (chunked) is counted as it streams in and refused the moment it
passes the limit. Either way the answer is ``413`` ``request entity too large`` (plain text) and
the connection is not read further.

Limits per route (documented in docs/deployment.md):

* ``/apiKeyLogin``, ``/unAuthorize``, ``/callLog/cacheNote``, ``/callDisposition``: 1 MB;
* every other route: 50 MB (the reference's limit; call and message logs may carry transcripts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

MB = 1024 * 1024
DEFAULT_LIMIT = 50 * MB
SMALL_LIMIT = 1 * MB
ROUTE_LIMITS: dict[str, int] = {
    "/apiKeyLogin": SMALL_LIMIT,
    "/unAuthorize": SMALL_LIMIT,
    "/callLog/cacheNote": SMALL_LIMIT,
    "/callDisposition": SMALL_LIMIT,
}
TOO_LARGE = b"request entity too large"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def limit_for(path: str) -> int:
    return ROUTE_LIMITS.get(path.rstrip("/") or "/", DEFAULT_LIMIT)


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number (``None`` when absent or unreadable)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"x-content-type-options", b"nosniff"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


class LimitedBody:
    """``receive`` and ``send`` for one request whose body may not exceed ``limit`` bytes.

    Once the limit is passed, the 413 goes out (unless the app already started answering), the
    app is told the client disconnected, and whatever the app sends afterwards is dropped.
    """

    __slots__ = ("_limit", "_receive", "_refused", "_seen", "_send", "_started")

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self._limit = limit
        self._seen = 0
        self._refused = False
        self._started = False

    async def receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                self._refused = True
                if not self._started:
                    self._started = True
                    await refuse(self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)
