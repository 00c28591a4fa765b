"""User routes: settings (with the admin's overrides), preload settings, refresh user info."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import OPTIONAL_RC_TOKEN, documented, replies
from appconnect.api.session import Session, runtime, session, with_session
from appconnect.services import user_settings
from appconnect.services.ringcentral import extract_rc_token

router = routing.router(tags=["user"])


class UserSettingsUpdate(BaseModel):
    """``POST /user/settings`` body; entries are ``{value, customizable, defaultValue, ...}``."""

    model_config = ConfigDict(extra="allow")

    userSettings: dict[str, Any] | None = None
    settingKeysToRemove: list[str] | None = None


class UserSettingsSaved(BaseModel):
    """The reply without an ``onUpdateUserSettings`` hook (with one the reply is ``{}``)."""

    userSettings: dict[str, Any] | None = None


class PreloadSettings(BaseModel):
    """The account admin's ``userSettings`` (absent when the account has none)."""

    userSettings: dict[str, Any] | None = None


class RefreshInfoResult(BaseModel):
    successful: bool
    returnMessage: dict[str, Any] | None = None


def reply(status: int, body: Any) -> Response:
    return r.text(body, status) if isinstance(body, str) else r.json(body, status)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


@router.get(
    "/user/preloadSettings",
    openapi_extra=documented(query=("rcAccountId",), security=OPTIONAL_RC_TOKEN),
    responses=replies(PreloadSettings),
)
async def preload_settings(request: Request) -> Response:
    query = dict(request.query_params)
    rc_token = extract_rc_token(request.headers, None, query)
    status, body = await user_settings.preload_settings(
        runtime(request), query.get("rcAccountId") or None, rc_token
    )
    return reply(status, body)


@router.get(
    "/user/settings",
    openapi_extra=documented(query=("rcAccountId", "rcAccessToken")),
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
@with_session()
async def get_settings(request: Request, s: Session) -> Response:
    query = dict(request.query_params)
    rc_token = extract_rc_token(request.headers, None, query)
    status, body = await user_settings.get_user_settings(
        runtime(request), s.user_id or "", query.get("rcAccountId") or None, rc_token
    )
    return reply(status, body)


@router.post(
    "/user/settings",
    openapi_extra=documented(UserSettingsUpdate),
    responses=replies(UserSettingsSaved),
)
async def save_settings(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    if s.platform is None:
        return r.text("Unknown platform", 400)
    if s.user_id is None:
        return r.text(r.USER_NOT_FOUND, 400)
    try:
        raw = await read_body(request)
        parsed = UserSettingsUpdate.model_validate(raw)
    except BadBody as exc:
        return r.failed(exc)
    except ValidationError as exc:
        return r.error(_first_error(exc))
    body = {key: raw[key] for key in parsed.model_fields_set if key in raw}
    status, result = await user_settings.save_user_settings(
        runtime(request), s.user_id, s.platform, body
    )
    return reply(status, result)


@router.post(
    "/user/refreshInfo", openapi_extra=documented(), responses=replies(RefreshInfoResult)
)
@with_session()
async def refresh_info(request: Request, s: Session) -> Response:
    status, body = await user_settings.refresh_user_info(runtime(request), s.user_id, s.platform)
    return reply(status, body)
