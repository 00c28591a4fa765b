"""Helpers for the MCP route tests: a fake RingCentral + CRM, an OAuth CRM connector, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.demo import DemoConnector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.runtime import Runtime
from appconnect.settings import Settings

APP_SERVER = "https://connector.example"
RC_SERVER = "https://rc.example"
CRM = "https://crm.example"
HASH_KEY = "mcp-hash-key"
MCP_CLIENT_ID = "public-pkce-client"
# RingCentral bearer tokens and the extension each belongs to.
EXTENSIONS = {"rc-alice": 1001, "rc-bob": 2002}


@dataclass
class FakeWorld:
    """RingCentral (identity, extensions, call log) and a CRM token endpoint, recorded."""

    requests: list[httpx2.Request] = field(default_factory=list)
    call_log_pages: list[list[dict[str, Any]]] = field(default_factory=list)
    token_status: int = 200

    def calls(self, path: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.url.path == path]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ")
        if path == "/oauth/token":
            if self.token_status != 200:
                return httpx2.Response(self.token_status, json={"error": "invalid_grant"})
            return httpx2.Response(
                200, json={"access_token": "crm-at", "refresh_token": "crm-rt", "expires_in": 3600}
            )
        if token not in EXTENSIONS:
            return httpx2.Response(401, json={"errorCode": "TokenInvalid"})
        extension = EXTENSIONS[token]
        if path == "/restapi/v1.0/account/~/extension/~":
            return httpx2.Response(
                200, json={"id": extension, "name": token, "account": {"id": 555}}
            )
        if path == f"/restapi/v1.0/account/~/extension/{extension}":
            return httpx2.Response(200, json={"id": extension, "name": f"Name of {token}"})
        if path == "/restapi/v1.0/account/~/extension/~/call-log":
            page = int(request.url.params.get("page", "1"))
            records = self.call_log_pages[page - 1] if self.call_log_pages else []
            navigation = {"nextPage": {"uri": "next"}} if page < len(self.call_log_pages) else {}
            return httpx2.Response(200, json={"records": records, "navigation": navigation})
        return httpx2.Response(404, json={"error": "no route"})


class OAuthCrm(Connector):
    """An OAuth CRM for the widget flow (its token endpoint is the fake world's)."""

    platform = "oauthcrm"
    auth_type = "oauth"

    def __init__(self) -> None:
        self.mcp_flags: list[Any] = []

    async def get_oauth_info(self, is_from_mcp: Any = None, **_: Any) -> dict[str, Any]:
        self.mcp_flags.append(is_from_mcp)
        return {
            "clientId": "cid",
            "clientSecret": "csecret",
            "accessTokenUri": f"{CRM}/oauth/token",
            "redirectUri": f"{APP_SERVER}/oauth-callback",
        }

    async def get_user_info(self, **_: Any) -> dict[str, Any]:
        return {"successful": True, "platformUserInfo": {"id": "olive-oauthcrm", "name": "Olive"}}

    async def find_contact(self, phone_number: str) -> dict[str, Any]:
        return {
            "successful": True,
            "matchedContactInfo": [{"id": "c-9", "name": "Oscar", "phone": phone_number}],
        }

    async def unauthorize(self, user: Any) -> dict[str, Any]:
        await user.update(access_token="")
        return {"successful": True}

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


@dataclass
class Mcp:
    client: httpx2.AsyncClient
    rt: Runtime
    world: FakeWorld
    crm: OAuthCrm

    async def rpc(
        self, method: str, params: Any = None, *, token: str | None = "rc-alice", rid: Any = 1
    ) -> httpx2.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/mcp", json=message, headers=headers)

    async def tool(
        self, name: str, args: dict[str, Any] | None = None, *, token: str | None = "rc-alice",
        session: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        params: dict[str, Any] = {"name": name, "arguments": args or {}}
        if session:
            params["_meta"] = {"openai/session": session}
        response = await self.rpc("tools/call", params, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "result" in body, body
        result: dict[str, Any] = body["result"]
        return result

    async def widget(
        self, widget_token: str | None, tool: Any, args: Any = None
    ) -> httpx2.Response:
        headers = {"X-App-Connect-Widget-Token": widget_token} if widget_token else {}
        body: dict[str, Any] = {"tool": tool}
        if args is not None:
            body["toolArgs"] = args
        return await self.client.post("/mcp/widget-tool-call", json=body, headers=headers)


@asynccontextmanager
async def running(
    tmp_path: Path, db_url: str | None = None, **overrides: Any
) -> AsyncIterator[Mcp]:
    world = FakeWorld()
    crm = OAuthCrm()
    registry = ConnectorRegistry()
    registry.register(DemoConnector())
    registry.register(crm)
    values: dict[str, Any] = {
        "DATABASE_URL": db_url or f"sqlite:///{tmp_path}/mcp.db",
        "APP_SERVER_SECRET_KEY": "mcp-secret-0123456789abcdef0123456789",
        "HASH_KEY": HASH_KEY,
        "APP_SERVER": APP_SERVER,
        "RINGCENTRAL_SERVER": RC_SERVER,
        "RINGCENTRAL_MCP_CLIENT_ID": MCP_CLIENT_ID,
        "CHATGPT_VERIFICATION_CODE": "challenge-123",
        "APPCONNECT_SECRET_FILE": str(tmp_path / "secret.json"),
    }
    values.update(overrides)
    app = create_app(
        registry, settings=Settings(**values), http_transport=httpx2.MockTransport(world.handle)
    )
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Mcp(client, app.state.appconnect.runtime, world, crm)
