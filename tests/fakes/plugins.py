"""Fakes of the world around plugins: RingCentral's identity API, the Developer Console's
manifest API, and a transport that sends each host to its own fake (or to a real server).

``HostRouter({"crm.test": crm.transport, "caps.plugins.test": httpx2.ASGITransport(app)})``
routes by host name; unlisted hosts go to ``default`` (e.g. a real network transport for
loopback servers) or get a 502.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

RC_HOST = "platform.ringcentral.com"
RC_SERVER = f"https://{RC_HOST}"
CONSOLE_HOST = "appconnect.labs.ringcentral.com"
EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"


class HostRouter(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        routes: Mapping[str, httpx2.AsyncBaseTransport],
        default: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.routes = dict(routes)
        self.default = default

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        transport = self.routes.get(request.url.host) or self.default
        if transport is None:
            return httpx2.Response(502, json={"error": f"no route to {request.url.host}"})
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self.default is not None:
            await self.default.aclose()


@dataclass
class FakeRingCentral:
    """``GET /restapi/v1.0/account/~/extension/~``: each known token names an extension."""

    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[httpx2.Request] = field(default_factory=list)

    def admin(self, token: str, account_id: str, extension_id: str = "101") -> None:
        self.tokens[token] = {
            "id": extension_id,
            "account": {"id": account_id},
            "permissions": {"admin": {"enabled": True}},
        }

    def user(self, token: str, account_id: str, extension_id: str = "102") -> None:
        self.tokens[token] = {"id": extension_id, "account": {"id": account_id}}

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request)
        if request.url.path != EXTENSION_PATH:
            return httpx2.Response(404)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        known = self.tokens.get(token)
        if known is None:
            return httpx2.Response(401, json={"errorCode": "TokenInvalid"})
        return httpx2.Response(200, json=known)


@dataclass
class FakeDeveloperConsole:
    """``GET /public-api/connectors/{pluginId}/manifest``: the published plugin manifests."""

    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[httpx2.Request] = field(default_factory=list)

    def publish(self, plugin_id: str, entry: dict[str, Any], name: str | None = None) -> None:
        self.manifests[plugin_id] = {"platforms": {name or plugin_id: entry}}

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request)
        parts = request.url.path.split("/")
        # /public-api/connectors/<id>/manifest
        if len(parts) == 5 and parts[4] == "manifest" and parts[3] in self.manifests:
            return httpx2.Response(200, json=self.manifests[parts[3]])
        return httpx2.Response(404, json={"error": "not found"})


def plugin_entry(
    base: str, *, is_async: bool = False, log_types: tuple[str, ...] = ("call",), **extra: Any
) -> dict[str, Any]:
    """A manifest platform entry for an SDK plugin server at ``base`` (conventional paths)."""
    entry: dict[str, Any] = {
        "endpointUrl": f"{base}/plugin/{'async' if is_async else 'sync'}",
        "userRegisterEndpointUrl": f"{base}/admin/register",
        "licenseStatusUrl": f"{base}/license",
        "supportedLogTypes": list(log_types),
        "isAsync": is_async,
    }
    if is_async:
        entry["tokenSyncUrl"] = f"{base}/token/sync"
    entry.update(extra)
    return entry
