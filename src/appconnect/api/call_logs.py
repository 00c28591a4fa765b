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
from appconnect.api.body import BadBody, read_body
from appconnect.api.params import documented_query
from appconnect.api.session import Session, runtime, session
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

INVALID_JWT = "Invalid JWT token"
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
    openapi_extra=documented_query(
        "sessionIds", "extensionNumber", "hashedExtensionId", "requireDetails"
    ),
)
async def get_call_log(request: Request) -> Response:
    """Which calls are already logged (at most five session ids), optionally with CRM details."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)
    query = request.query_params
    flow = lookup_call_logs(
        runtime(request),
        _caller(request, s),
        session_ids=query.get("sessionIds"),
        identity=Identity(query.get("extensionNumber") or "", query.get("hashedExtensionId") or ""),
        require_details=query.get("requireDetails") == "true",
    )
    return await _answer(flow, "successful", "logs", "returnMessage")


@router.post("/callLog")
async def post_call_log(request: Request) -> Response:
    """Create the CRM activity for a call (once per session and extension identity)."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)

    async def flow() -> dict[str, Any]:
        body = await read_body(request)
        return await create_call_log(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "logId", "returnMessage")


@router.patch("/callLog")
async def patch_call_log(request: Request) -> Response:
    """Update the CRM activity of a logged call."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)

    async def flow() -> dict[str, Any]:
        body = await read_body(request)
        return await update_call_log(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "logId", "updatedNote", "returnMessage")


@router.post("/callLog/cacheNote")
async def post_cache_note(request: Request) -> Response:
    """Keep a note for an hour so server-side logging can write it into the CRM."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)

    async def flow() -> dict[str, Any]:
        return await cache_note(runtime(request), s.platform or "", await read_body(request))

    return await _answer(flow(), "successful", "returnMessage")


@router.put("/callDisposition")
async def put_call_disposition(request: Request) -> Response:
    """Write disposition values onto the CRM activity of a logged call."""
    s = session(request)
    if not s.valid:
        invalid = s.present and not s.decodable
        return r.text(INVALID_JWT if invalid else r.NOAUTH, 400)

    async def flow() -> dict[str, Any]:
        body = await read_body(request)
        return await upsert_call_disposition(runtime(request), _caller(request, s), body)

    return await _answer(flow(), "successful", "returnMessage")
