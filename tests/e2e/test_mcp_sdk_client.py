"""The official MCP Python SDK's client against a real server on loopback (uvicorn).

RingCentral is mocked at the server's HTTP transport. The RingCentral extension is already
connected to the demo CRM through the browser extension (the user row carries its hashed
extension id), so with the host's ``openai/session`` the server associates the CRM session by
itself: the model never sees a CRM token.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from appconnect.app import create_app
from appconnect.runtime import Runtime
from appconnect.security.hashing import hash_id
from appconnect.settings import Settings
from support import add_user

mcp_client = pytest.importorskip("mcp.client.session")
streamable = pytest.importorskip("mcp.client.streamable_http")

HASH_KEY = "test-hash-key"
RC_TOKEN = "rc-access-token"
EXTENSION_ID = 62345


def ringcentral(request: httpx2.Request) -> httpx2.Response:
    """RingCentral's extension endpoint: who owns the bearer token."""
    if request.url.path == "/restapi/v1.0/account/~/extension/~":
        if request.headers.get("authorization") != f"Bearer {RC_TOKEN}":
            return httpx2.Response(401, json={"errorCode": "TokenInvalid"})
        return httpx2.Response(
            200, json={"id": EXTENSION_ID, "name": "Grace Hopper", "account": {"id": 777}}
        )
    return httpx2.Response(404, json={"error": "no route"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, Runtime]]:
    settings = Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/mcp.db",
        APP_SERVER_SECRET_KEY="mcp-e2e-secret-0123456789abcdef0123",
        HASH_KEY=HASH_KEY,
    )
    app = create_app(settings=settings, http_transport=httpx2.MockTransport(ringcentral))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    try:
        while not uv.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}", app.state.appconnect.runtime
    finally:
        uv.should_exit = True
        await task


def _structured(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result
    data: dict[str, Any] = result.structured_content
    return data


async def test_sdk_client_lists_tools_and_works_the_demo_crm(server: tuple[str, Runtime]) -> None:
    base, rt = server
    await add_user(
        rt, "alice-demo", "demo", access_token="demo-key",
        hashed_rc_extension_id=hash_id(str(EXTENSION_ID), HASH_KEY),
    )  # fmt: skip
    meta = {"openai/session": "conv-1"}
    headers = {"Authorization": f"Bearer {RC_TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable.streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
        mcp_client.ClientSession(read, write) as client,
    ):
        init = await client.initialize()
        assert init.protocol_version == "2024-11-05"
        assert init.server_info.name == "rc-unified-crm-extension"

        listed = await client.list_tools()
        names = [tool.name for tool in listed.tools]
        assert names[:4] == ["getHelp", "getPublicConnectors", "getSessionInfo", "logout"]
        assert {"findContactByPhone", "createContact", "createCallLog", "listAppointments"} <= set(
            names
        )
        assert "doAuth" not in names and "checkAuthStatus" not in names

        found = await client.call_tool(
            "findContactByPhone", {"phoneNumber": "+16505550100"}, meta=meta
        )
        assert not found.is_error, found
        assert [c["name"] for c in _structured(found)["data"] if not c.get("isNewContact")] == [
            "Ada Lovelace"
        ]

        created = await client.call_tool(
            "createContact", {"phoneNumber": "+14155550123", "newContactName": "Zed Zero"},
            meta=meta,
        )  # fmt: skip
        contact = _structured(created)["data"]["contact"]
        assert contact["name"] == "Zed Zero"

        logged = await client.call_tool(
            "createCallLog",
            {
                "incomingData": {
                    "logInfo": {
                        "id": "call-1", "sessionId": "s-1", "telephonySessionId": "t-1",
                        "direction": "Outbound", "startTime": "2026-07-20T10:30:00Z",
                        "duration": 65, "result": "Completed",
                        "from": {"phoneNumber": "+16505550199"},
                        "to": {"phoneNumber": "+14155550123", "name": "Zed Zero"},
                    },
                    "contactName": "Zed Zero",
                    "note": "Talked about the renewal",
                }
            },
            meta=meta,
        )  # fmt: skip
        assert _structured(logged)["success"] is True, logged
        assert _structured(logged)["data"]["logId"]

        again = await client.call_tool(
            "createCallLog",
            {"incomingData": {"logInfo": {"id": "call-1", "sessionId": "s-1",
                                          "telephonySessionId": "t-1", "direction": "Outbound",
                                          "to": {"phoneNumber": "+14155550123"}},
                              "contactName": "Zed Zero"}},
            meta=meta,
        )  # fmt: skip
        assert again.is_error
        assert _structured(again)["error"] == "Call log already exists for session s-1"

        made = await client.call_tool(
            "createAppointment",
            {"title": "Renewal call", "startTimeUtc": "2026-07-21T15:00:00Z",
             "durationMinutes": 30, "contacts": [contact["id"]]},
            meta=meta,
        )  # fmt: skip
        assert _structured(made)["success"] is True, made
        appointments = await client.call_tool(
            "listAppointments",
            {"filter": "custom", "startDate": "2026-07-01", "endDate": "2026-07-31"},
            meta=meta,
        )
        data = _structured(appointments)["data"]
        assert data["totalCount"] == 1
        assert data["appointments"][0]["title"] == "Renewal call"
        assert data["range"] == {"startDate": "2026-07-01", "endDate": "2026-07-31"}


async def test_sdk_client_without_a_crm_gets_a_tool_error(server: tuple[str, Runtime]) -> None:
    base, _ = server
    headers = {"Authorization": f"Bearer {RC_TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable.streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
        mcp_client.ClientSession(read, write) as client,
    ):
        await client.initialize()
        result = await client.call_tool("findContactByPhone", {"phoneNumber": "+16505550100"})
        assert result.is_error
        assert "getPublicConnectors" in _structured(result)["error"]
