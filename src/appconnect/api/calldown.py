"""Call-down list routes: ``POST/GET /calldown``, ``PATCH/DELETE /calldown/{id}`` (spec §5).

Auth as the reference's call-down handlers: no token at all answers the plain-text "authorize"
text; a token that does not verify (or has no ``id``) answers ``400 {"error": "Unauthorized"}``.
Handler errors answer ``400 {"error": <message>}``. Items are scoped to the session's user id and
platform (see :mod:`appconnect.services.calldown`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import documented, replies
from appconnect.api.session import Session, runtime, with_session
from appconnect.services import calldown
from appconnect.services.calldown import CallDownError

router = routing.router(tags=["calldown"])

UNAUTHORIZED = "Unauthorized"


def _unauthorized() -> Response:
    return r.error(UNAUTHORIZED)


_signed_in = with_session(invalid_token=_unauthorized, no_user=_unauthorized)


class CallDownCreate(BaseModel):
    """``POST /calldown`` body. ``contactName``, ``phoneNumber`` and ``note`` are not stored."""

    model_config = ConfigDict(extra="allow")

    contactId: str | int | None = None
    contactType: str | None = Field(None, description='Defaults to "contact".')
    contactName: str | None = None
    phoneNumber: str | None = None
    scheduledAt: str | None = Field(None, description="ISO 8601 date-time")
    note: str | None = None


class CallDownPatch(BaseModel):
    """``PATCH /calldown/{id}`` body: at least one of these keys; others are ignored."""

    model_config = ConfigDict(extra="allow")

    contactId: str | int | None = None
    contactType: str | None = None
    contactName: str | None = None
    phoneNumber: str | None = None
    status: str | None = Field(None, description='"scheduled", "called" or free text')
    scheduledAt: str | None = None
    lastCallAt: str | None = None
    note: str | None = None


class CallDownItem(BaseModel):
    id: str
    userId: str | None
    contactId: str | None
    contactType: str | None
    status: str | None
    scheduledAt: str | None
    lastCallAt: str | None
    createdAt: str | None
    updatedAt: str | None


class CallDownCreated(BaseModel):
    successful: bool
    id: str


class CallDownList(BaseModel):
    successful: bool
    items: list[CallDownItem]


class Successful(BaseModel):
    successful: bool


async def _object_body(request: Request) -> dict[str, Any]:
    return await read_body(request)


@router.post(
    "/calldown",
    openapi_extra=documented(CallDownCreate),
    responses=replies(CallDownCreated),
)
@_signed_in
async def schedule_call_down(request: Request, s: Session) -> Response:
    """Schedule a call-back for the caller."""
    try:
        body = await _object_body(request)
        item_id = await calldown.schedule(runtime(request), s.user_id or "", s.platform, body)
    except (BadBody, CallDownError) as exc:
        return r.failed(exc)
    return r.json({"successful": True, "id": item_id})


@router.get(
    "/calldown",
    openapi_extra=documented(query=("status",)),
    responses=replies(CallDownList),
)
@_signed_in
async def get_call_down_list(request: Request, s: Session) -> Response:
    """The caller's items; ``status`` = ``called`` / ``not called`` / anything else (all)."""
    items = await calldown.list_items(
        runtime(request), s.user_id or "", s.platform, request.query_params.get("status")
    )
    return r.json({"successful": True, "items": items})


@router.patch(
    "/calldown/{id}",
    openapi_extra=documented(CallDownPatch),
    responses=replies(Successful),
)
@_signed_in
async def update_call_down_item(request: Request, s: Session) -> Response:
    """Change one of the caller's items (typically ``{"status": "called", "lastCallAt"}``)."""
    try:
        body = await _object_body(request)
        item_id = request.path_params.get("id") or body.get("id")
        if not item_id:
            return r.error("Missing id")
        await calldown.update_item(runtime(request), s.user_id or "", s.platform, item_id, body)
    except (BadBody, CallDownError) as exc:
        return r.failed(exc)
    return r.json({"successful": True})


@router.delete("/calldown/{id}", openapi_extra=documented(), responses=replies(Successful))
@_signed_in
async def delete_call_down_item(request: Request, s: Session) -> Response:
    """Delete one of the caller's items."""
    item_id = request.path_params.get("id") or request.query_params.get("id")
    if not item_id:
        return r.error("Missing id")
    try:
        await calldown.delete_item(runtime(request), s.user_id or "", s.platform, item_id)
    except CallDownError as exc:
        return r.failed(exc)
    return r.json({"successful": True})
