"""What the benchmark measures: one :class:`Scenario` per route, and the issue's targets.

Request bodies are written once, here, as templates in which ``@UID@`` stands for a per-request
id. The Python side renders them for set-up and for the exact CRM-count probe; wrk reads the same
template file (``bench/wrk/scenario.lua`` splits it on the marker once and joins it with each
request's id), so the load and the probe can never drift apart.

Id modes (how ``@UID@`` is filled under load):

* ``static``: no body and no marker; one pre-built request.
* ``unique``: ``<prefix><thread id>-<random salt>-<counter>``; never repeats (new call sessions,
  new conversations).
* ``cycle``: ``<prefix><index:04d>`` for index ``0..count-1`` in turn; pre-built requests over
  seeded contacts or call sessions created during set-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MARKER = "@UID@"
EXTENSION = {"hashedExtensionId": "bench-ext-101", "extensionNumber": "101"}
SEEDED_CONTACTS = 1000  # fake_crm.py --contacts; contact i has phone +1650555<i:04d>


@dataclass(frozen=True)
class Scenario:
    """One measured operation."""

    key: str  # command-line name
    label: str  # table row
    method: str
    path: str  # may contain MARKER
    body: str | None  # JSON template, may contain MARKER
    mode: str  # static | unique | cycle
    crm_max_per_op: float  # the ceiling on CRM requests per operation
    count: int = 0  # cycle mode: ids 0..count-1
    needs_sessions: bool = False  # cycle over call sessions created during set-up

    def render(self, uid: str) -> tuple[str, bytes | None]:
        path = self.path.replace(MARKER, uid)
        body = self.body.replace(MARKER, uid).encode() if self.body is not None else None
        return path, body


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _call_log_create() -> str:
    """A browser-style POST /callLog: an inbound call from seeded contact 1, with a note."""
    return _json(
        {
            "logInfo": {
                "id": MARKER,
                "sessionId": MARKER,
                "telephonySessionId": f"s-{MARKER}",
                "accountId": "400100000001",
                "direction": "Inbound",
                "type": "Voice",
                "action": "Phone Call",
                "result": "Accepted",
                "reason": "Accepted",
                "startTime": "2026-06-24T02:30:00.000Z",
                "duration": 125,
                "from": {"phoneNumber": "+16505550001", "name": "Contact 1"},
                "to": {"phoneNumber": "+16505559999", "extensionNumber": "101", "name": "Agent"},
                "recording": {"link": f"https://media.example/recording/{MARKER}"},
                "customSubject": "Inbound call from Contact 1",
                **EXTENSION,
            },
            **EXTENSION,
            "contactId": "c-1",
            "contactType": "Contact",
            "contactName": "Contact 1",
            "note": "Discussed renewal options.",
            "additionalSubmission": {},
        }
    )


def _call_log_update() -> str:
    """A PATCH /callLog after the call ended: new note, subject, duration and result."""
    return _json(
        {
            "sessionId": MARKER,
            **EXTENSION,
            "accountId": "400100000001",
            "subject": "Inbound call from Contact 1 (updated)",
            "note": "Customer agreed to renew for two years.",
            "startTime": "2026-06-24T02:30:00.000Z",
            "duration": 245,
            "result": "Call connected",
            "direction": "Inbound",
            "recordingLink": f"https://media.example/recording/{MARKER}",
        }
    )


def _sms(uid_suffix: str, text: str, minute: int) -> dict[str, Any]:
    message_id = f"{MARKER}-{uid_suffix}"
    stamp = f"2026-07-14T03:{minute:02d}:00.000Z"
    return {
        "id": message_id,
        "type": "SMS",
        "direction": "Inbound",
        "from": {"phoneNumber": "+16505550002", "name": "Contact 2"},
        "to": [{"phoneNumber": "+16505559999", "name": "Agent"}],
        "subject": text,
        "creationTime": stamp,
        "lastModifiedTime": stamp,
        "messageStatus": "Received",
        "readStatus": "Unread",
        "attachments": [{"id": message_id, "type": "Text", "contentType": "text/plain"}],
        "conversationId": f"conv-{MARKER}",
    }


def _message_log() -> str:
    """POST /messageLog: a new conversation-day with three new SMS (newest first, as sent)."""
    return _json(
        {
            "logInfo": {
                "conversationId": f"conv-{MARKER}",
                "conversationLogId": f"conv-{MARKER}-2026-07-14",
                "correspondents": [{"phoneNumber": "+16505550002", "name": "Contact 2"}],
                "accountId": "178009004",
                "messages": [
                    _sms("3", "See you then.", 2),
                    _sms("2", "Tuesday 10am works.", 1),
                    _sms("1", "Can we talk about the renewal?", 0),
                ],
            },
            "contactId": "c-2",
            "contactType": "Contact",
            "contactName": "Contact 2",
            "additionalSubmission": {},
        }
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("isAlive", "GET /isAlive (floor)", "GET", "/isAlive", None, "static", 0),
    Scenario(
        "contact",
        "GET /contact",
        "GET",
        f"/contact?phoneNumber=%2B1650555{MARKER}",
        None,
        "cycle",
        1,
        count=SEEDED_CONTACTS,
    ),
    Scenario(
        "callLog.create", "POST /callLog", "POST", "/callLog", _call_log_create(), "unique", 1
    ),
    Scenario(
        "callLog.update",
        "PATCH /callLog",
        "PATCH",
        "/callLog",
        _call_log_update(),
        "cycle",
        2,
        needs_sessions=True,
    ),
    Scenario(
        "messageLog",
        "POST /messageLog (3 new SMS)",
        "POST",
        "/messageLog",
        _message_log(),
        "unique",
        5,  # one create, then a read + write per further SMS (bench/connector.py)
    ),
)

BY_KEY = {s.key: s for s in SCENARIOS}
CREATE = BY_KEY["callLog.create"]

# The targets: (scenario, CRM latency ms, connections) -> minimum requests/second.
MIN_RPS: dict[tuple[str, int, int], float] = {
    ("contact", 0, 64): 1300,
    ("callLog.create", 0, 64): 750,
    ("callLog.update", 0, 64): 1000,
    ("messageLog", 0, 64): 180,  # was 300 at 3 CRM calls per operation; now 5 (x 3/5)
    ("contact", 50, 8): 140,
}
P99_LIMIT_MS = 150.0  # applies to the 0 ms / 64 connection targets
