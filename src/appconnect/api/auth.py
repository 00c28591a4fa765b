"""Authentication routes: logins, logout, session validation and licence status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api import wire as w
from appconnect.api.body import BadBody
from appconnect.api.openapi import OPTIONAL_RC_TOKEN, documented, replies
from appconnect.api.session import INVALID_JWT, Session, runtime, session, with_session
from appconnect.services import auth, mcp_callback

router = routing.router(tags=["auth"])


def _reply(status: int, body: Any) -> Response:
    return r.text(body, status) if isinstance(body, str) else r.json(body, status)


@router.post(
    "/apiKeyLogin",
    openapi_extra=documented(w.ApiKeyLogin, security=OPTIONAL_RC_TOKEN),
    responses={
        **replies(w.LoggedIn),
        400: {
            "description": "Login refused: the connector's message, a missing platform (plain "
            "text) or the exception envelope.",
            "model": w.LoginFailed,
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
)
async def api_key_login(request: Request) -> Response:
    try:
        body = await w.parse(request, w.ApiKeyLogin)
    except BadBody as exc:
        return r.failed(exc)
    status, reply = await auth.api_key_login(
        runtime(request), body, request.headers, dict(request.query_params)
    )
    return _reply(status, reply)


@router.get("/oauth-callback", responses=replies(w.LoggedIn))
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


@router.post(
    "/unAuthorize", openapi_extra=documented(), responses=replies(w.ReturnMessage, text_ok=True)
)
async def unauthorize(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    status, reply = await auth.unauthorize(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)


@router.get("/authValidation", openapi_extra=documented(), responses=replies(w.Outcome))
@with_session(invalid_token=INVALID_JWT, no_user=INVALID_JWT)
async def auth_validation(request: Request, s: Session) -> Response:
    status, reply = await auth.auth_validation(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)


@router.get("/licenseStatus", openapi_extra=documented(), responses=replies(w.LicenseStatus))
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
        return r.text(INVALID_JWT, 400)
    if not s.valid:
        return r.text("No user ID", 400)
    status, reply = await auth.license_status(runtime(request), s.user_id, s.platform)
    return _reply(status, reply)
