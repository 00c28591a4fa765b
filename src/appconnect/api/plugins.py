"""Plugin routes of the connector server (spec plugins.md §5).

``POST /plugin/register`` and ``DELETE /plugin/unregister`` are for RingCentral account admins
(RC token in ``X-RC-Access-Token``, body or query ``rcAccessToken``); ``GET
/plugin/licenseStatus`` is for a signed-in user; ``POST /plugin/async-callback/{taskId}`` is
for plugin servers, authorized by the unguessable task id alone.

Bodies are read and checked here (the reference's messages, never FastAPI's 422); the pydantic
models below document them in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import RC_TOKEN, documented, replies, reply_models
from appconnect.api.session import runtime, session
from appconnect.services.errors import client_message
from appconnect.services.plugins import callback, registration
from appconnect.services.ringcentral import extract_rc_token

router = routing.router(tags=["Plugins"])


class PluginRegisterRequest(BaseModel):
    """Body of ``POST /plugin/register``."""

    model_config = ConfigDict(extra="allow")

    pluginId: str
    rcAccountId: str | int
    pluginAccess: str | None = None
    pluginName: str | None = None
    ownerRcAccountId: str | int | None = None
    rcAccessToken: str | None = None


class PluginResult(BaseModel):
    """``{"successful": ..., "returnMessage"?: ...}`` of register and unregister."""

    successful: bool
    returnMessage: str | None = None


class AsyncCallbackRequest(BaseModel):
    """An async plugin's completion report."""

    model_config = ConfigDict(extra="allow")

    successful: bool
    note: str | None = None
    message: str | None = None


class AsyncCallbackResponse(BaseModel):
    successful: bool
    message: str | None = None


class PluginLicenseStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    licenseStatus: bool
    licenseStatusDescription: str | None = None
    errorMessage: str | None = None


def _reply(status: int, body: Any) -> Response:
    if body is None:  # the reference's empty 200 for "not installed"
        return Response(status_code=status)
    return r.text(body, status) if isinstance(body, str) else r.json(body, status)


@router.post(
    "/plugin/register",
    openapi_extra=documented(PluginRegisterRequest, security=RC_TOKEN, body_required=True),
    responses=reply_models(PluginResult, 200, 400, 403),
)
async def register_plugin(request: Request) -> Response:
    """Install a plugin for the admin's RingCentral account."""
    try:
        body = await read_body(request)
    except BadBody as exc:
        return r.json({"successful": False, "returnMessage": client_message(exc)}, 400)
    token = extract_rc_token(request.headers, body, request.query_params)
    status, reply = await registration.register(runtime(request), body, token)
    return _reply(status, reply)


@router.delete(
    "/plugin/unregister",
    openapi_extra=documented(query=("pluginId", "rcAccountId", "pluginName"), security=RC_TOKEN),
    responses=reply_models(PluginResult, 200, 400, 403),
)
async def unregister_plugin(request: Request) -> Response:
    """Remove a plugin from the admin's account (the plugin server is not told)."""
    query = request.query_params
    token = extract_rc_token(request.headers, None, query)
    status, reply = await registration.unregister(
        runtime(request), query.get("pluginId"), query.get("rcAccountId"), token
    )
    return _reply(status, reply)


@router.get(
    "/plugin/licenseStatus",
    openapi_extra=documented(query=("rcAccountId", "pluginId")),
    responses=replies(PluginLicenseStatus),
)
async def plugin_license_status(request: Request) -> Response:
    """The installed plugin's advisory license status, for the signed-in user's account."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH if not s.present or s.decodable else r.USER_NOT_FOUND, 400)
    query = request.query_params
    account, plugin_id = query.get("rcAccountId"), query.get("pluginId")
    if not account or not plugin_id:
        return r.text("rcAccountId and pluginId are required", 400)
    rt = runtime(request)
    user = await rt.users.get(s.user_id)
    if user is None:
        return r.text(r.USER_NOT_FOUND, 400)
    if str(user.rc_account_id or "") != account:
        return _reply(200, None)  # another account's plugins read as not installed
    status, reply = await registration.license_status(rt, account, plugin_id)
    return _reply(status, reply)


@router.post(
    "/plugin/async-callback/{taskId}",
    # No security: the unguessable task id in the path is the plugin's capability.
    openapi_extra=documented(AsyncCallbackRequest, security=None, body_required=True),
    responses=reply_models(AsyncCallbackResponse, 200, 400, 404, 500),
)
async def async_plugin_callback(request: Request) -> Response:
    """An async plugin reports that its work for a call-log task is done."""
    task_id = request.path_params["taskId"]
    try:
        body = await read_body(request)
    except BadBody:
        body = {}
    status, reply = await callback.handle_callback(runtime(request), task_id, body)
    return r.json(reply, status)
