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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx2
import orjson

__all__ = ["CRM", "FakeCrm", "Handler", "Recorded", "Reply"]

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

        ``reply`` may be a response, a (sync or async) handler, or an exception (class or
        instance) to raise; httpx2 exception classes are built with the request attached.
        """
        if reply is None:
            reply = httpx2.Response(status, json=json)
        key = (method.upper(), f"{host}{path}" if host else path)
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
        return httpx2.MockTransport(self._handle)

    # -- the transport handler ---------------------------------------------------------------

    def _route(self, request: httpx2.Request) -> Reply | None:
        method, path = request.method, request.url.path
        return self._routes.get((method, f"{request.url.host}{path}")) or self._routes.get(
            (method, path)
        )

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
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
