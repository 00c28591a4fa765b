"""A fake RingCentral API for the user/admin route tests, in front of any CRM transport.

:class:`FakeRingCentral` answers the identity check (``GET /restapi/v1.0/account/~/extension/~``)
from a table of tokens, plus any route a test adds with :meth:`FakeRingCentral.on`. Requests to
other hosts go to the wrapped CRM transport, so one ``http_transport`` serves both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

RC_HOST = "platform.ringcentral.com"
RC_SERVER = f"https://{RC_HOST}"
IDENTITY_PATH = "/restapi/v1.0/account/~/extension/~"


@dataclass
class Caller:
    account_id: Any
    extension_id: Any
    admin: bool = False


@dataclass
class FakeRingCentral:
    tokens: dict[str, Caller] = field(default_factory=dict)
    routes: dict[tuple[str, str], Callable[[httpx2.Request], Any]] = field(default_factory=dict)
    requests: list[httpx2.Request] = field(default_factory=list)

    def caller(self, token: str, account_id: Any, extension_id: Any, *, admin: bool = False) -> str:
        self.tokens[token] = Caller(account_id, extension_id, admin)
        return token

    def on(self, method: str, path: str, handler: Callable[[httpx2.Request], Any]) -> None:
        self.routes[(method.upper(), path)] = handler

    def calls(self, path: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.url.path == path]

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        await request.aread()
        if request.method == "GET" and request.url.path == IDENTITY_PATH:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            caller = self.tokens.get(token)
            if caller is None:
                return httpx2.Response(401, json={"errorCode": "TokenInvalid"})
            return httpx2.Response(
                200,
                json={
                    "id": caller.extension_id,
                    "account": {"id": caller.account_id},
                    "permissions": {"admin": {"enabled": caller.admin}},
                },
            )
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx2.Response(404, json={"message": "no route"})
        result = handler(request)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, httpx2.Response):
            return result
        return httpx2.Response(200, json=result)

    def wrap(self, crm: httpx2.AsyncBaseTransport | None = None) -> httpx2.MockTransport:
        """One transport: RingCentral's host here, everything else to ``crm``."""

        async def dispatch(request: httpx2.Request) -> httpx2.Response:
            if request.url.host == RC_HOST:
                return await self.handle(request)
            if crm is None:
                return httpx2.Response(404, json={"error": "no CRM"})
            return await crm.handle_async_request(request)

        return httpx2.MockTransport(dispatch)


def rc(token: str) -> dict[str, str]:
    return {"X-RC-Access-Token": token}


HTML = "text/html; charset=utf-8"


def assert_text(response: httpx2.Response, status: int, text: str) -> None:
    assert (response.status_code, response.headers["content-type"], response.text) == (
        status,
        HTML,
        text,
    )
