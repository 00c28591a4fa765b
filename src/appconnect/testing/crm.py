"""A programmable fake CRM behind ``httpx2.MockTransport``.

Tests hand ``FakeCrm().transport`` to ``create_app(http_transport=...)`` (or give the fake to
:func:`appconnect.testing.app_client`); every outbound request of the server (connector calls,
OAuth token refreshes) then lands here. The fake records
each request so tests can assert exactly what the CRM saw, and answers from a small route table.
``gate`` (an :class:`asyncio.Event`) or ``delay`` hold every answer back, which is how tests make
requests overlap without timing assertions.

Example::

    crm = FakeCrm()
    crm.on("GET", "/contacts", json=[{"id": 1, "name": "Jane"}])
    crm.on("POST", "/contacts", status=500)
    crm.on("GET", "/slow", httpx2.ReadTimeout)          # raised like a real timeout
    app = create_app(registry, settings=..., http_transport=crm.transport)
    ...
    assert crm.calls("GET", "/contacts")[0].headers["authorization"] == "Basic ..."
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx2
import orjson

__all__ = ["CRM", "FakeCrm", "Handler", "Recorded", "Reply", "crm_asgi_app", "serve_crm"]

CRM = "https://crm.example"

Handler = Callable[[httpx2.Request], "httpx2.Response | Awaitable[httpx2.Response]"]
Reply = httpx2.Response | Handler | BaseException | type[BaseException]


@dataclass(frozen=True)
class Recorded:
    """One request as the CRM received it."""

    method: str
    url: str
    host: str
    path: str
    params: dict[str, str]
    headers: httpx2.Headers
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


class FakeCrm:
    """Route table + request log; unmatched requests get ``404 {"error": "no route"}``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.gate: asyncio.Event | None = None
        self.delay: float = 0.0
        self._routes: dict[tuple[str, str], Reply] = {}
        self._patterns: list[tuple[str, re.Pattern[str], Reply]] = []
        self._arrived = asyncio.Condition()

    # -- configuration -----------------------------------------------------------------------

    def on(
        self,
        method: str,
        path: str,
        reply: Reply | None = None,
        *,
        json: Any = None,
        status: int = 200,
        host: str | None = None,
    ) -> None:
        """Answer ``method path`` (optionally only on ``host``) with ``reply`` or a JSON body.

        ``path`` may hold ``{name}`` placeholders (``/activities/{id}``), each matching one path
        segment; exact paths win over such patterns.

        ``reply`` may be a response, a (sync or async) handler, or an exception (class or
        instance) to raise; httpx2 exception classes are built with the request attached.
        """
        if reply is None:
            reply = httpx2.Response(status, json=json)
        key = (method.upper(), f"{host}{path}" if host else path)
        if "{" in path:
            pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(key[1]))
            self._patterns.append((key[0], re.compile(pattern + "$"), reply))
        else:
            self._routes[key] = reply

    # -- inspection --------------------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        ]

    async def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        """Until ``count`` requests have arrived (a test bug if that takes ``timeout``)."""

        async def arrived() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= count)

        await asyncio.wait_for(arrived(), timeout)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    # -- the transport handler ---------------------------------------------------------------

    def _route(self, request: httpx2.Request) -> Reply | None:
        method, path = request.method, request.url.path
        hosted = f"{request.url.host}{path}"
        found = self._routes.get((method, hosted)) or self._routes.get((method, path))
        if found is not None:
            return found
        for verb, pattern, reply in reversed(self._patterns):
            if verb == method and (pattern.match(hosted) or pattern.match(path)):
                return reply
        return None

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Record ``request`` and answer it from the route table."""
        self.requests.append(
            Recorded(
                method=request.method,
                url=str(request.url),
                host=request.url.host,
                path=request.url.path,
                params=dict(request.url.params),
                headers=request.headers,
                body=request.content,
            )
        )
        async with self._arrived:
            self._arrived.notify_all()
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = self._route(request)
        if reply is None:
            return httpx2.Response(404, json={"error": "no route"})
        if isinstance(reply, httpx2.Response):
            return reply
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, type):
            error_class = cast(type[BaseException], reply)
            if issubclass(error_class, httpx2.RequestError):
                raise error_class("simulated failure", request=request)
            raise error_class("simulated failure")
        result: Any = reply(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, httpx2.Response)
        return result


def crm_asgi_app(crm: FakeCrm) -> Any:
    """``crm`` as an ASGI app, so a real server (``appconnect serve``) can reach it over HTTP.

    Every request goes through the same route table and request log as with the transport.
    """

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"http://{host}{scope['path']}" + (f"?{query}" if query else "")
        request = httpx2.Request(
            scope["method"],
            url,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            content=body,
        )
        response = await crm.handle(request)
        content = response.content
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "transfer-encoding")]  # fmt: skip
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": headers})  # fmt: skip
        await send({"type": "http.response.body", "body": content})

    return app


def serve_crm(crm: FakeCrm, port: int = 6067, host: str = "127.0.0.1") -> None:
    """Serve ``crm`` over HTTP until interrupted (``python -m tests.fake_crm`` in a new project)."""
    import uvicorn

    uvicorn.run(crm_asgi_app(crm), host=host, port=port, log_level="warning")
