"""Appointment request and response contracts (http-contact-logging.md §6.1-6.7).

Pure functions: each request check returns the cleaned value or raises :class:`Invalid` with the
reference's fixed error text and a ``details`` list of ``{"path": [...], "message": ...}``; each
reply check raises :class:`ContractViolation` when a connector's answer does not fit the route's
response contract (the route then answers ``400 {"error": <message>}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

CREATE_ERROR = "Invalid appointment create request"
PATCH_ERROR = "Invalid appointment patch request"
STATUS_ERROR = "Invalid appointment status request"
RANGE_ERROR = "Invalid appointment date range"

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_POSITIVE_ID = re.compile(r"^[1-9]\d*$")

PAYLOAD_KEYS = ("title", "summary", "startTimeUtc", "durationMinutes", "contacts")
PATCH_KEYS = ("title", "summary", "contacts", "startTimeUtc", "startTime", "durationMinutes")

Path = list[str | int]


class Invalid(ValueError):
    """A request the route refuses with ``400 {"error": error, "details": details}``."""

    def __init__(self, error: str, details: list[dict[str, Any]]) -> None:
        super().__init__(error)
        self.error = error
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "details": self.details}


class ContractViolation(ValueError):
    """A connector reply that breaks the route's response contract."""


def _real_date(y: str, m: str, d: str) -> bool:
    try:
        date(int(y), int(m), int(d))
    except ValueError:
        return False
    return True


def is_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = _DATE_TIME.match(value)
    return match is not None and _real_date(*match.group(1, 2, 3))


def is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = _DATE.match(value)
    return match is not None and _real_date(*match.group(1, 2, 3))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_positive_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer() and value > 0


class _Checker:
    """Collects problems as ``{"path", "message"}`` entries."""

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def fail(self, path: Path, message: str) -> None:
        self.details.append({"path": path, "message": message})

    def unknown_keys(self, value: Mapping[str, Any], allowed: tuple[str, ...], path: Path) -> None:
        extra = [key for key in value if key not in allowed]
        if extra:
            keys = ", ".join(f"'{key}'" for key in extra)
            self.fail(path, f"Unrecognized key(s) in object: {keys}")

    def title(self, value: Any, path: Path) -> str | None:
        if not isinstance(value, str):
            self.fail(path, "Expected string" if value is not None else "Required")
            return None
        trimmed = value.strip()
        if not trimmed:
            self.fail(path, "Title must not be empty")
            return None
        return trimmed

    def string(self, value: Any, path: Path) -> None:
        if not isinstance(value, str):
            self.fail(path, "Expected string" if value is not None else "Required")

    def date_time(self, value: Any, path: Path) -> None:
        if not is_date_time(value):
            self.fail(path, "Invalid datetime" if isinstance(value, str) else "Expected string")

    def duration(self, value: Any, path: Path) -> None:
        if not _is_positive_integer(value):
            self.fail(path, "Duration must be a positive integer number of minutes")

    def contacts(self, value: Any, path: Path) -> None:
        if not isinstance(value, list):
            self.fail(path, "Expected array")
            return
        for index, ref in enumerate(value):
            self.contact_ref(ref, [*path, index])

    def contact_ref(self, value: Any, path: Path) -> None:
        if isinstance(value, Mapping):
            self.unknown_keys(value, ("id", "type", "contactType"), path)
            if "id" not in value:
                self.fail([*path, "id"], "Required")
            elif not _is_contact_id(value["id"]):
                self.fail([*path, "id"], "Contact id must be a positive integer")
            for key in ("type", "contactType"):
                if key in value and not isinstance(value[key], str):
                    self.fail([*path, key], "Expected string")
        elif not _is_contact_id(value):
            self.fail(path, "Contact id must be a positive integer")

    def raise_if_failed(self, error: str) -> None:
        if self.details:
            raise Invalid(error, self.details)


def _is_contact_id(value: Any) -> bool:
    if isinstance(value, str):
        return _POSITIVE_ID.match(value) is not None
    return _is_positive_integer(value)


def _duration(value: Any) -> Any:
    return int(value) if isinstance(value, float) else value


def _unwrap(body: Any, key: str) -> tuple[Any, Path]:
    """The canonical ``{key: {...}}`` form, else the deprecated unwrapped object."""
    if isinstance(body, Mapping) and key in body and len(body) == 1:
        return body[key], [key]
    return body, []


def create_payload(body: Any) -> dict[str, Any]:
    """``POST /appointments``: the payload handed to ``createAppointment``."""
    payload, base = _unwrap(body, "payload")
    check = _Checker()
    if not isinstance(payload, Mapping):
        check.fail(base, "Expected object")
        check.raise_if_failed(CREATE_ERROR)
        raise AssertionError  # unreachable
    check.unknown_keys(payload, PAYLOAD_KEYS, base)
    title = check.title(payload.get("title"), [*base, "title"])
    check.string(payload.get("summary"), [*base, "summary"])
    check.date_time(payload.get("startTimeUtc"), [*base, "startTimeUtc"])
    check.duration(payload.get("durationMinutes"), [*base, "durationMinutes"])
    if "contacts" in payload:
        check.contacts(payload["contacts"], [*base, "contacts"])
    check.raise_if_failed(CREATE_ERROR)
    cleaned = {key: payload[key] for key in PAYLOAD_KEYS if key in payload}
    cleaned["title"] = title
    cleaned["durationMinutes"] = _duration(payload["durationMinutes"])
    return cleaned


def patch_body(body: Any) -> dict[str, Any]:
    """``PATCH /appointments/{id}``: one of the three patch shapes, as ``patchBody``."""
    patch, base = _unwrap(body, "patch")
    check = _Checker()
    if not isinstance(patch, Mapping):
        check.fail(base, "Expected object")
        check.raise_if_failed(PATCH_ERROR)
        raise AssertionError  # unreachable
    check.unknown_keys(patch, PATCH_KEYS, base)
    if "startTimeUtc" in patch and "startTime" in patch:
        check.fail(base, "Use either startTimeUtc or startTime, not both")
    start_key = "startTimeUtc" if "startTimeUtc" in patch else "startTime"
    if start_key in patch or "durationMinutes" in patch:  # a time patch needs both halves
        if start_key not in patch:
            check.fail([*base, "startTimeUtc"], "Required")
        else:
            check.date_time(patch[start_key], [*base, start_key])
        if "durationMinutes" not in patch:
            check.fail([*base, "durationMinutes"], "Required")
        else:
            check.duration(patch["durationMinutes"], [*base, "durationMinutes"])
    elif not any(key in patch for key in ("title", "summary", "contacts")):
        check.fail(base, "A patch needs at least one of title, summary, contacts or a new time")
    title = check.title(patch["title"], [*base, "title"]) if "title" in patch else None
    if "summary" in patch:
        check.string(patch["summary"], [*base, "summary"])
    if "contacts" in patch:
        check.contacts(patch["contacts"], [*base, "contacts"])
    check.raise_if_failed(PATCH_ERROR)
    cleaned = {key: patch[key] for key in PATCH_KEYS if key in patch}
    if title is not None:
        cleaned["title"] = title
    if "durationMinutes" in cleaned:
        cleaned["durationMinutes"] = _duration(cleaned["durationMinutes"])
    return cleaned


def status_value(body: Any) -> str:
    """``POST /appointments/{id}/status``: the trimmed, lower-cased status."""
    check = _Checker()
    if not isinstance(body, Mapping):
        check.fail([], "Expected object")
        check.raise_if_failed(STATUS_ERROR)
        raise AssertionError  # unreachable
    check.unknown_keys(body, ("status",), [])
    value = body.get("status")
    if not isinstance(value, str) or not value.strip():
        check.fail(["status"], "Status must be a non-empty string")
    check.raise_if_failed(STATUS_ERROR)
    return str(value).strip().lower()


def date_range(start: Any, end: Any) -> dict[str, str] | None:
    """``GET /appointments`` query: ``{"startDate", "endDate"}``, or ``None`` for neither."""
    start = start if isinstance(start, str) else None
    end = end if isinstance(end, str) else None
    if start is None and end is None:
        return None
    check = _Checker()
    for key, value in (("startDate", start), ("endDate", end)):
        if value is None:
            check.fail([key], "Required when the other date is given")
        elif not is_date(value):
            check.fail([key], "Expected a date as YYYY-MM-DD")
    if not check.details and str(start) > str(end):
        check.fail(["endDate"], "startDate must be on or before endDate.")
    check.raise_if_failed(RANGE_ERROR)
    return {"startDate": str(start), "endDate": str(end)}


# -- replies --------------------------------------------------------------------------------


def check_id(value: Any, what: str) -> None:
    if isinstance(value, str) and value.strip():
        return
    if _is_number(value):
        return
    raise ContractViolation(f"{what} must be a non-empty string or a number")


def check_appointment(value: Any, what: str = "appointment") -> None:
    """An appointment object of a reply (extra keys allowed)."""
    if not isinstance(value, Mapping):
        raise ContractViolation(f"{what} must be an object")
    check_id(value.get("id"), f"{what}.id")
    start = value.get("startTimeUtc")
    if start is not None and not is_date_time(start):
        raise ContractViolation(f"{what}.startTimeUtc must be an ISO 8601 date-time")
    duration = value.get("durationMinutes")
    if duration is not None and not (_is_number(duration) and duration >= 0):
        raise ContractViolation(f"{what}.durationMinutes must be a number >= 0")
    attendees = value.get("attendees")
    if attendees is not None:
        if not isinstance(attendees, list):
            raise ContractViolation(f"{what}.attendees must be an array")
        for index, attendee in enumerate(attendees):
            if not isinstance(attendee, Mapping):
                raise ContractViolation(f"{what}.attendees[{index}] must be an object")
            check_id(attendee.get("id"), f"{what}.attendees[{index}].id")
    ids = value.get("attendeeIds")
    if ids is not None:
        if not isinstance(ids, list):
            raise ContractViolation(f"{what}.attendeeIds must be an array")
        for index, item in enumerate(ids):
            check_id(item, f"{what}.attendeeIds[{index}]")


def check_return_message(value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ContractViolation("returnMessage must be an object")
