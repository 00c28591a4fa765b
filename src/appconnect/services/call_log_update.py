"""``PATCH /callLog``: update the CRM activity of a logged call (spec §3.4).

For connectors whose body the framework composes, the update re-composes the CRM's *current*
body (fetched with ``getCallLog``): only the sections the PATCH carries are replaced, so edits a
user made in the CRM survive. The link row is never modified by an update; a row whose create is
still in flight (``thirdPartyLogId`` NULL) is invisible, so such a PATCH answers "no log".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appconnect.compose import compose_call_log
from appconnect.compose.call_log import COMPOSED_FORMATS
from appconnect.connectors.args import given
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.jsvalues import UNSET, js_str
from appconnect.runtime import Runtime
from appconnect.security.hashing import MISSING
from appconnect.services.call_log_store import CallLogLink, identity_from_body
from appconnect.services.call_logs import (
    Caller,
    InvalidLogRequest,
    dispatch_async_plugins,
    get_call_log,
    hashed_account_id,
    link_store,
    log_format,
    obj,
    pick,
    ring_sense,
    ring_sense_args,
    run_sync_plugins,
    user_with_token,
)
from appconnect.services.credentials import AuthContext, authenticate
from appconnect.services.errors import (
    DB_FAILURE_MESSAGE,
    SESSION_REVOKED,
    api_error_result,
    failure,
)
from appconnect.services.log_locks import log_locks

logger = logging.getLogger("appconnect.call_logs")

_CALL_FIELDS = ("startTime", "duration", "result", "direction", "from", "to")


async def update_call_log(rt: Runtime, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """The update flow; ``{"successful": false}`` when no log or no user is found."""
    identity = identity_from_body(body, rt.hash_key)  # computed before plugins run
    session_id = body.get("sessionId")
    if session_id is None or session_id == "":
        raise InvalidLogRequest("sessionId is required")
    try:
        link = await link_store(rt).find(js_str(session_id), identity, **caller.owner)
        user = await user_with_token(rt, caller.user_id) if link is not None else None
    except SQLAlchemyError:
        logger.exception("call-log update look-up failed for session %s", session_id)
        return failure(DB_FAILURE_MESSAGE)
    if link is None or user is None:
        return {"successful": False}
    try:
        view = rt.registry.get_connector(caller.platform)
        auth = await authenticate(rt, view, user)
        if auth is None:
            return SESSION_REVOKED
        return await _update(rt, caller, body, link, view, auth)
    except Exception as exc:
        return api_error_result(exc, caller.platform, "updateCallLog")


async def _update(
    rt: Runtime,
    caller: Caller,
    body: dict[str, Any],
    link: CallLogLink,
    view: ConnectorView,
    auth: AuthContext,
) -> dict[str, Any]:
    body = await run_sync_plugins(rt, user=auth.user, body=body, operation="updateCallLog")
    # Fetch, re-compose and write back under the log's lease: concurrent updates take turns.
    async with log_locks(rt).hold(caller.platform, link.third_party_log_id):
        result = await _write(rt, caller, body, link, view, auth)
    try:
        await dispatch_async_plugins(
            rt, user=auth.user, operation="updateCallLog", body=body, link=link, caller=caller
        )
    except Exception:  # plugins never fail the logging request
        logger.exception("dispatching asynchronous call plugins failed")
    return {
        "successful": True,
        "logId": link.third_party_log_id,
        **pick(result, "updatedNote", "returnMessage"),
    }


async def _write(
    rt: Runtime,
    caller: Caller,
    body: dict[str, Any],
    link: CallLogLink,
    view: ConnectorView,
    auth: AuthContext,
) -> Mapping[str, Any]:
    composed, existing_details = await _recompose(rt, caller, view, auth, link, body)
    return obj(
        to_wire(
            await view.update_call_log(
                user=auth.user,
                existing_call_log=link.to_wire(),
                auth_header=auth.auth_header,
                recording_link=given(body, "recordingLink"),
                recording_download_link=given(body, "recordingDownloadLink"),
                voicemail_link=given(body, "voicemailLink"),
                voicemail_message_id=given(body, "voicemailMessageId"),
                subject=given(body, "subject"),
                note=given(body, "note"),
                start_time=given(body, "startTime"),
                duration=given(body, "duration"),
                result=given(body, "result"),
                ai_note=given(body, "aiNote"),
                transcript=given(body, "transcript"),
                legs=body.get("legs") or [],
                additional_submission=given(body, "additionalSubmission"),
                composed_log_details=composed,
                existing_call_log_details=existing_details,
                hashed_account_id=hashed_account_id(rt, caller, body.get("accountId", MISSING)),
                is_from_sscl=caller.is_from_sscl,
                proxy_config=auth.proxy_config,
                **ring_sense_args(body),
            )
        )
    )


async def _existing(view: ConnectorView, auth: AuthContext, link: CallLogLink) -> tuple[str, Any]:
    """(current CRM body, ``fullLogResponse``); a failed fetch reads as an empty body.

    ``existingCallLogDetails`` is ``None`` when nothing was fetched, and :data:`UNSET` when the
    fetched ``callLogInfo`` has no ``fullLogResponse`` (the reference's ``null``/``undefined``).
    """
    if not view.has("getCallLog"):
        return "", None
    try:
        info = obj((await get_call_log(view, auth, link)).get("callLogInfo"))
    except Exception:
        logger.warning('getCallLog before update failed; composing from ""', exc_info=True)
        return "", None
    body = info.get("fullBody") or info.get("note") or ""
    return (body if isinstance(body, str) else js_str(body)), info.get("fullLogResponse", UNSET)


async def _recompose(
    rt: Runtime,
    caller: Caller,
    view: ConnectorView,
    auth: AuthContext,
    link: CallLogLink,
    body: Mapping[str, Any],
) -> tuple[str, Any]:
    """(``composedLogDetails``, ``existingCallLogDetails``) for the update."""
    fmt = await log_format(view, caller.platform, auth.proxy_config)
    if fmt not in COMPOSED_FORMATS:
        return "", None
    existing_body, details = await _existing(view, auth, link)
    call_log = {
        "sessionId": link.session_id,
        **{k: body[k] for k in _CALL_FIELDS if k in body},
        "legs": body.get("legs") or [],
    }
    composed = compose_call_log(
        log_format=fmt,
        existing_body=existing_body,
        call_log=call_log,
        contact_info=None,
        user=auth.user,
        note=body.get("note"),
        ai_note=body.get("aiNote"),
        transcript=body.get("transcript"),
        recording_link=body.get("recordingLink"),
        voicemail_link=body.get("voicemailLink"),
        subject=body.get("subject"),
        start_time=body.get("startTime"),
        duration=body.get("duration", UNSET),
        result=body.get("result"),
        **ring_sense(body),
    )
    return composed, details
