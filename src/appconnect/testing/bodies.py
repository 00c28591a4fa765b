"""Request bodies as the App Connect client sends them: call logs, call-log edits, messages.

Every builder takes keyword overrides that are merged last, so a test can add or replace any
wire field (``call_log_body(additionalSubmission={...})``). Field names are the wire's.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AGENT_NUMBER",
    "CONTACT_NUMBER",
    "call_log_body",
    "call_log_update_body",
    "message_log_body",
    "sms_message",
]

AGENT_NUMBER = "+16505550199"
CONTACT_NUMBER = "+16505550100"


def _party(number: str, name: str | None) -> dict[str, Any]:
    return {"phoneNumber": number, **({"name": name} if name else {})}


def call_log_body(
    session_id: str = "s-1",
    *,
    direction: str = "Outbound",
    contact_id: Any = "c-1",
    contact_name: str | None = "Ada Lovelace",
    contact_type: str | None = "Contact",
    note: str | None = "Test note",
    subject: str | None = "Test Call",
    agent: tuple[str, str | None] = (AGENT_NUMBER, "Agent"),
    contact: tuple[str, str | None] = (CONTACT_NUMBER, "Ada Lovelace"),
    start_time: str = "2025-01-15T10:30:00.000Z",
    duration: Any = 120,
    result: str = "Completed",
    log_info: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``POST /callLog`` body. ``agent``/``contact`` are (number, name) of the two parties;
    the direction decides which is ``from`` and which is ``to``. ``None`` leaves a field out."""
    me, them = _party(*agent), _party(*contact)
    inbound = direction == "Inbound"
    info: dict[str, Any] = {
        "id": f"call-{session_id}",
        "telephonySessionId": f"tel-{session_id}",
        "sessionId": session_id,
        "accountId": "acc-1",
        "direction": direction,
        "startTime": start_time,
        "duration": duration,
        "result": result,
        "from": them if inbound else me,
        "to": me if inbound else them,
    }
    if subject is not None:
        info["customSubject"] = subject
    info.update(log_info or {})
    body: dict[str, Any] = {"logInfo": info, "contactId": contact_id}
    if contact_type is not None:
        body["contactType"] = contact_type
    if contact_name is not None:
        body["contactName"] = contact_name
    if note is not None:
        body["note"] = note
    body.update(extra)
    return body


def call_log_update_body(
    session_id: str = "s-1",
    *,
    note: str | None = "Edited note",
    subject: str | None = None,
    duration: Any = None,
    result: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``PATCH /callLog`` body (the client's edit of a logged call): only what is given."""
    body: dict[str, Any] = {"sessionId": session_id}
    for key, value in (("note", note), ("subject", subject), ("duration", duration),
                       ("result", result)):  # fmt: skip
        if value is not None:
            body[key] = value
    body.update(extra)
    return body


def sms_message(
    message_id: Any,
    text: str = "hello",
    *,
    direction: str = "Inbound",
    contact: tuple[str, str | None] = (CONTACT_NUMBER, "Ada Lovelace"),
    agent: tuple[str, str | None] = (AGENT_NUMBER, "Agent"),
    creation_time: str = "2025-01-15T10:00:00.000Z",
    **extra: Any,
) -> dict[str, Any]:
    """One message of ``logInfo.messages`` (an SMS unless ``type=`` says otherwise)."""
    them, me = _party(*contact), _party(*agent)
    inbound = direction == "Inbound"
    return {
        "id": message_id,
        "type": "SMS",
        "direction": direction,
        "from": them if inbound else me,
        "to": [me if inbound else them],
        "subject": text,
        "creationTime": creation_time,
        **extra,
    }


def message_log_body(
    messages: list[dict[str, Any]],
    *,
    conversation_id: str = "conv-1",
    day: str = "2025-01-15",
    contact_id: Any = "c-1",
    contact_name: str | None = "Ada Lovelace",
    contact_type: str | None = "Contact",
    contact_number: str = CONTACT_NUMBER,
    log_info: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``POST /messageLog`` body: one conversation (one day of it) with ``messages``."""
    info: dict[str, Any] = {
        "conversationId": conversation_id,
        "conversationLogId": f"{conversation_id}-{day}",
        "correspondents": [_party(contact_number, contact_name)],
        "messages": messages,
        "accountId": "acc-1",
    }
    info.update(log_info or {})
    body: dict[str, Any] = {"logInfo": info, "contactId": contact_id}
    if contact_type is not None:
        body["contactType"] = contact_type
    if contact_name is not None:
        body["contactName"] = contact_name
    body.update(extra)
    return body
