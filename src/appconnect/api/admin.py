"""Admin routes: admin settings, user mapping, server-side logging settings.

The admin check (``X-RC-Access-Token`` validated against RingCentral) happens in the services;
these routes read the session, token and body and shape the reply.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError
from starlette.responses import HTMLResponse, Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import RC_TOKEN, SESSION_AND_RC_TOKEN, documented, replies
from appconnect.api.session import Session, runtime, session, with_session
from appconnect.api.user import reply
from appconnect.api.wire import AnyObject
from appconnect.services import admin
from appconnect.services.ringcentral import extract_rc_token

router = routing.router(tags=["admin"])


class AnyList(RootModel[list[Any]]):
    """A JSON array (the user-mapping rows)."""


class AdminSettingsUpdate(BaseModel):
    """``POST /admin/settings``: ``adminSettings`` holds ``userSettings``, ``userMappings``..."""

    model_config = ConfigDict(extra="allow")

    adminSettings: dict[str, Any] | None = None


class AdminSettingsView(BaseModel):
    """The account's admin configuration, without the RingCentral admin tokens."""

    model_config = ConfigDict(extra="allow")

    userSettings: dict[str, Any] | None = None
    userMappings: list[Any] | None = None


class RcExtension(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | int
    name: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    extensionNumber: str | int | None = None
    email: str | None = None


class UserMappingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    rcExtensionList: list[RcExtension] = []


class ServerLoggingUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")

    additionalFieldValues: dict[str, Any] | None = None


async def parsed_body(
    request: Request, model: type[BaseModel]
) -> tuple[dict[str, Any], Response | None]:
    """The body (validated against ``model``), or the 400 reply for a malformed one."""
    try:
        raw = await read_body(request)
        model.model_validate(raw)
    except BadBody as exc:
        return {}, r.failed(exc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return {}, r.error(f"{where}: {first.get('msg')}")
    return raw, None


def rc_token(request: Request, body: dict[str, Any] | None = None) -> str | None:
    return extract_rc_token(request.headers, body, dict(request.query_params))


@router.post(
    "/admin/settings",
    openapi_extra=documented(AdminSettingsUpdate, security=RC_TOKEN),
    response_class=HTMLResponse,  # documentation only: the reply is plain text
    responses=replies(None),
)
async def post_admin_settings(request: Request) -> Response:
    body, bad = await parsed_body(request, AdminSettingsUpdate)
    if bad is not None:
        return bad
    status, result = await admin.post_admin_settings(
        runtime(request), rc_token(request, body), body
    )
    return reply(status, result)


@router.get(
    "/admin/settings",
    openapi_extra=documented(security=SESSION_AND_RC_TOKEN),
    responses=replies(AdminSettingsView),
)
async def get_admin_settings(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    status, result = await admin.get_admin_settings(runtime(request), s.user_id, rc_token(request))
    return reply(status, result)


async def _user_mapping(request: Request, reinitialize: bool) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    body, bad = await parsed_body(request, UserMappingRequest)
    if bad is not None:
        return bad
    status, result = await admin.user_mapping(
        runtime(request), s.user_id, rc_token(request, body), body, reinitialize=reinitialize
    )
    return reply(status, result)


@router.post(
    "/admin/userMapping",
    openapi_extra=documented(UserMappingRequest, security=SESSION_AND_RC_TOKEN),
    responses=replies(AnyList),
)
async def user_mapping(request: Request) -> Response:
    return await _user_mapping(request, False)


@router.post(
    "/admin/reinitializeUserMapping",
    openapi_extra=documented(UserMappingRequest, security=SESSION_AND_RC_TOKEN),
    responses=replies(AnyList),
)
async def reinitialize_user_mapping(request: Request) -> Response:
    return await _user_mapping(request, True)


@router.get(
    "/admin/serverLoggingSettings", openapi_extra=documented(), responses=replies(AnyObject)
)
@with_session()
async def get_server_logging_settings(request: Request, s: Session) -> Response:
    status, result = await admin.get_server_logging_settings(runtime(request), s.user_id)
    return reply(status, result)


@router.post(
    "/admin/serverLoggingSettings",
    openapi_extra=documented(ServerLoggingUpdate),
    responses=replies(AnyObject),
)
async def update_server_logging_settings(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    body, bad = await parsed_body(request, ServerLoggingUpdate)
    if bad is not None:
        return bad
    if body.get("additionalFieldValues") is None:
        return r.text("Missing additionalFieldValues", 400)
    if not s.valid:
        return r.text(r.NOAUTH, 400)
    status, result = await admin.update_server_logging_settings(
        runtime(request), s.user_id, body["additionalFieldValues"]
    )
    return reply(status, result)
