"""A programmable fake CRM behind ``httpx2.MockTransport``.

Route tests hand ``FakeCrm().transport`` to ``create_app(http_transport=...)``; every outbound
request of the server (connector calls, OAuth token refreshes) then lands here. The fake records
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

from appconnect.connectors.base import Connector
from appconnect.connectors.results import (
    ContactMatch,
    CreateContactResult,
    FindContactResult,
    ReturnMessage,
)

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


# -- connectors that talk to the fake --------------------------------------------------------


class FakeCrmConnector(Connector):
    """An API-key connector for the fake CRM at :data:`CRM`; ``seen`` records find_contact args.

    ``GET /contacts?phone=`` answers a list of contacts, or a complete ``findContact`` answer
    (an object) when a test scripts one; ``POST /contacts`` creates (an empty object: failure);
    ``GET /contacts/search?name=`` searches by name.
    """

    platform = "testcrm"
    auth_type = "apiKey"

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def find_contact(
        self,
        user: Any,
        auth_header: str,
        phone_number: str,
        overriding_format: str | None,
        is_extension: Any,
        is_force_refresh_account_data: bool,
    ) -> FindContactResult | dict[str, Any]:
        self.seen.append(
            {
                "user": user.id,
                "phone_number": phone_number,
                "overriding_format": overriding_format,
                "is_extension": is_extension,
                "force": is_force_refresh_account_data,
            }
        )
        params = {"phone": phone_number}
        if overriding_format:
            params["format"] = overriding_format
        response = await self.http(CRM).get(
            "/contacts", params=params, headers={"Authorization": auth_header}
        )
        response.raise_for_status()
        data = response.json()
        if isinstance(data, dict):  # the CRM scripts a complete connector answer
            return data
        return FindContactResult(matched_contact_info=[ContactMatch(**c) for c in data])

    async def create_contact(
        self,
        auth_header: str,
        phone_number: str,
        new_contact_name: str,
        new_contact_type: str | None,
        additional_submission: dict[str, Any] | None,
    ) -> CreateContactResult:
        response = await self.http(CRM).post(
            "/contacts",
            json={
                "phone": phone_number,
                "name": new_contact_name,
                "type": new_contact_type,
                "extra": additional_submission,
            },
            headers={"Authorization": auth_header},
        )
        response.raise_for_status()
        created = response.json()
        if not created:
            return CreateContactResult(
                return_message=ReturnMessage(message="Could not create", message_type="warning")
            )
        return CreateContactResult(
            contact_info=ContactMatch(**created),
            return_message=ReturnMessage(message="Contact created.", ttl=2000),
        )

    async def find_contact_with_name(self, auth_header: str, name: str) -> FindContactResult:
        response = await self.http(CRM).get(
            "/contacts/search", params={"name": name}, headers={"Authorization": auth_header}
        )
        response.raise_for_status()
        return FindContactResult(matched_contact_info=[ContactMatch(**c) for c in response.json()])

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class FakeOAuthConnector(FakeCrmConnector):
    """The same CRM behind OAuth; its token endpoint is ``POST /oauth/token``."""

    platform = "oauthcrm"
    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {
            "clientId": "cid",
            "clientSecret": "csecret",
            "accessTokenUri": f"{CRM}/oauth/token",
        }


class BareConnector(Connector):
    """A connector implementing only the required interfaces."""

    platform = "barecrm"

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}
