"""The MCP surface over HTTP (mcp.md): transport, auth gate, OAuth shim, widget flow, tools.

RingCentral and the CRM's token endpoint are one fake behind the server's HTTP transport.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from appconnect.security.hashing import hash_id
from appconnect.services import mcp_sessions
from appconnect.store.models import CacheRow, LlmSessionRow
from support import add_user

from ._mcp_helpers import APP_SERVER, EXTENSIONS, HASH_KEY, MCP_CLIENT_ID, RC_SERVER, Mcp, running

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture
async def mcp(tmp_path: Path, db_url: str) -> AsyncIterator[Mcp]:
    async with running(tmp_path, db_url) as harness:
        yield harness


# -- transport and gate ------------------------------------------------------------------------


async def test_discovery_methods_are_open(mcp: Mcp) -> None:
    init = await mcp.rpc("initialize", {"protocolVersion": "2025-06-18"}, token=None, rid="a")
    assert init.status_code == 200
    assert init.headers["access-control-allow-origin"] == "*"
    assert init.json() == {
        "jsonrpc": "2.0",
        "id": "a",
        "result": {
            "protocolVersion": "2024-11-05",
            "capabilities": {"tools": {}, "resources": {}},
            "serverInfo": {"name": "rc-unified-crm-extension", "version": "1.0.0"},
        },
    }
    listed = (await mcp.rpc("tools/list", token=None)).json()["result"]["tools"]
    assert [t["name"] for t in listed] == [
        "getHelp", "getPublicConnectors", "getSessionInfo", "logout", "findContactByPhone",
        "findContactByName", "createCallLog", "rcGetCallLogs", "createContact", "listAppointments",
        "createAppointment", "updateAppointment", "confirmAppointment", "cancelAppointment",
    ]  # fmt: skip
    by_name = {t["name"]: t for t in listed}
    assert by_name["cancelAppointment"]["annotations"] == {
        "readOnlyHint": False, "openWorldHint": True, "destructiveHint": True,
    }  # fmt: skip
    assert by_name["getPublicConnectors"]["_meta"]["openai/outputTemplate"].startswith(
        "ui://widget/ConnectorList-v"
    )
    assert by_name["rcGetCallLogs"]["inputSchema"]["required"] == ["timeFrom", "timeTo"]
    assert all("outputSchema" in t and "inputSchema" in t for t in listed)
    assert by_name["findContactByPhone"]["description"].split(" | ")[1]
    assert (await mcp.rpc("ping", token=None)).json()["result"] == {}
    for note in ("notifications/initialized", "notifications/cancelled"):
        response = await mcp.client.post("/mcp", json={"jsonrpc": "2.0", "method": note})
        assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer ", "token"])
async def test_gate_needs_an_authorization_header(mcp: Mcp, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method in ("tools/call", "resources/list", "unknown/method"):
        response = await mcp.client.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method}, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["error"] == "mcp_oauth_reconnect_required"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="mcp", resource_metadata="')
        assert f"{APP_SERVER}/.well-known/oauth-protected-resource" in challenge
        assert 'error="invalid_token"' in challenge
    assert mcp.world.requests == []


async def test_the_session_middleware_leaves_mcp_alone(mcp: Mcp) -> None:
    """An MCP bearer is a RingCentral token, never an App Connect session: even an App Connect
    token about to expire is not rotated on /mcp, while every other path (including one that
    merely starts with "/mcp") rotates it."""
    old = mcp.rt.sessions.issue("u1", "acme", now=time.time() - 8 * 86400)
    headers = {"Authorization": f"Bearer {old}"}
    control = await mcp.client.get("/isAlive", headers=headers)
    assert "x-refreshed-jwt-token" in control.headers
    ping = await mcp.client.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
    )
    assert ping.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert "x-refreshed-jwt-token" not in ping.headers
    widget = await mcp.client.post("/mcp/widget-tool-call", json={"tool": "x"}, headers=headers)
    assert widget.status_code == 401 and "x-refreshed-jwt-token" not in widget.headers
    elsewhere = await mcp.client.get("/mcpx", headers=headers)
    assert elsewhere.status_code == 404 and "x-refreshed-jwt-token" in elsewhere.headers


async def test_jsonrpc_errors(mcp: Mcp) -> None:
    unknown = (await mcp.rpc("prompts/list", rid=4)).json()
    not_found = {"code": -32601, "message": "Method not found: prompts/list"}
    assert unknown == {"jsonrpc": "2.0", "id": 4, "error": not_found}
    bad_uri = (await mcp.rpc("resources/read", {"uri": "https://x"})).json()
    assert bad_uri["error"] == {"code": -32602, "message": "Unknown resource: https://x"}
    no_tool = (await mcp.rpc("tools/call", {"name": "nope", "arguments": {}})).json()
    assert no_tool["error"] == {
        "code": -32603, "message": "Tool execution failed: Tool not found: nope",
    }  # fmt: skip
    widget_only = (await mcp.rpc("tools/call", {"name": "doAuth"})).json()
    assert widget_only["error"]["message"] == "Tool execution failed: Tool not found: doAuth"
    no_params = (await mcp.rpc("tools/call", rid=9)).json()
    assert no_params["id"] == 9 and no_params["error"]["code"] == -32603
    assert no_params["error"]["message"] == "Internal server error"
    assert no_params["error"]["data"]["error"]
    malformed = await mcp.client.post(
        "/mcp", content=b"{not json", headers={"Authorization": "Bearer rc-alice"}
    )
    assert malformed.status_code == 200
    assert malformed.json()["error"]["message"] == "Internal server error"
    assert malformed.json()["id"] is None


@pytest.mark.parametrize(
    ("body", "reply_id", "error"),
    [
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], None,
         {"code": -32603, "message": "Internal server error",
          "data": {"error": "Invalid JSON-RPC request"}}),
        (7, None, {"code": -32603, "message": "Internal server error",
                   "data": {"error": "Invalid JSON-RPC request"}}),
        ({"jsonrpc": "2.0", "id": 2, "method": ["a", "b"]}, 2,
         {"code": -32601, "message": "Method not found: a,b"}),
        ({"jsonrpc": "2.0", "id": 3, "method": {"x": 1}}, 3,
         {"code": -32601, "message": "Method not found: [object Object]"}),
        ({"jsonrpc": "2.0", "id": 4}, 4,
         {"code": -32601, "message": "Method not found: undefined"}),
    ],
)  # fmt: skip
async def test_malformed_messages_are_answered_without_an_error_in_the_log(
    mcp: Mcp, body: Any, reply_id: Any, error: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Batches (the spec allows none), bare values and non-string methods are the client's
    mistake: a JSON-RPC error as the reference words it, and no traceback in the server's log."""
    reply = await mcp.client.post("/mcp", json=body, headers={"Authorization": "Bearer rc-alice"})
    assert reply.status_code == 200
    assert reply.json() == {"jsonrpc": "2.0", "id": reply_id, "error": error}
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


async def test_widget_resource(mcp: Mcp) -> None:
    [resource] = (await mcp.rpc("resources/list")).json()["result"]["resources"]
    assert resource["mimeType"] == "text/html+skybridge"
    assert resource["name"] == "connector-list-widget"
    read = (await mcp.rpc("resources/read", {"uri": "ui://widget/anything.html"})).json()
    [content] = read["result"]["contents"]
    assert content["uri"] == resource["uri"] and "<html" in content["text"]
    assert content["_meta"]["openai/widgetDomain"] == APP_SERVER
    assert content["_meta"]["openai/widgetCSP"]["resource_domains"] == [APP_SERVER]


async def test_options(mcp: Mcp) -> None:
    response = await mcp.client.options("/mcp")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Content-Type, Authorization"
    widget = await mcp.client.options("/mcp/widget-tool-call")
    assert widget.headers["access-control-allow-headers"] == (
        "Content-Type, X-App-Connect-Widget-Token"
    )
    assert (await mcp.client.get("/mcp")).status_code in (404, 405)


# -- identity ----------------------------------------------------------------------------------


async def test_rejected_ringcentral_token_is_a_tool_error(mcp: Mcp) -> None:
    result = await mcp.tool("getHelp", token="expired")
    assert result["isError"] is True
    structured = result["structuredContent"]
    assert structured["success"] is False
    assert structured["error"] == "mcp_oauth_reconnect_required"
    assert "401" in structured["errorDetails"]
    assert json.loads(result["content"][0]["text"]) == structured


async def test_extension_id_is_cached_per_host_session(mcp: Mcp) -> None:
    first = await mcp.tool("getHelp", session="conv-1")
    assert first["structuredContent"]["success"] is True and "isError" not in first
    await mcp.tool("getHelp", session="conv-1")
    assert len(mcp.world.calls(EXTENSION_PATH)) == 1
    await mcp.tool("getHelp")  # no host session: RingCentral is asked every time
    await mcp.tool("getHelp")
    assert len(mcp.world.calls(EXTENSION_PATH)) == 3
    async with mcp.rt.db.session() as session:
        row = await session.get(CacheRow, "conv-1-rcExtensionId")
    assert row is not None and row.data == {"rcExtensionId": "1001"} and row.status == "resolved"


async def test_browser_extension_association_and_isolation(mcp: Mcp) -> None:
    await add_user(
        mcp.rt, "alice-demo", "demo", access_token="k",
        hashed_rc_extension_id=hash_id("1001", HASH_KEY),
    )  # fmt: skip
    # Without a host session the association does not run (the reference's rule).
    lonely = await mcp.tool("findContactByPhone", {"phoneNumber": "+16505550100"})
    assert lonely["isError"] is True
    found = await mcp.tool("findContactByPhone", {"phoneNumber": "+16505550100"}, session="c-a")
    assert found["structuredContent"]["success"] is True
    assert found["structuredContent"]["data"][0]["name"] == "Ada Lovelace"
    # Now stored per extension: later calls need no host session.
    again = await mcp.tool("getSessionInfo")
    shown = again["structuredContent"]["data"]["dataToShow"]
    assert shown["isCrmAuthenticated"] is True
    assert shown["crm"] == {"userId": "alice-demo", "platform": "demo", "hostname": None}
    assert shown["ringcentral"] == {"extensionId": "1001", "name": "Name of rc-alice"}
    # Bob's extension gets nothing of Alice's, with or without the same host session.
    bob = await mcp.tool("findContactByPhone", {"phoneNumber": "+16505550100"}, token="rc-bob",
                         session="c-b")  # fmt: skip
    assert bob["isError"] is True and "getPublicConnectors" in bob["structuredContent"]["error"]
    bob_info = await mcp.tool("getSessionInfo", token="rc-bob")
    assert bob_info["structuredContent"]["data"]["dataToShow"]["isCrmAuthenticated"] is False


async def test_logged_out_user_is_not_injected(mcp: Mcp) -> None:
    await add_user(
        mcp.rt, "alice-demo", "demo", access_token="k",
        hashed_rc_extension_id=hash_id("1001", HASH_KEY),
    )  # fmt: skip
    assert (await mcp.tool("getSessionInfo", session="s1"))["structuredContent"]["data"][
        "dataToShow"]["isCrmAuthenticated"] is True  # fmt: skip
    out = await mcp.tool("logout")
    assert out["structuredContent"]["success"] is True
    async with mcp.rt.db.session() as session:
        assert (await session.scalars(select(LlmSessionRow))).all() == []
    user = await mcp.rt.users.get("alice-demo", fresh=True)
    assert user is not None and not user.access_token
    after = await mcp.tool("findContactByPhone", {"phoneNumber": "+16505550100"}, session="s1")
    assert after["isError"] is True


# -- OAuth shim --------------------------------------------------------------------------------


async def test_oauth_metadata(mcp: Mcp) -> None:
    resource = (await mcp.client.get("/.well-known/oauth-protected-resource")).json()
    assert resource == {"resource": APP_SERVER, "authorization_servers": [APP_SERVER],
                        "scopes_supported": ["ReadAccounts"]}  # fmt: skip
    server = (await mcp.client.get("/.well-known/oauth-authorization-server")).json()
    assert server["authorization_endpoint"] == f"{APP_SERVER}/oauth/authorize_shim"
    assert server["registration_endpoint"] == f"{APP_SERVER}/oauth/register"
    assert server["token_endpoint"] == f"{RC_SERVER}/restapi/oauth/token"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["token_endpoint_auth_methods_supported"] == ["none"]
    registered = await mcp.client.post("/oauth/register", json={"client_name": "x"})
    assert registered.json() == {
        "client_id": MCP_CLIENT_ID, "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    }  # fmt: skip
    challenge = await mcp.client.get("/.well-known/openai-apps-challenge")
    assert challenge.text == "challenge-123"


async def test_authorize_shim(mcp: Mcp) -> None:
    good = {
        "response_type": "code", "client_id": MCP_CLIENT_ID, "redirect_uri": "https://ai/cb",
        "state": "s t", "scope": "", "code_challenge": "abc", "code_challenge_method": "S256",
        "resource": "https://connector.example",
    }  # fmt: skip
    response = await mcp.client.get("/oauth/authorize_shim", params=good)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{RC_SERVER}/restapi/oauth/authorize?")
    assert "state=s+t" in location
    assert parse_qsl(urlsplit(location).query) == [
        ("response_type", "code"), ("client_id", MCP_CLIENT_ID), ("redirect_uri", "https://ai/cb"),
        ("state", "s t"), ("code_challenge", "abc"), ("code_challenge_method", "S256"),
    ]  # fmt: skip
    without_client = {k: v for k, v in good.items() if k != "client_id"}
    response = await mcp.client.get("/oauth/authorize_shim", params=without_client)
    assert response.status_code == 302
    stale = await mcp.client.get("/oauth/authorize_shim", params={**good, "client_id": "old"})
    assert stale.status_code == 400 and stale.json()["error"] == "mcp_oauth_client_mismatch"
    missing = await mcp.client.get("/oauth/authorize_shim", params={**good, "redirect_uri": ""})
    assert missing.status_code == 400 and missing.text == "Missing OAuth authorization parameters"
    plain = await mcp.client.get(
        "/oauth/authorize_shim", params={**good, "code_challenge_method": "plain"}
    )
    assert plain.status_code == 400 and plain.text == "PKCE S256 code_challenge is required"


async def test_shim_without_a_client_id(tmp_path: Path) -> None:
    async with running(tmp_path, RINGCENTRAL_MCP_CLIENT_ID="") as mcp:
        for response in (
            await mcp.client.post("/oauth/register"),
            await mcp.client.get("/oauth/authorize_shim", params={"response_type": "code"}),
        ):
            assert response.status_code == 500
            assert response.text == "RINGCENTRAL_MCP_CLIENT_ID is not configured"


# -- widget flow -------------------------------------------------------------------------------


async def _bootstrap(mcp: Mcp, token: str = "rc-alice", session: str = "conv-9") -> dict[str, Any]:
    result = await mcp.tool("getPublicConnectors", token=token, session=session)
    assert "isError" not in result
    structured: dict[str, Any] = result["structuredContent"]
    return structured


async def test_widget_connects_a_crm_through_oauth_callback(mcp: Mcp) -> None:
    boot = await _bootstrap(mcp)
    assert boot["serverUrl"] == APP_SERVER and boot["rcExtensionId"] == "1001"
    assert boot["rcAccountId"] == "555" and boot["openaiSessionId"] == "conv-9"
    widget = boot["widgetSessionToken"]
    assert mcp_sessions.verify_widget_token(mcp.rt, widget) == {
        "rcExtensionId": "1001", "openaiSessionId": "conv-9",
    }  # fmt: skip
    started = await mcp.widget(widget, "doAuth", {"sessionId": "conv-9",
                                                  "connectorName": "oauthcrm",
                                                  "hostname": "crm.example",
                                                  "rcExtensionId": "forged"})  # fmt: skip
    assert started.status_code == 200 and started.json() == {"success": True}
    pending = await mcp.widget(widget, "checkAuthStatus", {"sessionId": "conv-9"})
    assert pending.json() == {"data": {"status": "pending"}}

    state = "sessionId=conv-9&platform=oauthcrm&hostname=crm.example"
    callback = await mcp.client.get("/oauth-callback", params={"code": "abc", "state": state})
    assert callback.status_code == 200, callback.text
    assert "return to your AI assistant" in callback.text
    assert mcp.crm.mcp_flags == [True]

    done = (await mcp.widget(widget, "checkAuthStatus", {"sessionId": "conv-9"})).json()
    assert done["data"]["status"] == "completed"
    assert done["data"]["userInfo"] == {"id": "olive-oauthcrm", "name": "Olive"}
    assert "jwtToken" not in json.dumps(done)
    # The CRM session is now bound to the extension: tools work without any host session.
    info = await mcp.tool("getSessionInfo")
    shown = info["structuredContent"]["data"]["dataToShow"]
    assert shown["isCrmAuthenticated"] is True and shown["crm"]["platform"] == "oauthcrm"
    found = await mcp.tool("findContactByPhone", {"phoneNumber": "+14155550100"})
    assert found["structuredContent"]["data"][0]["name"] == "Oscar"
    missing = await mcp.tool("findContactByName", {"name": "Oscar"})
    assert missing["structuredContent"]["error"] == (
        "findContactWithName is not implemented for platform: oauthcrm"
    )


async def test_failed_callback_marks_the_auth_session_failed(mcp: Mcp) -> None:
    widget = (await _bootstrap(mcp))["widgetSessionToken"]
    await mcp.widget(widget, "doAuth", {"sessionId": "conv-9", "connectorName": "oauthcrm"})
    mcp.world.token_status = 400
    state = "sessionId%3Dconv-9%26platform%3Doauthcrm"
    callback = await mcp.client.get("/oauth-callback", params={"code": "abc", "state": state})
    assert callback.status_code == 400 and "error" in callback.json()
    status = (await mcp.widget(widget, "checkAuthStatus", {"sessionId": "conv-9"})).json()
    assert status["data"]["status"] == "failed" and status["data"]["errorMessage"]


async def test_widget_tool_call_checks(mcp: Mcp) -> None:
    widget = (await _bootstrap(mcp))["widgetSessionToken"]
    bad = await mcp.widget("garbage", "doAuth", {})
    assert bad.status_code == 401 and bad.json() == {"success": False,
                                                     "error": "Invalid widget session"}  # fmt: skip
    assert (await mcp.widget(None, "doAuth", {})).status_code == 401
    no_tool = await mcp.widget(widget, None)
    assert no_tool.status_code == 400 and no_tool.json()["error"] == "Missing tool name"
    for name in ("findContactByPhone", "nope"):
        unknown = await mcp.widget(widget, name, {})
        assert unknown.status_code == 404 and unknown.json()["error"] == f"Unknown tool: {name}"
    mismatch = await mcp.widget(widget, "checkAuthStatus", {"sessionId": "someone-else"})
    assert mismatch.status_code == 403 and mismatch.json()["error"] == "Widget session mismatch"
    missing = await mcp.widget(widget, "doAuth", {"sessionId": "conv-9"})
    assert missing.status_code == 200 and missing.json()["success"] is False
    unknown_session = await mcp.widget(widget, "checkAuthStatus", {"sessionId": "conv-9"})
    assert unknown_session.json()["success"] is False
    # Bob's widget cannot read Alice's auth session.
    await mcp.widget(widget, "doAuth", {"sessionId": "conv-9", "connectorName": "oauthcrm"})
    bob = (await _bootstrap(mcp, "rc-bob", session="conv-9"))["widgetSessionToken"]
    other = await mcp.widget(bob, "checkAuthStatus", {"sessionId": "conv-9"})
    assert other.json()["success"] is False and "another" in other.json()["error"]


async def test_already_connected_extension_gets_a_message(mcp: Mcp) -> None:
    await add_user(
        mcp.rt, "alice-demo", "demo", access_token="k",
        hashed_rc_extension_id=hash_id("1001", HASH_KEY),
    )  # fmt: skip
    result = await mcp.tool("getPublicConnectors")
    assert result["structuredContent"]["error"] is True
    assert "demo" in result["structuredContent"]["errorMessage"]


# -- tools -------------------------------------------------------------------------------------


async def _connect_alice(mcp: Mcp) -> str:
    token = await add_user(mcp.rt, "alice-demo", "demo", access_token="k")
    await mcp_sessions.put_llm_session(mcp.rt, str(EXTENSIONS["rc-alice"]), token)
    return token


async def test_get_help_and_contact_tools(mcp: Mcp) -> None:
    help_ = (await mcp.tool("getHelp"))["structuredContent"]
    assert help_["success"] is True and len(help_["data"]["steps"]) == 3
    await _connect_alice(mcp)
    not_e164 = await mcp.tool("createContact", {"phoneNumber": "650-555-0100"})
    assert not_e164["structuredContent"]["error"] == "Phone number must be in E.164 format"
    created = await mcp.tool("createContact", {"phoneNumber": "+14155550177"})
    assert created["structuredContent"]["data"]["contact"]["name"] == "+14155550177"
    by_name = await mcp.tool("findContactByName", {"name": "grace"})
    assert [c["name"] for c in by_name["structuredContent"]["data"]] == ["Grace Hopper"]
    for args, error in (({}, "Phone number is required"),
                        ({"phoneNumber": 5}, "Phone number must be a string")):  # fmt: skip
        result = await mcp.tool("findContactByPhone", args)
        assert result["structuredContent"]["error"] == error and result["isError"] is True


async def test_crm_token_errors(mcp: Mcp) -> None:
    fake = await mcp.tool("findContactByName", {"name": "x", "jwtToken": "not-a-jwt"})
    assert fake["structuredContent"]["error"] == "Invalid JWT token"
    odd = mcp.rt.sessions.issue("u1", "nosuchcrm")
    unknown = await mcp.tool("findContactByName", {"name": "x", "jwtToken": odd})
    assert unknown["structuredContent"]["error"] == "Platform connector not found for: nosuchcrm"


async def test_rc_get_call_logs(mcp: Mcp) -> None:
    await _connect_alice(mcp)
    mcp.world.call_log_pages = [[{"id": "a"}], [{"id": "b"}]]
    window = {"timeFrom": "2026-07-01T00:00:00Z", "timeTo": "2026-07-02T00:00:00.123456789+02:00"}
    result = await mcp.tool("rcGetCallLogs", window)
    assert result["structuredContent"] == {"records": [{"id": "a"}, {"id": "b"}]}
    calls = mcp.world.calls("/restapi/v1.0/account/~/extension/~/call-log")
    assert [c.url.params["page"] for c in calls] == ["1", "2"]
    assert calls[0].url.host == "rc.example" and calls[0].url.params["perPage"] == "1000"
    bad = await mcp.tool("rcGetCallLogs", {"timeFrom": "yesterday"})
    assert bad["structuredContent"]["error"] == "timeFrom must be a valid ISO 8601 string"
    reversed_ = await mcp.tool(
        "rcGetCallLogs", {"timeFrom": "2026-07-02T00:00:00Z", "timeTo": "2026-07-01T00:00:00Z"}
    )
    assert reversed_["isError"] is True


async def test_appointment_tools_on_the_demo_crm(mcp: Mcp) -> None:
    await _connect_alice(mcp)
    made = await mcp.tool(
        "createAppointment",
        {"title": "Kickoff", "durationMinutes": "45", "startTimeUtc": "2026-07-21T15:00:00Z"},
    )
    appointment_id = made["structuredContent"]["data"]["appointmentId"]
    moved = await mcp.tool("updateAppointment", {"appointmentId": appointment_id,
                                                 "startTimeUtc": "2026-07-22T15:00:00Z",
                                                 "durationMinutes": 30})  # fmt: skip
    assert moved["structuredContent"]["data"]["appointment"]["durationMinutes"] == 30
    confirmed = await mcp.tool("confirmAppointment", {"appointmentId": appointment_id})
    assert confirmed["structuredContent"]["data"]["appointment"]["status"] == "confirmed"
    listed = await mcp.tool("listAppointments", {"filter": "custom", "startDate": "2026-07-22",
                                                 "endDate": "2026-07-22"})  # fmt: skip
    assert listed["structuredContent"]["data"]["totalCount"] == 1
    cancelled = await mcp.tool("cancelAppointment", {"appointmentId": appointment_id})
    assert cancelled["structuredContent"]["success"] is True
    gone = await mcp.tool("confirmAppointment", {"appointmentId": appointment_id})
    assert gone["structuredContent"]["error"] == "Appointment not found"
