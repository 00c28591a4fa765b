"""``POST /callLog``: create the CRM activity for a call, exactly once (spec §3.3).

The link row is reserved in the database *before* the CRM is called (see
:mod:`appconnect.services.call_log_store`): of any number of concurrent requests for the same call
and identity, one wins the reservation and talks to the CRM; the others answer "Existing log for
session" without a CRM request. When the CRM does not accept the log (falsy ``logId``, exception,
revoked session, missing user or contact...) the reservation is deleted, so no link row ever
points at a log that does not exist.

Deviation from the reference (spec §10 #1, recommended): with the note cache enabled, a cached
note for a server-side-logged call *is* used (it replaces ``body.note`` before plugins run); the
reference reads it and then overwrites it with ``body.note``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appconnect.compose import compose_call_log
from appconnect.compose.call_log import COMPOSED_FORMATS
from appconnect.connectors.args import first_set, given
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.jsvalues import UNSET, js_str, js_truthy
from appconnect.runtime import Runtime
from appconnect.security.hashing import MISSING
from appconnect.services.call_log_store import (
    CallLogLink,
    CallLogStore,
    Reservation,
    identity_from_body,
)
from appconnect.services.call_logs import (
    Caller,
    InvalidLogRequest,
    coalesce,
    dispatch_async_plugins,
    hashed_account_id,
    link_store,
    log_format,
    note_cache,
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
from appconnect.store.users import User

logger = logging.getLogger("appconnect.call_logs")


def link_key(log_info: Mapping[str, Any]) -> tuple[str, str]:
    """(row id, session id) of the link row: ``telephonySessionId || id``, ``sessionId``."""
    session_id = log_info.get("sessionId")
    telephony = log_info.get("telephonySessionId")
    row_id = telephony if js_truthy(telephony) else log_info.get("id")
    if session_id is None or session_id == "":
        raise InvalidLogRequest("logInfo.sessionId is required")
    if row_id is None or row_id == "":
        raise InvalidLogRequest("logInfo.telephonySessionId or logInfo.id is required")
    return js_str(row_id), js_str(session_id)


def _contact_id(body: Mapping[str, Any]) -> str | None:
    value = body.get("contactId")
    return None if value is None else js_str(value)


async def create_call_log(rt: Runtime, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """The create flow; raises :class:`InvalidLogRequest` when ``logInfo`` names no call."""
    log_info = body.get("logInfo")
    if not isinstance(log_info, Mapping):
        raise InvalidLogRequest("logInfo is required")
    row_id, session_id = link_key(log_info)
    store = link_store(rt)
    try:
        reservation = await store.reserve(
            row_id=row_id,
            session_id=session_id,
            identity=identity_from_body(body, rt.hash_key),
            platform=caller.platform,
            user_id=caller.user_id,
            contact_id=_contact_id(body),
        )
    except SQLAlchemyError:
        logger.exception("call-log reservation failed for session %s", session_id)
        return failure(DB_FAILURE_MESSAGE)
    if reservation is None:
        return failure(f"Existing log for session {session_id}", ttl=3000)
    return await _create_reserved(rt, caller, body, store, reservation)


async def _create_reserved(
    rt: Runtime, caller: Caller, body: dict[str, Any], store: CallLogStore, res: Reservation
) -> dict[str, Any]:
    """Steps 2-12 with the reservation held; it is released unless the CRM accepted the log."""
    accepted = False
    try:
        outcome = await _create_in_crm(rt, caller, body)
        if isinstance(outcome, dict):
            return outcome
        accepted = True
        return await _finish(rt, caller, store, res, *outcome)
    finally:
        if not accepted:
            await _release_quietly(store, res)


async def _release_quietly(store: CallLogStore, reservation: Reservation) -> None:
    try:
        await store.release(reservation)
    except Exception:  # the stale-reservation sweep cleans up eventually
        logger.exception("could not release call-log reservation %s", reservation)


_Accepted = tuple[dict[str, Any], User, dict[str, Any]]  # (connector result, user, final body)


async def _create_in_crm(
    rt: Runtime, caller: Caller, body: dict[str, Any]
) -> dict[str, Any] | _Accepted:
    """A failure result, or what :func:`_finish` needs when the CRM accepted the log."""
    try:
        user = await user_with_token(rt, caller.user_id)
    except SQLAlchemyError:
        logger.exception("loading user %s failed", caller.user_id)
        return failure(DB_FAILURE_MESSAGE)
    if user is None:
        return failure("User not found")
    try:
        return await _create_for_user(rt, caller, body, user)
    except Exception as exc:
        return api_error_result(exc, caller.platform, "createCallLog")


async def _create_for_user(
    rt: Runtime, caller: Caller, body: dict[str, Any], user: User
) -> dict[str, Any] | _Accepted:
    log_info = obj(body.get("logInfo"))
    if rt.settings.call_note_cache_enabled and caller.is_from_sscl:
        cached = await note_cache(rt).get(
            js_str(log_info.get("sessionId")), user_id=caller.user_id, platform=caller.platform
        )
        if cached is not None:
            body = {**body, "note": cached}
    view = rt.registry.get_connector(caller.platform)
    auth = await authenticate(rt, view, user)
    if auth is None:
        return SESSION_REVOKED
    side = obj(log_info.get("from" if log_info.get("direction") == "Inbound" else "to"))
    number = side.get("phoneNumber", UNSET)
    if not js_truthy(body.get("contactId")):
        return failure(f"Contact not found for number {js_str(number)}")
    contact_info = {
        "id": body["contactId"],
        "phoneNumber": None if number is UNSET else number,
        "type": coalesce(body.get("contactType"), ""),
        "name": coalesce(body.get("contactName"), ""),
    }
    # Captured before plugins run: a plugin cannot change them (spec §3.3).
    fixed = {k: given(body, k) for k in ("aiNote", "transcript", "additionalSubmission")}
    body = await run_sync_plugins(rt, user=auth.user, body=body, operation="createCallLog")
    result = await _call_connector(rt, caller, view, auth, log_info, contact_info, fixed, body)
    if not js_truthy(result.get("logId")):
        return {"successful": False, **pick(result, "returnMessage")}
    return result, auth.user, body


async def _call_connector(
    rt: Runtime,
    caller: Caller,
    view: ConnectorView,
    auth: AuthContext,
    log_info: Mapping[str, Any],
    contact_info: dict[str, Any],
    fixed: dict[str, Any],
    body: dict[str, Any],
) -> dict[str, Any]:
    voicemail = log_info.get("voicemail")
    sense = ring_sense(body)
    voicemail_link = first_set(given(body, "voicemailLink"), given(voicemail, "link"))
    fmt = await log_format(view, caller.platform, auth.proxy_config)
    composed = ""
    if fmt in COMPOSED_FORMATS:
        composed = compose_call_log(
            log_format=fmt,
            existing_body="",
            call_log=log_info,
            contact_info=contact_info,
            user=auth.user,
            note=body.get("note"),
            ai_note=_null(fixed["aiNote"]),
            transcript=_null(fixed["transcript"]),
            recording_link=obj(log_info.get("recording")).get("link"),
            voicemail_link=_null(voicemail_link),
            subject=log_info.get("customSubject"),
            start_time=log_info.get("startTime"),
            duration=log_info.get("duration", UNSET),
            result=log_info.get("result"),
            **sense,
        )
    result = await view.create_call_log(
        user=auth.user,
        contact_info=contact_info,
        auth_header=auth.auth_header,
        call_log=log_info,
        note=given(body, "note"),
        additional_submission=fixed["additionalSubmission"],
        ai_note=fixed["aiNote"],
        transcript=fixed["transcript"],
        voicemail_link=voicemail_link,
        voicemail_message_id=first_set(
            given(body, "voicemailMessageId"), given(voicemail, "messageId")
        ),
        composed_log_details=composed,
        hashed_account_id=hashed_account_id(rt, caller, log_info.get("accountId", MISSING)),
        is_from_sscl=caller.is_from_sscl,
        proxy_config=auth.proxy_config,
        **ring_sense_args(body),
    )
    wire = to_wire(result)
    return dict(wire) if isinstance(wire, Mapping) else {}


def _null(value: Any) -> Any:
    """What the composer takes for an absent value."""
    return None if value is UNSET else value


async def _finish(
    rt: Runtime,
    caller: Caller,
    store: CallLogStore,
    res: Reservation,
    result: dict[str, Any],
    user: User,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Store the CRM id on the reserved row, dispatch async plugins, answer (steps 11-12)."""
    try:
        row_id, session_id = link_key(obj(body.get("logInfo")))  # read after plugins
    except InvalidLogRequest:
        row_id, session_id = res.id, res.session_id
    log_id = js_str(result["logId"])
    contact_id = _contact_id(body)
    try:
        await store.complete(
            res,
            third_party_log_id=log_id,
            row_id=row_id,
            session_id=session_id,
            contact_id=contact_id,
        )
    except SQLAlchemyError:
        # The CRM activity exists; the pending row stays (invisible, blocks duplicates) until
        # the stale sweep, which is the safest we can do with the database failing.
        logger.exception("storing the call-log link for session %s failed", session_id)
        return failure(DB_FAILURE_MESSAGE)
    link = CallLogLink(
        row_id,
        session_id,
        res.identity.extension_number,
        res.identity.hashed_extension_id,
        res.platform,
        log_id,
        res.user_id,
        contact_id,
    )
    try:
        await dispatch_async_plugins(
            rt, user=user, operation="createCallLog", body=body, link=link, caller=caller
        )
    except Exception:  # plugins never fail the logging request
        logger.exception("dispatching asynchronous call plugins failed")
    return {"successful": True, **pick(result, "logId", "returnMessage")}
