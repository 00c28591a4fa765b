"""Shared-SMS conversation composer (spec ``log-composition.md`` section 10).

A shared (team) SMS conversation is logged as one CRM activity whose body is regenerated from the
whole conversation on every update, so there is no upsert here: summary, participants, owner,
counts and a timeline are rendered from scratch.

Signature::

    compose_shared_sms(
        *,
        log_format: str,                      # getLogFormatType(); unknown -> plain-text rules
        conversation: Mapping | None,         # the request's logInfo
        contact_name: str | None = "",        # contactInfo.name
        timezone_offset: Any = None,          # user.timezoneOffset, applied only when truthy
        now: datetime | None = None,          # stands in for a missing creationTime
    ) -> {"subject": str, "body": str}

Parity choices (spec 10.8 default): the "Ended" time is the greatest *number-typed*
``lastModifiedTime`` starting from 0, so ISO timestamps yield the Unix epoch, and the timeline is
sorted by ``Number(creationTime)``, so ISO timestamps keep their input order. Both reproduce the
reference, which only ever writes this body to the CRM.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any, Final, Literal

from appconnect.compose.formatting import html_escape
from appconnect.compose.moment import format_instant, moment_offset, parse_instant
from appconnect.jsvalues import UNSET, js_greater, js_number_str, js_str, js_to_number, js_truthy

_DATE: Final = "dddd, MMMM DD, YYYY"
_TIME: Final = "hh:mm A"
_ENTRY_TIME: Final = "YYYY-MM-DD hh:mm A"
_DAY_MS: Final = 86_400_000
_HOUR_MS: Final = 3_600_000
_EMPTY: Final[Mapping[str, Any]] = {}

EntryKind = Literal["message", "assigned", "note"]


@dataclass(frozen=True)
class _Entry:
    """One timeline line; ``who`` ``None`` is JavaScript ``undefined`` (no known sender)."""

    kind: EntryKind
    who: str | None
    time: str
    text: str


@dataclass(frozen=True)
class _Summary:
    """Everything the three layouts print, already formatted."""

    contact: str
    started: str
    ended: str
    duration: str
    participants: list[str]
    owner: tuple[bool, str] | None  # (is call queue, name)
    counts: str
    entries: list[_Entry]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def _name(holder: Any) -> str | None:
    name = _mapping(holder).get("name")
    return js_str(name) if js_truthy(name) else None


def _first_text(*values: Any) -> str:
    """JavaScript ``a || b || ""``."""
    for value in values:
        if js_truthy(value):
            return js_str(value)
    return ""


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


# --------------------------------------------------------------------------- time


class _Clock:
    """Parses and renders instants at the user's offset; ``now`` replaces missing timestamps."""

    def __init__(self, timezone_offset: Any, now: datetime | None) -> None:
        self.offset = moment_offset(timezone_offset)
        self.now = parse_instant(now or datetime.now(UTC))

    def instant(self, value: Any) -> float | None:
        """``moment(value)``: ``undefined`` is now, ``null`` and junk are invalid."""
        return self.now if value is UNSET else parse_instant(value)

    def render(self, instant: float | None, pattern: str) -> str:
        return format_instant(instant, self.offset, pattern)

    def date_and_time(self, instant: float | None) -> str:
        return f"{self.render(instant, _DATE)} at {self.render(instant, _TIME)}"


def _latest_modification(messages: Sequence[Any]) -> Any:
    """The reference's loose-comparison maximum, starting from the number 0 (spec 10.2)."""
    latest: Any = 0
    for message in messages:
        value = _mapping(message).get("lastModifiedTime", UNSET)
        if js_greater(value, latest):
            latest = value
    return latest


def _duration(created: float | None, updated: float | None) -> str:
    """``<D> d <H> h`` with truncation toward zero; ``H`` is total hours, not a remainder."""
    if created is None or updated is None:
        return "NaN d NaN h"
    elapsed = updated - created
    days, hours = math.trunc(elapsed / _DAY_MS), math.trunc(elapsed / _HOUR_MS)
    return f"{js_number_str(days)} d {js_number_str(hours)} h"


# --------------------------------------------------------------------------- facts


def _participants(entities: Sequence[Any]) -> list[str]:
    """Distinct author/from/initiator/assignee names in first-seen order."""
    names: list[str] = []
    for entity in entities:
        record = _mapping(entity)
        for key in ("author", "from", "initiator", "assignee"):
            name = _name(record.get(key))
            if name is not None and name not in names:
                names.append(name)
    return names


def _owner(conversation: Mapping[str, Any]) -> tuple[bool, str] | None:
    owner = conversation.get("owner")
    if not js_truthy(owner):
        return None
    record = _mapping(owner)
    name = _name(record) or ""
    is_queue = record.get("extensionType") == "Department" or "queue" in name.lower()
    return is_queue, name


def _counted(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _counts(entities: Sequence[Any]) -> str:
    kinds = [_mapping(entity).get("recordType") for entity in entities]
    messages, notes = kinds.count("AliveMessage"), kinds.count("AliveNote")
    parts = [_counted(n, unit) for n, unit in ((messages, "message"), (notes, "note")) if n > 0]
    return ", ".join(parts) if parts else "0 messages"


def _newest_first(left: Any, right: Any) -> int:
    """``Number(b.creationTime) - Number(a.creationTime)`` with NaN treated as "equal"."""
    difference = js_to_number(_mapping(right).get("creationTime", UNSET)) - js_to_number(
        _mapping(left).get("creationTime", UNSET)
    )
    if math.isnan(difference) or difference == 0:
        return 0
    return 1 if difference > 0 else -1


def _entry(record: Mapping[str, Any], contact: str, clock: _Clock) -> _Entry | None:
    """The timeline entry of one entity; hint records other than assignments are omitted."""
    kind = record.get("recordType")
    time = clock.render(clock.instant(record.get("creationTime", UNSET)), _ENTRY_TIME)
    if kind == "AliveMessage":
        if record.get("direction") == "Inbound":
            sender: str | None = contact
        else:
            sender = _name(record.get("author")) or _name(record.get("from"))
        return _Entry(
            "message", sender, time, _first_text(record.get("text"), record.get("subject"))
        )
    if kind == "ThreadAssignedHint":
        return _Entry("assigned", _name(record.get("assignee")) or "Unknown", time, "")
    if kind == "AliveNote":
        author = _name(record.get("author")) or _name(record.get("initiator")) or "Unknown"
        return _Entry("note", author, time, _first_text(record.get("text"), record.get("body")))
    return None


def _summarise(conversation: Mapping[str, Any], contact: str, clock: _Clock) -> _Summary:
    entities = _list(conversation.get("entities"))
    created = clock.instant(conversation.get("creationTime", UNSET))
    updated = parse_instant(_latest_modification(_list(conversation.get("messages"))))
    ordered = sorted(entities, key=cmp_to_key(_newest_first))
    entries = [
        entry
        for entity in ordered
        if (entry := _entry(_mapping(entity), contact, clock)) is not None
    ]
    return _Summary(
        contact=contact,
        started=clock.date_and_time(created),
        ended=clock.date_and_time(updated),
        duration=_duration(created, updated),
        participants=_participants(entities),
        owner=_owner(conversation),
        counts=_counts(entities),
        entries=entries,
    )


# --------------------------------------------------------------------------- layouts


def _text_entry(entry: _Entry, *, markdown: bool) -> str:
    who = "undefined" if entry.who is None else entry.who
    shown = f"**{who}**" if markdown else who
    if entry.kind == "message":
        return f"{shown} said on {entry.time}:\n{entry.text}\n"
    if entry.kind == "note":
        return f"{shown} left a note on {entry.time}:\n{entry.text}\n"
    if markdown:
        return f"*Conversation assigned to **{who}***\n"
    return f"Conversation assigned to {who}\n"


def _text_body(summary: _Summary, *, markdown: bool) -> str:
    """Plain-text and Markdown layouts (spec 10.5); they differ only in headings and emphasis."""
    h2, h3, rule = ("## ", "### ", "---") if markdown else ("", "", "------------")
    lines = [
        f"{h2}Conversation summary\n",
        f"Started: {summary.started}\n",
        f"Ended: {summary.ended}\n",
        f"Duration: {summary.duration} \n",
        "\n",
        f"{h3}Participants\n",
        f"* {summary.contact} (customer)\n",
        *(f"* {name}\n" for name in summary.participants),
        "\n",
    ]
    if summary.owner is not None:
        is_queue, name = summary.owner
        shown = f"**{name}**" if markdown else name
        lines.append(f"{'Receiving call queue' if is_queue else 'Owner'}: {shown}\n\n")
    lines += [f"{h3}Conversation ({summary.counts})\n", "BEGIN\n", f"{rule}\n"]
    lines += [_text_entry(entry, markdown=markdown) + "\n" for entry in summary.entries]
    lines += [f"{rule}\n", "END"]
    return "".join(lines)


def _html_entry(entry: _Entry) -> str:
    who = html_escape(entry.who)
    if entry.kind == "assigned":
        return f"<p><i>Conversation assigned to <b>{who}</b></i></p>"
    action = "said on" if entry.kind == "message" else "left a note on"
    return f"<p><b>{who}</b> {action} {entry.time}:<br>{html_escape(entry.text)}</p>"


def _html_body(summary: _Summary) -> str:
    parts = [
        f"<div><b>Conversation summary</b><br>Started: {summary.started}<br>"
        f"Ended: {summary.ended}<br>Duration: {summary.duration}<br></div><br>",
        f"<div><b>Participants</b><ul><li>{html_escape(summary.contact)} (customer)</li>",
        *(f"<li>{html_escape(name)}</li>" for name in summary.participants),
        "</ul></div>",
    ]
    if summary.owner is not None:
        is_queue, name = summary.owner
        label = "Receiving call queue" if is_queue else "Owner"
        parts.append(f"<div>{label}: <b>{html_escape(name)}</b></div><br>")
    parts.append(f"<div><b>Conversation ({summary.counts})</b></div><div>BEGIN</div><hr>")
    parts += [_html_entry(entry) for entry in summary.entries]
    parts.append("<hr><div>END</div>")
    return "".join(parts)


def compose_shared_sms(
    *,
    log_format: str,
    conversation: Mapping[str, Any] | None,
    contact_name: str | None = "",
    timezone_offset: Any = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Subject and body of a shared-SMS conversation log (spec 10).

    Markdown bolds the subject; HTML escapes names and texts but never the subject; any format
    other than HTML and Markdown uses the plain-text layout.
    """
    contact = "" if contact_name is None else js_str(contact_name)
    summary = _summarise(_mapping(conversation), contact, _Clock(timezone_offset, now))
    subject = f"SMS conversation with {contact}"
    if log_format == "text/markdown":
        return {"subject": f"**{subject}**", "body": _text_body(summary, markdown=True)}
    if log_format == "text/html":
        return {"subject": subject, "body": _html_body(summary)}
    return {"subject": subject, "body": _text_body(summary, markdown=False)}
