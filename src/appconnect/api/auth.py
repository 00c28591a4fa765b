"""Authentication routes: logins, logout, session validation and licence status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.session import runtime, session
from appconnect.services import auth, mcp_callback

router = routing.router(tags=["auth"])


def _reply(status: int, body: Any) -> Response:
    return r.text(body, status) if isinstance(body, str) else r.json(body, status)


@router.post("/apiKeyLogin")
async def api_key_login(request: Request) -> Response:
    try:
        body = await read_body(request)
    except BadBody as exc:
        return r.error(str(exc))
    status, reply = await auth.api_key_login(
        runtime(request), body, request.headers, dict(request.query_params)
    )
    return _reply(status, reply)


@router.get("/oauth-callback")
async def oauth_callback(
    request: Request,
    callbackUri: str | None = None,
    hostname: str | None = None,
    tokenUrl: str | None = None,
    rcAccountId: str | None = None,
) -> Response:
    rt, query = runtime(request), dict(request.query_params)
    status, reply = await auth.oauth_callback(rt, query, request.headers)
    mcp_session = mcp_callback.session_id_of(query)
    if mcp_session:  # started by the MCP connector widget (mcp.md §6.4)
        status, reply = await mcp_callback.settle(rt, mcp_session, status, reply)
    return _reply(status, reply)


@router.post("/unAuthorize")
async def unauthorize(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    status, reply = await auth.unauthorize(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)


@router.get("/authValidation")
async def auth_validation(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    if not s.valid:
        return r.text("Invalid JWT token", 400)
    status, reply = await auth.auth_validation(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)


@router.get("/licenseStatus")
async def license_status(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.json(
            {
                "isLicenseValid": False,
                "licenseStatus": "Invalid (Invalid user session)",
                "licenseStatusDescription": "",
            }
        )
    if not s.decodable:
        return r.text("Invalid JWT token", 400)
    if not s.valid:
        return r.text("No user ID", 400)
    status, reply = await auth.license_status(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)
