"""RingCentral admin routes (admin OAuth callback, call reports) and ``GET /accountData``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.openapi import documented, replies
from appconnect.api.session import Session, runtime, session, with_session
from appconnect.api.user import reply
from appconnect.api.wire import ErrorBody
from appconnect.services import account_data, rc_admin

router = routing.router(tags=["ringcentral admin"])
INVALID = "Invalid request"


class ReportRow(BaseModel):
    name: str
    inboundCallCount: int | float
    outboundCallCount: int | float
    answeredCallCount: int | float
    answeredCallPercentage: str
    totalTalkTime: int | str
    averageTalkTime: int | str


class AccountReport(BaseModel):
    """Without RingCentral settings, or on any error, only ``{"callLogStats": {}}``."""

    callLogStats: list[ReportRow] | dict[str, Any]
    itemKeys: list[str] | None = None
    groupedBy: str | None = None
    groupKeys: list[str] | None = None


class CallLogStats(BaseModel):
    inboundCallCount: int
    outboundCallCount: int
    answeredCallCount: int
    answeredCallPercentage: str
    totalTalkTime: int | float
    averageTalkTime: int | float


class SmsLogStats(BaseModel):
    smsSentCount: int
    smsReceivedCount: int


class UserReport(BaseModel):
    """One extension's report; ``{"callLogStats": {}}`` without RingCentral settings (and an
    empty plain-text 200 on any error, as the reference)."""

    callLogStats: CallLogStats | dict[str, Any]
    smsLogStats: SmsLogStats | None = None


class AdminOAuthDone(BaseModel):
    """The RingCentral admin tokens were stored (or there was no code to exchange)."""

    successful: bool


class AccountDataReply(BaseModel):
    successful: bool
    data: dict[str, Any] | None = None
    returnMessage: dict[str, Any] | None = None


async def _user(request: Request) -> Any:
    s = session(request)
    if not s.present:
        return r.text(INVALID, 400)
    user = await rc_admin.find_user(runtime(request), s.user_id)
    if user is None:
        return r.text(r.USER_NOT_FOUND, 400)
    return user


@router.get(
    "/ringcentral/oauth/callback",
    openapi_extra=documented(query=("code",)),
    responses=replies(AdminOAuthDone),
)
async def ringcentral_oauth_callback(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    try:
        status, body = await rc_admin.oauth_callback(
            runtime(request), user, request.query_params.get("code")
        )
    except Exception as exc:
        return r.failed(exc)
    return reply(status, body)


@router.get(
    "/ringcentral/admin/report",
    openapi_extra=documented(query=("timezone", "timeFrom", "timeTo", "groupBy")),
    responses=replies(AccountReport),
)
async def ringcentral_admin_report(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    try:
        status, body = await rc_admin.account_report(
            runtime(request), user, dict(request.query_params)
        )
    except Exception as exc:
        return r.failed(exc)
    return reply(status, body)


@router.get(
    "/ringcentral/admin/userReport",
    openapi_extra=documented(query=("rcExtensionId", "timezone", "timeFrom", "timeTo")),
    responses=replies(UserReport, text_ok=True),
)
async def ringcentral_user_report(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    try:
        status, body = await rc_admin.user_report(
            runtime(request), user, dict(request.query_params)
        )
    except Exception as exc:
        return r.failed(exc)
    return reply(status, body)


@router.get(
    "/accountData",
    openapi_extra=documented(query=("keys", "forceRefresh")),
    responses=replies(AccountDataReply, revocable=True, error_model=ErrorBody | AccountDataReply),
)
@with_session()
async def get_account_data(request: Request, s: Session) -> Response:
    raw = request.query_params.get("keys") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        return r.text("Missing keys", 400)
    try:
        status, body = await account_data.serve_keys(
            runtime(request),
            s.user_id or "",
            s.platform or "",
            keys,
            request.query_params.get("forceRefresh") == "true",
        )
    except Exception as exc:
        return r.failed(exc)
    if status == 401:
        return r.json({k: body[k] for k in ("successful", "returnMessage", "errorCode")}, 401)
    return reply(status, body)
