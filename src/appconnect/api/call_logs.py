"""Call-logging routes: ``/callLog`` (GET, POST, PATCH), ``/callLog/cacheNote``,
``/callDisposition`` (spec http-contact-logging.md §3).

Routes parse the request (session, headers, body) and shape the reply; the flows live in
``appconnect.services.call_logs`` / ``call_log_create`` / ``call_log_update``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api import wire as w
from appconnect.api.body import BadBody
from appconnect.api.openapi import documented, replies
from appconnect.api.session import INVALID_JWT, Session, runtime, with_session
from appconnect.services.call_log_create import create_call_log
from appconnect.services.call_log_store import Identity
from appconnect.services.call_log_update import update_call_log
from appconnect.services.call_logs import (
    Caller,
    InvalidLogRequest,
    cache_note,
    lookup_call_logs,
    upsert_call_disposition,
)
from appconnect.services.errors import client_message, failure

logger = logging.getLogger("appconnect.api.call_logs")

router = routing.router(tags=["Call Logs"])

SSCL_USER_AGENT = "SSCL"


def _caller(request: Request, s: Session) -> Caller:
    return Caller(
        user_id=s.user_id or "",
        platform=s.platform or "",
        rc_account_header=request.headers.get("rc-account-id") or None,
        is_from_sscl=request.headers.get("user-agent") == SSCL_USER_AGENT,
    )


async def _answer(flow: Awaitable[dict[str, Any]], *keys: str) -> Response:
    """Run a flow; an exception it did not map itself is the reference's 400 envelope."""
    try:
        result = await flow
    except BadBody as exc:
        return r.failed(exc)
    except InvalidLogRequest as exc:  # the reference's status and keys, a clearer message
        return r.business(failure(client_message(exc)), *keys)
    except Exception as exc:
        logger.exception("call-log route failed")
        return r.failed(exc)
    return r.business(result, *keys)


@router.get(
    "/callLog",
    openapi_extra=documented(
        query=("sessionIds", "extensionNumber", "hashedExtensionId", "requireDetails")
    ),
    responses=replies(w.CallLogLookup, revocable=True),
)
@with_session()
async def get_call_log(request: Request, s: Session) -> Response:
    """Which calls are already logged (at most five session ids), optionally with CRM details."""
    query = request.query_params
    flow = lookup_call_logs(
        runtime(request),
        _caller(request, s),
        session_ids=query.get("sessionIds"),
        identity=Identity(query.get("extensionNumber") or "", query.get("hashedExtensionId") or ""),
        require_details=query.get("requireDetails") == "true",
    )
    return await _answer(flow, "successful", "logs", "returnMessage")


@router.post(
    "/callLog",
    openapi_extra=documented(w.CallLogCreate),
    responses=replies(w.CallLogCreated, revocable=True),
)
@with_session()
async def post_call_log(request: Request, s: Session) -> Response:
    """Create the CRM activity for a call (once per session and extension identity)."""

    async def flow() -> dict[str, Any]:
        body = await w.parse(request, w.CallLogCreate)
        return await create_call_log(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "logId", "returnMessage")


@router.patch(
    "/callLog",
    openapi_extra=documented(w.CallLogUpdate),
    responses=replies(w.CallLogUpdated, revocable=True),
)
@with_session()
async def patch_call_log(request: Request, s: Session) -> Response:
    """Update the CRM activity of a logged call."""

    async def flow() -> dict[str, Any]:
        body = await w.parse(request, w.CallLogUpdate)
        return await update_call_log(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "logId", "updatedNote", "returnMessage")


@router.post(
    "/callLog/cacheNote",
    openapi_extra=documented(w.NoteToCache),
    responses=replies(w.Outcome),
)
@with_session()
async def post_cache_note(request: Request, s: Session) -> Response:
    """Keep a note for an hour so server-side logging can write it into the CRM."""

    async def flow() -> dict[str, Any]:
        body = await w.parse(request, w.NoteToCache)
        return await cache_note(runtime(request), s.platform or "", body, user_id=s.user_id or "")

    return await _answer(flow(), "successful", "returnMessage")


@router.put(
    "/callDisposition",
    openapi_extra=documented(w.CallDisposition),
    responses=replies(w.Outcome, revocable=True),
)
@with_session(invalid_token=INVALID_JWT)
async def put_call_disposition(request: Request, s: Session) -> Response:
    """Write disposition values onto the CRM activity of a logged call."""

    async def flow() -> dict[str, Any]:
        body = await w.parse(request, w.CallDisposition)
        return await upsert_call_disposition(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "returnMessage")
