"""MCP routes (mcp.md): ``POST /mcp``, the widget endpoint, and the OAuth PKCE shim.

``POST /mcp`` speaks stateless JSON-RPC (one JSON response per request, no SSE, no session id)
behind the auth gate of §3: discovery methods are open, everything else needs an
``Authorization`` header (its RingCentral token is checked lazily, on ``tools/call``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.openapi import MCP_BEARER, WIDGET_TOKEN, documented, reply_models
from appconnect.api.session import runtime
from appconnect.runtime import Runtime
from appconnect.services import mcp_server
from appconnect.services.errors import client_message
from appconnect.services.mcp_catalog import WIDGET_TOOLS
from appconnect.services.mcp_common import fail
from appconnect.services.mcp_ringcentral import rc_server
from appconnect.services.mcp_sessions import verify_widget_token
from appconnect.services.mcp_tools import run_tool
from appconnect.services.mcp_widget_tools import WIDGET_TOOL_FUNCTIONS

router = routing.router(tags=["mcp"])

OPEN = {"Access-Control-Allow-Origin": "*"}
NO_CLIENT_ID = "RINGCENTRAL_MCP_CLIENT_ID is not configured"
SHIM_PARAMS = ("response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge",
               "code_challenge_method")  # fmt: skip


class JsonRpcRequest(BaseModel):
    jsonrpc: str = "2.0"
    id: str | int | None = None
    method: str
    params: dict[str, Any] | None = None


class JsonRpcError(BaseModel):
    code: int
    message: str
    data: Any = None


class JsonRpcResponse(BaseModel):
    """One JSON-RPC response (the two notifications get an empty 200 instead)."""

    jsonrpc: str
    id: Any = None
    result: dict[str, Any] | None = None
    error: JsonRpcError | None = None


class WidgetToolCall(BaseModel):
    tool: str
    toolArgs: dict[str, Any] | None = None


def base_url(request: Request, rt: Runtime) -> str:
    """``APP_SERVER``, else the URL this request came in on."""
    return (rt.settings.app_server or str(request.base_url)).rstrip("/")


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _unauthorized(request: Request, rt: Runtime) -> Response:
    metadata = f"{base_url(request, rt)}/.well-known/oauth-protected-resource"
    challenge = (
        f'Bearer realm="mcp", resource_metadata="{_quoted(metadata)}", error="invalid_token", '
        f'error_description="{_quoted(mcp_server.RECONNECT_GUIDANCE)}"'
    )
    body = {"success": False, "error": mcp_server.RECONNECT,
            "message": mcp_server.RECONNECT_GUIDANCE}  # fmt: skip
    return r.json(body, 401, headers={**OPEN, "WWW-Authenticate": challenge})


def _has_credentials(authorization: str | None) -> bool:
    parts = (authorization or "").split(" ")
    return len(parts) >= 2 and bool(parts[1])


@router.post(
    "/mcp",
    openapi_extra=documented(JsonRpcRequest, security=MCP_BEARER),
    responses={
        **reply_models(JsonRpcResponse),
        401: {"description": "No Authorization header for a method that needs one"},
    },
)
async def mcp_endpoint(request: Request) -> Response:
    """MCP JSON-RPC: ``initialize``, ``tools/list``, ``ping``, ``tools/call``, ``resources/*``."""
    rt = runtime(request)
    raw = await request.body()
    try:
        message: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        message = None
    method = message.get("method") if isinstance(message, dict) else None
    method = method if isinstance(method, str) else None
    authorization = request.headers.get("authorization")
    if method not in mcp_server.OPEN_METHODS and not _has_credentials(authorization):
        return _unauthorized(request, rt)
    if message is None and raw:
        return r.json(
            {"jsonrpc": "2.0", "id": None,
             "error": {"code": -32603, "message": "Internal server error",
                       "data": {"error": "Invalid JSON body"}}},
            headers=OPEN,
        )  # fmt: skip
    reply = await mcp_server.handle(rt, message, authorization)
    if reply is None:
        return Response(b"", 200, headers=OPEN)
    return r.json(reply, headers=OPEN)


@router.options("/mcp", include_in_schema=False)
async def mcp_options(request: Request) -> Response:
    return Response(
        b"",
        200,
        headers={
            **OPEN,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
        },
    )


@router.post(
    "/mcp/widget-tool-call",
    openapi_extra=documented(WidgetToolCall, security=WIDGET_TOKEN),
    responses={
        200: {
            "description": "The tool's own result",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def widget_tool_call(request: Request) -> Response:
    """Direct tool calls from the connector widget, authorized by its widget session token."""
    rt = runtime(request)
    identity = verify_widget_token(rt, request.headers.get("x-app-connect-widget-token"))
    if identity is None:
        return r.json(fail("Invalid widget session"), 401, headers=OPEN)
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    tool = body.get("tool")
    if not tool:
        return r.json(fail("Missing tool name"), 400, headers=OPEN)
    if tool not in WIDGET_TOOLS:
        return r.json(fail(f"Unknown tool: {tool}"), 404, headers=OPEN)
    given = body.get("toolArgs")
    args = dict(given) if isinstance(given, dict) else {}
    session_id = identity["openaiSessionId"]
    if session_id and args.get("sessionId") is not None and args["sessionId"] != session_id:
        return r.json(fail("Widget session mismatch"), 403, headers=OPEN)
    args.update(identity)  # identity comes from the token, never from the body
    try:
        result = await run_tool(rt, WIDGET_TOOL_FUNCTIONS, str(tool), args)
    except Exception as exc:
        return r.json(fail(client_message(exc)), 500, headers=OPEN)
    return r.json(result, headers=OPEN)


@router.options("/mcp/widget-tool-call", include_in_schema=False)
async def widget_tool_call_options(request: Request) -> Response:
    return Response(
        b"",
        200,
        headers={
            **OPEN,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, X-App-Connect-Widget-Token",
        },
    )


# -- OAuth for MCP clients (§4) ----------------------------------------------------------------


class ProtectedResource(BaseModel):
    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str]


class AuthorizationServer(BaseModel):
    issuer: str
    registration_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    token_endpoint_auth_methods_supported: list[str]
    response_types_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]


_TEXT = {"text/plain": {"schema": {"type": "string"}}}


@router.get(
    "/.well-known/oauth-protected-resource", responses=reply_models(ProtectedResource)
)
async def protected_resource(request: Request) -> Response:
    base = base_url(request, runtime(request))
    return r.json(
        {"resource": base, "authorization_servers": [base], "scopes_supported": ["ReadAccounts"]}
    )


@router.get(
    "/.well-known/oauth-authorization-server", responses=reply_models(AuthorizationServer)
)
async def authorization_server(request: Request) -> Response:
    rt = runtime(request)
    base = base_url(request, rt)
    return r.json(
        {
            "issuer": base,
            "registration_endpoint": f"{base}/oauth/register",
            "authorization_endpoint": f"{base}/oauth/authorize_shim",
            "token_endpoint": f"{rc_server(rt)}/restapi/oauth/token",
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


@router.get(
    "/.well-known/openai-apps-challenge",
    response_class=PlainTextResponse,
    responses={200: {"description": "CHATGPT_VERIFICATION_CODE", "content": _TEXT}},
)
async def openai_apps_challenge(request: Request) -> Response:
    code = runtime(request).settings.chatgpt_verification_code or ""
    return Response(code, 200, media_type="text/plain; charset=utf-8")


class ClientRegistration(BaseModel):
    client_id: str
    token_endpoint_auth_method: str
    grant_types: list[str]
    response_types: list[str]


class ClientMetadata(BaseModel):
    """RFC 7591 client metadata. Accepted and ignored: every caller gets the same client."""

    model_config = ConfigDict(extra="allow")

    client_name: str | None = None
    redirect_uris: list[str] | None = None


@router.post(
    "/oauth/register",
    openapi_extra=documented(ClientMetadata, security=None),
    responses=reply_models(ClientRegistration),
)
async def register_client(request: Request) -> Response:
    """The one public PKCE client every MCP client shares (no client is created)."""
    client_id = runtime(request).settings.ringcentral_mcp_client_id
    if not client_id:
        return r.text(NO_CLIENT_ID, 500)
    return r.json(
        {
            "client_id": client_id,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }
    )


@router.get(
    "/oauth/authorize_shim",
    response_class=PlainTextResponse,
    openapi_extra=documented(query=SHIM_PARAMS, security=None),
    responses={
        200: {"description": "Not sent: the shim redirects or refuses", "content": _TEXT},
        302: {"description": "On to RingCentral's authorize page"},
        400: {"description": "A refused request (text, or JSON for a stale client id)"},
    },
)
async def authorize_shim(request: Request) -> Response:
    """Check a PKCE authorization request and send the browser on to RingCentral."""
    rt = runtime(request)
    client_id = rt.settings.ringcentral_mcp_client_id
    if not client_id:
        return r.text(NO_CLIENT_ID, 500)
    query = request.query_params
    first = {name: (query.getlist(name) or [""])[0] for name in SHIM_PARAMS}
    if first["client_id"] and first["client_id"] != client_id:
        return r.json(
            {"success": False, "error": mcp_server.CLIENT_MISMATCH,
             "message": mcp_server.STALE_CLIENT_GUIDANCE},
            400,
        )  # fmt: skip
    if not first["response_type"] or not first["redirect_uri"]:
        return r.text("Missing OAuth authorization parameters", 400)
    if not first["code_challenge"] or first["code_challenge_method"] != "S256":
        return r.text("PKCE S256 code_challenge is required", 400)
    forwarded = {**first, "client_id": client_id}
    pairs = [(name, forwarded[name]) for name in SHIM_PARAMS if forwarded[name]]
    return RedirectResponse(
        f"{rc_server(rt)}/restapi/oauth/authorize?{urlencode(pairs)}", status_code=302
    )
