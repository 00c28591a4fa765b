"""Managed authentication routes: admin-stored API-key fields and managed OAuth settings."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, RootModel
from starlette.responses import HTMLResponse, Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.admin import parsed_body, rc_token
from appconnect.api.openapi import RC_TOKEN, SESSION_AND_RC_TOKEN, documented, replies
from appconnect.api.session import runtime, session
from appconnect.api.user import reply
from appconnect.services import managed_admin

router = routing.router(tags=["managed auth"])
_SOURCE = ("connectorId", "devRcAccountId", "isPrivate")


class ManagedAuthUpdate(BaseModel):
    """``scope`` ``org`` (default) or ``user`` (then ``rcExtensionId`` is required)."""

    model_config = ConfigDict(extra="allow")

    scope: str | None = None
    rcExtensionId: str | int | None = None
    rcUserName: str | None = None
    values: dict[str, Any] | None = None
    fieldsToRemove: list[str] | None = None


class ManagedAuthOptionsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    fieldConst: str | None = None
    accountValues: dict[str, Any] | None = None


class ManagedOAuthValues(BaseModel):
    model_config = ConfigDict(extra="allow")

    clientId: str | None = None
    clientSecret: str | None = None
    accessTokenUri: str | None = None
    authorizationUri: str | None = None
    redirectUri: str | None = None
    scopes: str | list[str] | None = None
    hostname: str | None = None


class ManagedOAuthCache(BaseModel):
    model_config = ConfigDict(extra="allow")

    values: ManagedOAuthValues | None = None


class StoredFieldValue(BaseModel):
    hasValue: bool
    value: str


class ManagedAuthView(BaseModel):
    hasManagedAuth: bool
    fields: list[dict[str, Any]]
    orgFields: list[dict[str, Any]]
    userFields: list[dict[str, Any]]
    orgValues: dict[str, StoredFieldValue]
    userValues: list[dict[str, Any]]


class ApiKeyManagedAuthState(BaseModel):
    hasManagedAuth: bool
    allRequiredFieldsSatisfied: bool
    visibleFieldConsts: list[str] | None
    missingRequiredFieldConsts: list[str]
    fallbackToManualAuth: bool


class OAuthManagedAuthState(BaseModel):
    isAdmin: bool
    hasAccountOAuth: bool
    hasPendingOAuth: bool
    oauthValues: dict[str, Any] | None = None
    pendingValues: dict[str, Any] | None = None


class Successful(BaseModel):
    successful: bool


class ManagedAuthOption(BaseModel):
    """One choice of a dynamic user field, from the connector's ``getManagedAuthOptions``."""

    value: str
    label: str


class ManagedAuthOptions(RootModel[list[ManagedAuthOption]]):
    """``POST /admin/managedAuth/options``: the field's choices (``[]`` without the interface)."""


@router.get(
    "/admin/managedAuth",
    openapi_extra=documented(query=_SOURCE, security=SESSION_AND_RC_TOKEN),
    responses=replies(ManagedAuthView),
)
async def get_managed_auth(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    status, body = await managed_admin.get_managed_auth(
        runtime(request), s.user_id, rc_token(request), dict(request.query_params)
    )
    return reply(status, body)


@router.post(
    "/admin/managedAuth",
    openapi_extra=documented(ManagedAuthUpdate, security=SESSION_AND_RC_TOKEN),
    response_class=HTMLResponse,  # documentation only: the reply is plain text
    responses=replies(None),  # "Shared authentication updated"
)
async def post_managed_auth(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    body, bad = await parsed_body(request, ManagedAuthUpdate)
    if bad is not None:
        return bad
    status, result = await managed_admin.post_managed_auth(
        runtime(request), s.user_id, rc_token(request, body), body
    )
    return reply(status, result)


@router.post(
    "/admin/managedAuth/options",
    openapi_extra=documented(
        ManagedAuthOptionsRequest, query=("platform", *_SOURCE), security=RC_TOKEN
    ),
    responses=replies(ManagedAuthOptions),
)
async def managed_auth_options(request: Request) -> Response:
    body, bad = await parsed_body(request, ManagedAuthOptionsRequest)
    if bad is not None:
        return bad
    status, result = await managed_admin.managed_auth_options(
        runtime(request), rc_token(request, body), dict(request.query_params), body
    )
    return reply(status, result)


@router.post(
    "/admin/managedOAuth/cache",
    openapi_extra=documented(ManagedOAuthCache, security=RC_TOKEN),
    responses=replies(Successful),
)
async def cache_managed_oauth(request: Request) -> Response:
    body, bad = await parsed_body(request, ManagedOAuthCache)
    if bad is not None:
        return bad
    status, result = await managed_admin.cache_pending_oauth(
        runtime(request), rc_token(request, body), body
    )
    return reply(status, result)


@router.delete(
    "/admin/managedOAuth/cache",
    openapi_extra=documented(security=RC_TOKEN),
    responses=replies(Successful),
)
async def delete_managed_oauth_cache(request: Request) -> Response:
    status, result = await managed_admin.delete_pending_oauth(runtime(request), rc_token(request))
    return reply(status, result)


@router.delete(
    "/admin/managedOAuth/account",
    openapi_extra=documented(query=("platform",), security=RC_TOKEN),
    responses=replies(Successful),
)
async def delete_managed_oauth_account(request: Request) -> Response:
    status, result = await managed_admin.delete_account_oauth(
        runtime(request), rc_token(request), request.query_params.get("platform")
    )
    return reply(status, result)


@router.get(
    "/apiKeyManagedAuthState",
    openapi_extra=documented(query=("platform", *_SOURCE), security=RC_TOKEN),
    responses=replies(ApiKeyManagedAuthState),
)
async def api_key_managed_auth_state(request: Request) -> Response:
    status, result = await managed_admin.api_key_state(
        runtime(request), rc_token(request), dict(request.query_params)
    )
    return reply(status, result)


@router.get(
    "/oauthManagedAuthState",
    openapi_extra=documented(query=("platform",), security=RC_TOKEN),
    responses=replies(OAuthManagedAuthState),
)
async def oauth_managed_auth_state(request: Request) -> Response:
    status, result = await managed_admin.oauth_state(
        runtime(request), rc_token(request), dict(request.query_params)
    )
    return reply(status, result)
