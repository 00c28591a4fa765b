"""Central call-log body composer (spec ``log-composition.md`` sections 3-9).

Connectors that declare ``text/plain``, ``text/html`` or ``text/markdown`` get their CRM activity
body built here, so every CRM shows the same sections with the same labels, and an update can
rewrite one section of a body the user may have edited in the CRM without touching the rest.

Signature (all keyword-only; values are the reference's camelCase wire values)::

    compose_call_log(
        *,
        log_format: str,                         # connector getLogFormatType() result
        existing_body: str | None = "",          # "" on create; CRM fullBody/note on update
        user_settings: Mapping | None = None,    # {settingId: {"value": ...}}; None: user's own
        call_log: Mapping | None = None,         # logInfo: direction, from, to, sessionId,
                                                 #   startTime, legs (update: rebuilt by route)
        contact_info: Mapping | None = None,     # {phoneNumber, ...}; None on update
        user: Mapping | object | None = None,    # reads timezoneOffset (and userSettings)
        note=None, subject=None, start_time=None,
        duration=UNSET,                          # UNSET: leave alone; None renders "0 seconds"
        result=None, ai_note=None, transcript=None,
        recording_link=None, voicemail_link=None,
        ring_sense_transcript=None, ring_sense_summary=None, ring_sense_ai_score=None,
        ring_sense_bulleted_summary=None, ring_sense_link=None,
        legs=None,                               # overrides call_log["legs"] when not None
    ) -> str

Formats outside :data:`COMPOSED_FORMATS` return ``""``: such connectors format raw fields
themselves. "Non-empty"/"truthy" below always means JavaScript truthiness (``0`` and ``""`` are
empty, ``[]`` and ``{}`` are not), because that is what decides parity with the reference.
Absent inputs leave their section untouched, which is what makes partial updates possible.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from appconnect.compose.formatting import format_duration
from appconnect.compose.moment import format_instant, parse_instant, user_offset
from appconnect.compose.sections import Rule, Section, rules_for
from appconnect.jsvalues import UNSET, Unset, js_greater, js_str, js_truthy

COMPOSED_FORMATS: Final = ("text/plain", "text/html", "text/markdown")
DEFAULT_DATE_FORMAT: Final = "YYYY-MM-DD hh:mm:ss A"

# (section, user setting that switches it, default when the setting is unset) - spec 4.
_PLAN: Final[tuple[tuple[Section, str, bool], ...]] = (
    (Section.NOTE, "addCallLogNote", True),
    (Section.SESSION_ID, "addCallSessionId", False),
    (Section.RC_USER_NAME, "addRingCentralUserName", False),
    (Section.RC_NUMBER, "addRingCentralNumber", False),
    (Section.SUBJECT, "addCallLogSubject", True),
    (Section.CONTACT_NUMBER, "addCallLogContactNumber", False),
    (Section.DATE_TIME, "addCallLogDateTime", True),
    (Section.DURATION, "addCallLogDuration", True),
    (Section.RESULT, "addCallLogResult", True),
    (Section.RECORDING_LINK, "addCallLogRecording", True),
    (Section.VOICEMAIL_LINK, "addCallLogRecording", True),
    (Section.AI_NOTE, "addCallLogAiNote", True),
    (Section.TRANSCRIPT, "addCallLogTranscript", True),
    (Section.ACE_TRANSCRIPT, "addCallLogRingSenseRecordingTranscript", True),
    (Section.ACE_SUMMARY, "addCallLogRingSenseRecordingSummary", True),
    (Section.CALL_SCORE, "addCallLogRingSenseRecordingAIScore", True),
    (Section.ACE_BULLETED_SUMMARY, "addCallLogRingSenseRecordingBulletedSummary", True),
    (Section.ACE_LINK, "addCallLogRingSenseRecordingLink", True),
    (Section.CALL_JOURNEY, "addCallLogLegs", True),
)

_EMPTY: Final[Mapping[str, Any]] = {}


def _mapping(value: Any) -> Mapping[str, Any]:
    """Missing party/contact objects read as empty instead of crashing (upstream would throw)."""
    return value if isinstance(value, Mapping) else _EMPTY


def _text(value: Any) -> str | None:
    """The value as written into the body, or ``None`` when it is empty (JavaScript-falsy)."""
    return js_str(value) if js_truthy(value) else None


def _user_field(user: Any, camel: str, snake: str) -> Any:
    """Read a user-row field from a wire dict (camelCase) or a model object (either spelling)."""
    if user is None:
        return None
    if isinstance(user, Mapping):
        return user.get(camel, user.get(snake))
    return getattr(user, camel, getattr(user, snake, None))


def _setting_value(settings: Mapping[str, Any], setting_id: str) -> Any:
    entry = settings.get(setting_id)
    # Most users store few settings: an absent entry skips the (costly) ABC instance check.
    return entry.get("value") if entry is not None and isinstance(entry, Mapping) else None


def _enabled(settings: Mapping[str, Any], setting_id: str, default: bool) -> bool:
    """A stored ``null``/absent value means the default; otherwise JavaScript truthiness."""
    value = _setting_value(settings, setting_id)
    return default if value is None else js_truthy(value)


class _Inputs(NamedTuple):
    """Everything the section values are computed from, normalised once.

    A named tuple rather than a frozen dataclass: it is built for every composed body, and a
    frozen dataclass's ``__init__`` costs one ``object.__setattr__`` call per field.
    """

    call_log: Mapping[str, Any]
    contact_info: Mapping[str, Any]
    note: Any
    subject: Any
    start_time: Any
    duration: Any
    result: Any
    ai_note: Any
    transcript: Any
    recording_link: Any
    voicemail_link: Any
    ace_transcript: Any
    ace_summary: Any
    ace_score: Any
    ace_bulleted_summary: Any
    ace_link: Any
    legs: Any
    offset: float | None
    date_pattern: str

    @property
    def inbound(self) -> bool:
        return self.call_log.get("direction") == "Inbound"

    @property
    def outbound(self) -> bool:
        return self.call_log.get("direction") == "Outbound"


# --------------------------------------------------------------------------- section values


def _rc_sides(inputs: _Inputs) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(RingCentral user's party, other party): the callee of inbound calls, else the caller."""
    to, caller = _mapping(inputs.call_log.get("to")), _mapping(inputs.call_log.get("from"))
    return (to, caller) if inputs.inbound else (caller, to)


def _rc_user_name(inputs: _Inputs) -> str | None:
    return _text(_rc_sides(inputs)[0].get("name"))


def _rc_number(inputs: _Inputs) -> str | None:
    """``"<number> <extension>"``; the extension comes from the *other* party (spec 5.4)."""
    own, other = _rc_sides(inputs)
    number = _text(own.get("phoneNumber"))
    if number is None:
        return None
    extension = other.get("extensionNumber")
    return f"{number} {'' if extension is None else js_str(extension)}"


def _date_time(inputs: _Inputs) -> str | None:
    start = inputs.start_time if js_truthy(inputs.start_time) else inputs.call_log.get("startTime")
    if not js_truthy(start):
        return None
    if isinstance(start, str | int | float) and not isinstance(start, bool):  # ISO text, epoch ms
        return _formatted_start(start, inputs.offset, inputs.date_pattern)
    return format_instant(parse_instant(start), inputs.offset, inputs.date_pattern)


@functools.lru_cache(maxsize=1024)
def _formatted_start(start: str | int | float, offset: float | None, pattern: str) -> str:
    # A call's create and its updates (note edits, recording link, disposition) all carry the
    # same start time: its rendering is the same each time.
    return format_instant(parse_instant(start), offset, pattern)


def _duration(inputs: _Inputs) -> str | None:
    return None if inputs.duration is UNSET else format_duration(inputs.duration)


def _party(party: Any) -> str:
    """``[name, ]phone[, ext N]`` for a call leg party; a name alone is not shown."""
    party = _mapping(party)
    phone, extension = _text(party.get("phoneNumber")), _text(party.get("extensionNumber"))
    if phone and extension:
        number = f"{phone}, ext {extension}"
    else:
        number = phone or (f"ext {extension}" if extension else "")
    name = _text(party.get("name"))
    return f"{name}, {number}" if name and number else number


def _leg_line(index: int, leg: Mapping[str, Any]) -> str:
    outbound = leg.get("direction") == "Outbound"
    if index == 0:
        if outbound:
            return f"Made call from {_party(leg.get('from'))}"
        return f"Received call at {_party(leg.get('to'))}"
    # Outbound transfers show the leg's caller, except PSTN-to-SIP legs, which show the callee.
    party = leg.get("from") if outbound and leg.get("legType") != "PstnToSip" else leg.get("to")
    duration = leg.get("duration", UNSET)
    plural = "s" if js_greater(duration, 1) else ""
    return f"Transferred to {_party(party)}, duration: {js_str(duration)} second{plural}"


def journey_text(legs: Sequence[Any]) -> str:
    """The call-journey text (spec 5.7), one line per leg in input order."""
    return "\n".join(_leg_line(index, _mapping(leg)) for index, leg in enumerate(legs))


def _call_journey(inputs: _Inputs) -> str | None:
    legs = inputs.legs if inputs.legs is not None else inputs.call_log.get("legs")
    if not isinstance(legs, list | tuple) or not legs:
        return None
    return journey_text(legs)


_VALUES: Final[Mapping[Section, Callable[[_Inputs], str | None]]] = {
    Section.NOTE: lambda i: _text(i.note),
    Section.SESSION_ID: lambda i: _text(i.call_log.get("sessionId")),
    Section.RC_USER_NAME: _rc_user_name,
    Section.RC_NUMBER: _rc_number,
    Section.SUBJECT: lambda i: _text(i.subject),
    Section.CONTACT_NUMBER: lambda i: _text(i.contact_info.get("phoneNumber")),
    Section.DATE_TIME: _date_time,
    Section.DURATION: _duration,
    Section.RESULT: lambda i: _text(i.result),
    Section.RECORDING_LINK: lambda i: _text(i.recording_link),
    Section.VOICEMAIL_LINK: lambda i: _text(i.voicemail_link),
    Section.AI_NOTE: lambda i: _text(i.ai_note),
    Section.TRANSCRIPT: lambda i: _text(i.transcript),
    Section.ACE_TRANSCRIPT: lambda i: _text(i.ace_transcript),
    Section.ACE_SUMMARY: lambda i: _text(i.ace_summary),
    Section.CALL_SCORE: lambda i: _text(i.ace_score),
    Section.ACE_BULLETED_SUMMARY: lambda i: _text(i.ace_bulleted_summary),
    Section.ACE_LINK: lambda i: _text(i.ace_link),
    Section.CALL_JOURNEY: _call_journey,
}


class _Step(NamedTuple):
    """One entry of a format's plan: the section's switch, its value, and how it is written."""

    setting_id: str
    default: bool
    value: Callable[[_Inputs], str | None]
    rule: Rule


def _steps(log_format: str, *, outbound: bool) -> tuple[_Step, ...]:
    rules = rules_for(log_format, outbound=outbound)
    return tuple(
        _Step(setting_id, default, _VALUES[section], rules[section])
        for section, setting_id, default in _PLAN
    )


# The plan of spec 4 joined with each format's rules once, instead of per section of every body.
_STEPS: Final[Mapping[tuple[str, bool], tuple[_Step, ...]]] = {
    (log_format, outbound): _steps(log_format, outbound=outbound)
    for log_format in COMPOSED_FORMATS
    for outbound in (False, True)
}


# --------------------------------------------------------------------------- entry point


def compose_call_log(
    *,
    log_format: str,
    existing_body: str | None = "",
    user_settings: Mapping[str, Any] | None = None,
    call_log: Mapping[str, Any] | None = None,
    contact_info: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | object | None = None,
    note: Any = None,
    subject: Any = None,
    start_time: Any = None,
    duration: Any | Unset = UNSET,
    result: Any = None,
    ai_note: Any = None,
    transcript: Any = None,
    recording_link: Any = None,
    voicemail_link: Any = None,
    ring_sense_transcript: Any = None,
    ring_sense_summary: Any = None,
    ring_sense_ai_score: Any = None,
    ring_sense_bulleted_summary: Any = None,
    ring_sense_link: Any = None,
    legs: Sequence[Any] | None = None,
) -> str:
    """Build (``existing_body=""``) or update in place the CRM body of one call log.

    Sections are applied in the fixed order of spec 4; each one is written only when its user
    setting is on and its input is non-empty, replacing its first occurrence in the body or being
    added (the note at the top, everything else at the end). ``user_settings`` defaults to the
    user's own ``userSettings``. See the module docstring for the full parameter list.
    """
    if log_format not in COMPOSED_FORMATS:
        return ""
    settings = _mapping(
        user_settings
        if user_settings is not None
        else _user_field(user, "userSettings", "user_settings")
    )
    inputs = _Inputs(
        call_log=_mapping(call_log),
        contact_info=_mapping(contact_info),
        note=note,
        subject=subject,
        start_time=start_time,
        duration=duration,
        result=result,
        ai_note=ai_note,
        transcript=transcript,
        recording_link=recording_link,
        voicemail_link=voicemail_link,
        ace_transcript=ring_sense_transcript,
        ace_summary=ring_sense_summary,
        ace_score=ring_sense_ai_score,
        ace_bulleted_summary=ring_sense_bulleted_summary,
        ace_link=ring_sense_link,
        legs=legs,
        offset=user_offset(_user_field(user, "timezoneOffset", "timezone_offset")),
        date_pattern=_date_pattern(settings),
    )
    body = existing_body or ""
    for setting_id, default, value_of, rule in _STEPS[log_format, inputs.outbound]:
        if not _enabled(settings, setting_id, default):
            continue
        value = value_of(inputs)
        if value is not None:
            body = rule.apply(body, value)
    return body


def _date_pattern(settings: Mapping[str, Any]) -> str:
    """The user's moment.js pattern (``logDateFormat``); empty means the default."""
    pattern = _setting_value(settings, "logDateFormat")
    return js_str(pattern) if js_truthy(pattern) else DEFAULT_DATE_FORMAT
