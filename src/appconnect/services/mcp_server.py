"""The MCP JSON-RPC server (mcp.md §2, §5): one request in, one response out, no state.

The wire is the reference's: protocol version ``2024-11-05`` whatever the client asks, tool
problems as tool results (``isError``), unknown tools and tool crashes as ``-32603``. Identity
is resolved per ``tools/call`` from the RingCentral bearer; the CRM session token is injected
from ``llmSessions`` so the model never handles it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from appconnect.jsvalues import js_str
from appconnect.runtime import Runtime
from appconnect.services import mcp_sessions as sessions
from appconnect.services.errors import client_message
from appconnect.services.mcp_catalog import AI_TOOLS, tool_definitions
from appconnect.services.mcp_ringcentral import current_extension
from appconnect.services.mcp_tools import AI_TOOL_FUNCTIONS, run_tool
from appconnect.services.mcp_widget_tools import widget_contents, widget_resource
from appconnect.services.ringcentral import RingCentralError

logger = logging.getLogger("appconnect.mcp")

PROTOCOL_VERSION = "2024-11-05"
SERVER_INFO = {"name": "rc-unified-crm-extension", "version": "1.0.0"}
NOTIFICATIONS = frozenset({"notifications/initialized", "notifications/cancelled"})
OPEN_METHODS = frozenset({"initialize", "tools/list", "ping", *NOTIFICATIONS})
RECONNECT = "mcp_oauth_reconnect_required"
CLIENT_MISMATCH = "mcp_oauth_client_mismatch"
RECONNECT_GUIDANCE = (
    "RingCentral authorization is required. Connect (or reconnect) the App Connect MCP server in "
    "your MCP client and sign in with RingCentral. If you connected this server before it moved "
    "to PKCE, remove and re-add it so your client picks up the new public client id."
)
STALE_CLIENT_GUIDANCE = (
    "This authorization request uses an outdated client id. Remove the App Connect MCP server "
    "from your MCP client and add it again, then sign in with RingCentral."
)


class McpError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def shape_result(value: Any) -> dict[str, Any]:
    """A tool's return value as a ``tools/call`` result (§2.2)."""
    given = value if isinstance(value, dict) else None
    if given is not None and isinstance(given.get("structuredContent"), dict):
        structured = given["structuredContent"]
    elif given is not None:
        structured = given
    else:
        structured = {"result": value}
    if given is not None and isinstance(given.get("content"), list):
        content = given["content"]
    else:
        text = json.dumps(structured, indent=2, ensure_ascii=False, default=str)
        content = [{"type": "text", "text": text}]
    result: dict[str, Any] = {"content": content, "structuredContent": structured}
    if structured.get("success") is False:
        result["isError"] = True
    return result


def bearer_of(authorization: str | None) -> str | None:
    """The RingCentral token: what follows the literal ``Bearer `` (as the reference splits)."""
    if not authorization or "Bearer " not in authorization:
        return None
    token = authorization.split("Bearer ", 1)[1]
    return token or None


async def _extension_id(
    rt: Runtime, bearer: str, session_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    """(rcExtensionId, None) or (None, a reconnect tool result) when RingCentral refuses."""
    if session_id:
        try:
            cached = await sessions.cached_extension_id(rt, session_id)
        except Exception:
            logger.exception("reading the cached extension id failed")
            cached = None
        if cached:
            return cached, None
    try:
        info = await current_extension(rt, bearer)
    except RingCentralError as exc:
        return None, shape_result(
            {"success": False, "error": RECONNECT, "message": RECONNECT_GUIDANCE,
             "errorDetails": str(exc)}
        )  # fmt: skip
    extension_id = None if info.get("id") is None else str(info["id"])
    if extension_id and session_id:
        await sessions.remember_extension_id(rt, session_id, extension_id)
    return extension_id, None


async def _call_tool(rt: Runtime, params: Any, authorization: str | None) -> dict[str, Any]:
    name = params["name"]
    arguments = params.get("arguments")
    arguments = arguments if isinstance(arguments, dict) else {}
    meta = params.get("_meta")
    session_id = meta.get("openai/session") if isinstance(meta, dict) else None
    session_id = str(session_id) if session_id else None
    args = dict(arguments)
    bearer = bearer_of(authorization)
    if bearer:
        args["rcAccessToken"] = bearer
    if session_id:
        args["openaiSessionId"] = session_id
    if bearer:
        extension_id, refusal = await _extension_id(rt, bearer, session_id)
        if refusal is not None:
            return refusal
        if extension_id:
            args["rcExtensionId"] = extension_id
            if "jwtToken" not in arguments:
                token = await sessions.crm_token_for(rt, extension_id, session_id)
                if token:
                    args["jwtToken"] = token
    if name not in AI_TOOLS:
        raise McpError(-32603, f"Tool execution failed: Tool not found: {name}")
    try:
        value = await run_tool(rt, AI_TOOL_FUNCTIONS, name, args)
    except Exception as exc:
        logger.exception("MCP tool %s failed", name)
        raise McpError(-32603, f"Tool execution failed: {client_message(exc)}") from exc
    return shape_result(value)


async def handle(rt: Runtime, message: Any, authorization: str | None) -> dict[str, Any] | None:
    """The JSON-RPC response for one message; ``None`` for the two notifications."""
    if not isinstance(message, dict):
        # A batch, a bare value or no body: the client's mistake, answered as the spec says
        # (-32603 with the reason) without an error traceback in the server's log.
        return _error(None, -32603, "Internal server error", {"error": "Invalid JSON-RPC request"})
    request_id = message.get("id")
    try:
        method = message.get("method")
        params = message.get("params")
        if not isinstance(method, str):
            shown = js_str(method) if "method" in message else "undefined"
            raise McpError(-32601, f"Method not found: {shown}")
        if method in NOTIFICATIONS:
            return None
        if method == "initialize":
            result: Any = {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {"tools": {}, "resources": {}},
                "serverInfo": SERVER_INFO,
            }
        elif method == "tools/list":
            result = {"tools": list(tool_definitions())}
        elif method == "ping":
            result = {}
        elif method == "tools/call":
            result = await _call_tool(rt, params, authorization)
        elif method == "resources/list":
            result = {"resources": [widget_resource(rt)]}
        elif method == "resources/read":
            uri = str((params or {})["uri"])
            if not uri.startswith("ui://widget/"):
                raise McpError(-32602, f"Unknown resource: {uri}")
            result = await widget_contents(rt)
        else:
            raise McpError(-32601, f"Method not found: {method}")
    except McpError as exc:
        return _error(request_id, exc.code, exc.message, exc.data)
    except Exception as exc:
        logger.exception("MCP request failed")
        detail = {"error": client_message(exc)}
        return _error(request_id, -32603, "Internal server error", detail)
    return {"jsonrpc": "2.0", "id": request_id, "result": result}
