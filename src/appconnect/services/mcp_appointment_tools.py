"""The MCP appointment tools (mcp.md §8.11), over the same flows as ``/appointments``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from appconnect.runtime import Runtime
from appconnect.services import appointments
from appconnect.services.appointment_rules import ContractViolation
from appconnect.services.mcp_common import Tool, ToolError, crm_session, fail

WINDOW_DAYS = 90


def date_window(
    filter_name: Any, start: Any, end: Any, today: date | None = None
) -> dict[str, str]:
    """The ``range`` for a ``listAppointments`` filter (UTC dates, inclusive)."""
    today = today or datetime.now(UTC).date()
    back, ahead = today - timedelta(days=WINDOW_DAYS), today + timedelta(days=WINDOW_DAYS)
    if filter_name == "upcoming":
        low, high = today, ahead
    elif filter_name == "today":
        low, high = today, today
    elif filter_name == "past":
        low, high = back, today - timedelta(days=1)
    elif filter_name == "custom":
        return {
            "startDate": start if isinstance(start, str) and start else back.isoformat(),
            "endDate": end if isinstance(end, str) and end else ahead.isoformat(),
        }
    else:
        low, high = back, ahead
    return {"startDate": low.isoformat(), "endDate": high.isoformat()}


def _failure(result: dict[str, Any], default: str) -> dict[str, Any]:
    return fail(((result.get("returnMessage") or {}).get("message")) or default)


def _message(result: dict[str, Any], default: str) -> str:
    return ((result.get("returnMessage") or {}).get("message")) or default


def _appointment_id(args: dict[str, Any]) -> str:
    value = args.get("appointmentId")
    if value is None or not str(value).strip():
        raise ToolError("appointmentId is required")
    return str(value)


def _contacts(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ToolError("contacts must be an array")
    return [c if isinstance(c, dict) else str(c) for c in value]


async def list_appointments(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "listAppointments")
    filter_name = args.get("filter") or "all"
    window = date_window(filter_name, args.get("startDate"), args.get("endDate"))
    try:
        result = await appointments.list_appointments(rt, crm.user_id, crm.platform, window)
    except ContractViolation as exc:
        return fail(str(exc))
    if not result.get("successful"):
        return _failure(result, "Failed to list appointments")
    items = result.get("appointments") or []
    return {
        "success": True,
        "data": {
            "filter": filter_name,
            "range": window,
            "totalCount": len(items),
            "appointments": items,
        },
    }


async def create_appointment(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "createAppointment")
    title = args.get("title")
    if not isinstance(title, str) or not title.strip():
        return fail("title is required")
    if not isinstance(args.get("startTimeUtc"), str):
        return fail("startTimeUtc is required")
    duration = args.get("durationMinutes")
    try:
        minutes = float(duration)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return fail("durationMinutes must be a number")
    payload = {
        "title": title.strip(),
        "summary": args.get("summary") if isinstance(args.get("summary"), str) else "",
        "startTimeUtc": args["startTimeUtc"],
        "durationMinutes": int(minutes) if minutes.is_integer() else minutes,
        "contacts": _contacts(args.get("contacts")),
    }
    result = await appointments.create_appointment(rt, crm.user_id, crm.platform, payload)
    if not result.get("successful"):
        return _failure(result, "Failed to create appointment")
    return {
        "success": True,
        "data": {
            "appointmentId": result.get("appointmentId"),
            "appointment": result.get("appointment"),
            "message": _message(result, "Appointment created successfully"),
        },
    }


async def update_appointment(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "updateAppointment")
    appointment_id = _appointment_id(args)
    patch = {k: args[k] for k in ("title", "summary", "startTimeUtc", "durationMinutes")
             if args.get(k) is not None}  # fmt: skip
    if "contacts" in args and args["contacts"] is not None:
        patch["contacts"] = _contacts(args["contacts"])
    result = await appointments.update_appointment(
        rt, crm.user_id, crm.platform, appointment_id, patch
    )
    if not result.get("successful"):
        return _failure(result, "Failed to update appointment")
    return {
        "success": True,
        "data": {
            "appointment": result.get("appointment"),
            "message": _message(result, "Appointment updated successfully"),
        },
    }


async def _settle(rt: Runtime, args: dict[str, Any], operation: str, done: str) -> dict[str, Any]:
    crm = await crm_session(rt, args, operation)
    appointment_id = _appointment_id(args)
    result = await appointments.settle_appointment(
        rt, crm.user_id, crm.platform, appointment_id, operation
    )
    if not result.get("successful"):
        return _failure(result, f"Failed to {done} appointment")
    return {
        "success": True,
        "data": {
            "appointment": result.get("appointment"),
            "message": _message(result, f"Appointment {done}ed successfully"),
        },
    }


async def confirm_appointment(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    return await _settle(rt, args, "confirmAppointment", "confirm")


async def cancel_appointment(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    return await _settle(rt, args, "cancelAppointment", "cancel")


APPOINTMENT_TOOLS: dict[str, Tool] = {
    "listAppointments": list_appointments,
    "createAppointment": create_appointment,
    "updateAppointment": update_appointment,
    "confirmAppointment": confirm_appointment,
    "cancelAppointment": cancel_appointment,
}
