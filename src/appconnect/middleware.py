"""ASGI middleware: body limits, the start-up gate and the session-token normalization.

Written as raw ASGI rather than ``BaseHTTPMiddleware``: it runs on every request, and the raw
form adds no task or stream copy per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import orjson

from appconnect.api.session import SCOPE_RUNTIME, SCOPE_SESSION, Session
from appconnect.body_limit import LimitedBody, declared_length, limit_for, refuse
from appconnect.services.sessions import is_current

if TYPE_CHECKING:
    from appconnect.app import AppConnect

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REFRESHED_HEADER = b"x-refreshed-jwt-token"
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
_TE = b"transfer-encoding"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _bearer(scope: Scope) -> str | None:
    raw = _header(scope, b"authorization")
    if not raw:
        return None
    parts = raw.split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


_UNAVAILABLE = orjson.dumps({"error": "Service unavailable"})


def carries_its_own_credentials(path: str) -> bool:
    """The MCP surface (``/mcp``, ``/mcp/...``) is outside the App Connect session rules.

    Its ``Authorization: Bearer`` is the RingCentral access token of the MCP client's own OAuth
    (mcp.md §1), and the widget's calls carry ``X-App-Connect-Widget-Token``: neither is an App
    Connect session token. Reading one as a session would spend a signature check (and, for a
    session token that happens to verify, a revocation look-up) on every MCP message, and could
    answer with ``x-refreshed-jwt-token`` to a client that has no use for it. The MCP routes
    check their own credentials (``api/mcp.py``), so the session middleware leaves them alone.
    """
    return path == "/mcp" or path.startswith("/mcp/")


class AppConnectMiddleware:
    """Waits for start-up, then works out the request's session token.

    Token rules (reference §2.1): ``Authorization: Bearer`` wins over the legacy ``jwtToken``
    query parameter; an invalid bearer also discards a query token; a valid token that expires
    within seven days is replaced by a fresh one, sent back in ``x-refreshed-jwt-token``.
    Ours: a token issued before the user's last logout (``POST /unAuthorize``) is invalid.
    """

    def __init__(self, app: ASGIApp, core: AppConnect) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        length = declared_length(scope)
        if length is not None and length > limit:
            await refuse(send)  # before reading a byte of it
            return
        if length is None and (scope.get("method") not in _BODYLESS or _header(scope, _TE)):
            # No declared length (chunked): count the body as it streams in.
            limited = LimitedBody(receive, send, limit)
            receive, send = limited.receive, limited.send
        try:
            runtime = await self.core.ready()
        except Exception:  # not started (yet): the reference's 503 gate
            # Never the exception's text, in any mode: it names drivers, hosts, paths, errno.
            # The start-up loop logs each failed attempt with its cause.
            body = _UNAVAILABLE
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        scope[SCOPE_RUNTIME] = runtime
        if carries_its_own_credentials(scope["path"]):
            await self.app(scope, receive, send)
            return

        bearer = _bearer(scope)
        query = scope.get("query_string", b"")
        query_token: str | None = None
        if b"jwtToken=" in query:
            query_token = dict(parse_qsl(query.decode("latin-1"))).get("jwtToken")
        token = bearer or query_token
        claims = runtime.sessions.verify(token) if token else None
        if (
            claims is not None
            and claims.get("id") is not None
            and not await is_current(runtime, claims)
        ):
            claims = None  # issued before the user's last logout: refused on every route
        if claims is None or claims.get("id") is None:
            # Unauthenticated. A bad bearer also hides the query token; a bad query token alone
            # stays visible so the route can say "invalid" rather than "missing".
            seen = None if bearer else query_token
            scope[SCOPE_SESSION] = Session(seen, claims if seen else None)
            await self.app(scope, receive, send)
            return

        refreshed: str | None = None
        if runtime.sessions.needs_rotation(claims):
            refreshed = runtime.sessions.issue(
                claims["id"], str(claims.get("platform")), generation=claims.get("sg")
            )
            claims = runtime.sessions.verify(refreshed) or claims
            token = refreshed
            if query_token:
                pairs = [
                    (k, refreshed if k == "jwtToken" else v)
                    for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                ]
                scope["query_string"] = urlencode(pairs).encode("latin-1")
        scope[SCOPE_SESSION] = Session(token, claims)
        if refreshed is None:
            await self.app(scope, receive, send)
            return

        header_value = refreshed.encode("latin-1")

        async def send_with_token(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REFRESHED_HEADER, header_value)]
            await send(message)

        await self.app(scope, receive, send_with_token)
