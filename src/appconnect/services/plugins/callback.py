"""``POST /plugin/async-callback/{taskId}``: an async plugin's completion report (plugins.md §5.4,
§8.2-§8.3).

A success report appends the plugin's note to the CRM log's agent notes: the log is read back
with ``getCallLog``, the note becomes ``existing note + "\\n\\n" + plugin note``, and the body is
re-composed from the CRM's current body (log-composition.md §7), so the agent-notes section is
replaced in place, never added twice. The task is then deleted.

Exactly once: a report first *claims* its task (``pending``/``failed`` -> ``processing`` in one
conditional update). Of two deliveries of the same report, only one claims it; the other answers
404 like a report for a task that is already done. A claim left by a crashed process expires
after :data:`~appconnect.services.plugins.records.STALE_PROCESSING`.

The read-append-write runs under the CRM log's lease (:mod:`appconnect.services.log_locks`), the
same one ``PATCH /callLog`` holds while it re-composes: reports of several async plugins for one
log, and a report racing a user's update of that log, take turns, so no write is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from appconnect.compose import UNSET, compose_call_log
from appconnect.compose.call_log import COMPOSED_FORMATS
from appconnect.compose.formatting import js_str
from appconnect.runtime import Runtime
from appconnect.services.call_log_store import CallLogLink, Identity
from appconnect.services.call_logs import (
    get_call_log,
    link_store,
    log_format,
    obj,
    ring_sense,
    user_with_token,
)
from appconnect.services.credentials import AuthContext, authenticate
from appconnect.services.errors import client_message
from appconnect.services.log_locks import log_locks
from appconnect.services.plugins import records

logger = logging.getLogger("appconnect.plugins")

SUCCESSFUL_REQUIRED = "successful is required"
NOT_FOUND = "Async task not found"
DEFAULT_FAILURE = "Async plugin callback failed"
LOG_NOT_FOUND = "Call log not found for async plugin task"
USER_NOT_FOUND = "User not found"
SESSION_EXPIRED = "User session expired. Please connect again."

Reply = tuple[int, dict[str, Any]]


class TaskFailure(Exception):
    """Completing the task failed; the message is stored on the task and answered."""


async def handle_callback(rt: Runtime, task_id: str, report: Mapping[str, Any]) -> Reply:
    successful = report.get("successful")
    if not isinstance(successful, bool):
        return 400, {"successful": False, "message": SUCCESSFUL_REQUIRED}
    try:
        task = await records.get_task(rt, task_id)
        if task is None:
            return 404, {"successful": False, "message": NOT_FOUND}
        if not successful:
            message = report.get("message")
            text = message if isinstance(message, str) and message else DEFAULT_FAILURE
            await records.fail_task(rt, task.id, text)
            return 200, {"successful": True}
        if not await records.claim_task(rt, task):
            return 404, {"successful": False, "message": NOT_FOUND}
        note = report.get("note")
        try:
            await append_note(rt, task.data, note if isinstance(note, str) else "")
        except Exception as exc:
            logger.warning("async plugin task %s could not update the CRM: %r", task.id, exc)
            await records.fail_task(rt, task.id, str(exc) or DEFAULT_FAILURE)
            return 500, {"successful": False, "message": client_message(exc) or DEFAULT_FAILURE}
        await records.delete_task(rt, task.id)
    except Exception as exc:
        logger.exception("async plugin callback for %s failed", task_id)
        return 500, {"successful": False, "message": client_message(exc) or DEFAULT_FAILURE}
    return 200, {"successful": True}


def joined_note(existing: Any, addition: str) -> str:
    parts = [p for p in (existing if isinstance(existing, str) else "", addition) if p]
    return "\n\n".join(parts)


async def _link(rt: Runtime, data: Mapping[str, Any]) -> CallLogLink:
    session_id = data.get("sessionId")
    if session_id is None or session_id == "":
        raise TaskFailure(LOG_NOT_FOUND)
    identity = Identity(
        js_str(data.get("extensionNumber") or ""), js_str(data.get("hashedExtensionId") or "")
    )
    link = await link_store(rt).find(
        js_str(session_id),
        identity,
        user_id=js_str(data.get("userId")),
        platform=js_str(data.get("platform")),
    )
    if link is None or link.third_party_log_id is None:
        raise TaskFailure(LOG_NOT_FOUND)
    return link


def _from(incoming: Mapping[str, Any], key: str, fallback: Any = None) -> Any:
    value = incoming.get(key)
    return fallback if value is None else value


def update_inputs(incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The update's values from the task's payload: top-level field first, else ``logInfo``'s."""
    info = obj(incoming.get("logInfo"))
    recording = obj(info.get("recording"))
    voicemail = obj(info.get("voicemail"))
    values: dict[str, Any] = {
        "recording_link": _from(incoming, "recordingLink", recording.get("link")),
        "recording_download_link": _from(
            incoming, "recordingDownloadLink", info.get("recordingDownloadLink")
        ),
        "voicemail_link": _from(incoming, "voicemailLink", voicemail.get("link")),
        "voicemail_message_id": _from(incoming, "voicemailMessageId", voicemail.get("messageId")),
        "subject": _from(incoming, "subject", info.get("customSubject")),
        "legs": _from(incoming, "legs", info.get("legs")) or [],
        "ai_note": _from(incoming, "aiNote", info.get("aiNote")),
        "transcript": _from(incoming, "transcript", info.get("transcript")),
    }
    for key in ("startTime", "duration", "result", "direction", "from", "to"):
        values[key] = _from(incoming, key, info.get(key))
    merged_sense = {**{k: info.get(k) for k in _SENSE_KEYS}, **_present(incoming, _SENSE_KEYS)}
    values.update(ring_sense(merged_sense))
    return values


_SENSE_KEYS = (
    "ringSenseTranscript",
    "ringSenseSummary",
    "ringSenseAIScore",
    "ringSenseBulletedSummary",
    "ringSenseLink",
)


def _present(source: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: source[k] for k in keys if source.get(k) is not None}


async def append_note(rt: Runtime, data: Mapping[str, Any], note: str) -> None:
    """§8.3: read the CRM log, append ``note`` to its agent notes, write it back.

    Under the log's lease: the notes of two async plugins reporting together both survive
    (spec §11 #8), and so does a concurrent ``PATCH /callLog`` of the same log.
    """
    link = await _link(rt, data)
    async with log_locks(rt).hold(js_str(data.get("platform")), link.third_party_log_id):
        await _append(rt, data, link, note)


async def _append(rt: Runtime, data: Mapping[str, Any], link: CallLogLink, note: str) -> None:
    user = await user_with_token(rt, js_str(data.get("userId")))
    if user is None:
        raise TaskFailure(USER_NOT_FOUND)
    platform = js_str(data.get("platform"))
    view = rt.registry.get_connector(platform)
    auth = await authenticate(rt, view, user)
    if auth is None:
        raise TaskFailure(SESSION_EXPIRED)
    info: Mapping[str, Any] = {}
    if view.has("getCallLog"):
        info = obj((await get_call_log(view, auth, link)).get("callLogInfo"))
    existing_note = info.get("note") or ""
    existing_body = info.get("fullBody") or info.get("note") or ""
    new_note = joined_note(existing_note, note)
    inputs = update_inputs(obj(data.get("incomingData")))
    composed = await _compose(rt, view, platform, auth, link, existing_body, new_note, inputs)
    await view.update_call_log(
        user=auth.user,
        existing_call_log=link.to_wire(),
        auth_header=auth.auth_header,
        recording_link=inputs["recording_link"],
        recording_download_link=inputs["recording_download_link"],
        voicemail_link=inputs["voicemail_link"],
        voicemail_message_id=inputs["voicemail_message_id"],
        subject=inputs["subject"],
        note=new_note,
        start_time=inputs["startTime"],
        duration=inputs["duration"],
        result=inputs["result"],
        ai_note=inputs["ai_note"],
        transcript=inputs["transcript"],
        legs=inputs["legs"],
        additional_submission=obj(data.get("incomingData")).get("additionalSubmission"),
        composed_log_details=composed,
        existing_call_log_details=info.get("fullLogResponse"),
        hashed_account_id=data.get("hashedAccountId"),
        is_from_sscl=bool(data.get("isFromSSCL")),
        proxy_config=auth.proxy_config,
        **{k: v for k, v in inputs.items() if k.startswith("ring_sense_")},
    )


async def _compose(
    rt: Runtime,
    view: Any,
    platform: str,
    auth: AuthContext,
    link: CallLogLink,
    existing_body: Any,
    note: str,
    inputs: Mapping[str, Any],
) -> str:
    fmt = await log_format(view, platform, auth.proxy_config)
    if fmt not in COMPOSED_FORMATS:
        return ""
    call_log = {
        "sessionId": link.session_id,
        **{k: inputs[k] for k in ("startTime", "duration", "result", "direction", "from", "to")
           if inputs[k] is not None},
        "legs": inputs["legs"],
    }  # fmt: skip
    return compose_call_log(
        log_format=fmt,
        existing_body=existing_body if isinstance(existing_body, str) else js_str(existing_body),
        call_log=call_log,
        contact_info=None,
        user=auth.user,
        note=note,
        ai_note=inputs["ai_note"],
        transcript=inputs["transcript"],
        recording_link=inputs["recording_link"],
        voicemail_link=inputs["voicemail_link"],
        subject=inputs["subject"],
        start_time=inputs["startTime"],
        duration=UNSET if inputs["duration"] is None else inputs["duration"],
        result=inputs["result"],
        **{k: v for k, v in inputs.items() if k.startswith("ring_sense_")},
    )
