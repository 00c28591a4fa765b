"""The demo CRM's calendar: the six appointment interfaces over the ``demoAppointments`` table.

A mixin of :class:`~appconnect.connectors.demo.connector.DemoConnector`. Requests reach these
methods already validated by the framework (titles trimmed, times ISO 8601, durations positive);
each user only ever sees and changes their own appointments, so another user's id answers
"Appointment not found" exactly like an unknown one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from appconnect.connectors.demo.models import DemoAppointment
from appconnect.jsvalues import js_iso_string

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from appconnect.store.users import User

DEFAULT_WINDOW_DAYS = 90
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> datetime:
    """An ISO 8601 date-time (any fraction length, ``Z`` or an offset) as aware UTC."""
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


iso_ms = js_iso_string  # Date.toISOString (SQLite hands back naive UTC values)


def contact_refs(contacts: Any) -> list[dict[str, Any]]:
    """Contact references (ids, or ``{id, type}`` objects) as ``[{"id": str, "type"?}]``."""
    refs: list[dict[str, Any]] = []
    for ref in contacts or []:
        if isinstance(ref, dict):
            item = {"id": str(ref.get("id"))}
            kind = ref.get("type") or ref.get("contactType")
            if kind:
                item["type"] = kind
            refs.append(item)
        else:
            refs.append({"id": str(ref)})
    return refs


def to_wire(row: DemoAppointment) -> dict[str, Any]:
    """The appointment object of the spec (§6.1)."""
    contacts = row.contacts or []
    first = contacts[0] if contacts else {}
    return {
        "id": str(row.id),
        "thirdPartyAppointmentId": str(row.id),
        "title": row.title,
        "description": row.summary,
        "summary": row.summary,
        "participantName": "",
        "startTimeUtc": iso_ms(row.start_time),
        "durationMinutes": row.duration_minutes,
        "status": row.status,
        "contactId": first.get("id"),
        "contactType": first.get("type", "Contact") if first else None,
        "attendees": [
            {"id": c["id"], "type": c.get("type", "Contact"), "status": "INVITED"} for c in contacts
        ],
    }


def _message(text: str, kind: str = "success") -> dict[str, Any]:
    return {"message": text, "messageType": kind, "ttl": 5000}


NOT_FOUND: dict[str, Any] = {
    "successful": False,
    "returnMessage": _message("Appointment not found", "warning"),
}


class DemoAppointments:
    """listAppointments, createAppointment, updateAppointment, refreshAppointment,
    confirmAppointment and cancelAppointment for the demo CRM."""

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    @staticmethod
    async def _own_appointment(
        session: AsyncSession, user: User, appointment_id: Any
    ) -> DemoAppointment | None:
        try:
            row = await session.get(DemoAppointment, int(appointment_id))
        except (TypeError, ValueError):
            return None
        return row if row is not None and row.user_id == user.id else None

    async def list_appointments(
        self, user: User, range: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Appointments starting within ``range`` (inclusive dates; default today ±90 days)."""
        today = datetime.now(UTC).date()
        start = today - timedelta(days=DEFAULT_WINDOW_DAYS)
        end = today + timedelta(days=DEFAULT_WINDOW_DAYS)
        if range:
            start = date.fromisoformat(range["startDate"])
            end = date.fromisoformat(range["endDate"])
        low = datetime.combine(start, time.min, UTC)
        high = datetime.combine(end + timedelta(days=1), time.min, UTC)
        async with self._transaction() as session:
            rows = await session.scalars(
                select(DemoAppointment)
                .where(
                    DemoAppointment.user_id == user.id,
                    DemoAppointment.start_time >= low,
                    DemoAppointment.start_time < high,
                )
                .order_by(DemoAppointment.start_time, DemoAppointment.id)
            )
            return {"appointments": [to_wire(row) for row in rows]}

    async def create_appointment(self, user: User, payload: dict[str, Any]) -> dict[str, Any]:
        row = DemoAppointment(
            user_id=user.id,
            title=payload["title"],
            summary=payload.get("summary") or "",
            start_time=parse_time(payload["startTimeUtc"]),
            duration_minutes=int(payload["durationMinutes"]),
            status="scheduled",
            contacts=contact_refs(payload.get("contacts")),
        )
        async with self._transaction() as session:
            session.add(row)
        return {
            "appointmentId": str(row.id),
            "appointment": to_wire(row),
            "returnMessage": _message(f"Appointment {row.title} created"),
        }

    async def update_appointment(
        self, user: User, appointment_id: str, patch_body: dict[str, Any]
    ) -> dict[str, Any]:
        async with self._transaction() as session:
            row = await self._own_appointment(session, user, appointment_id)
            if row is None:
                return NOT_FOUND
            if "title" in patch_body:
                row.title = patch_body["title"]
            if "summary" in patch_body:
                row.summary = patch_body["summary"] or ""
            if "contacts" in patch_body:
                row.contacts = contact_refs(patch_body["contacts"])
            start = patch_body.get("startTimeUtc") or patch_body.get("startTime")
            if start:
                row.start_time = parse_time(start)
            if "durationMinutes" in patch_body:
                row.duration_minutes = int(patch_body["durationMinutes"])
            if "status" in patch_body:
                row.status = str(patch_body["status"])
            await session.flush()
            return {"appointment": to_wire(row), "returnMessage": _message("Appointment updated")}

    async def refresh_appointment(self, user: User, appointment_id: str) -> dict[str, Any]:
        async with self._transaction() as session:
            row = await self._own_appointment(session, user, appointment_id)
            return NOT_FOUND if row is None else {"appointment": to_wire(row)}

    async def confirm_appointment(self, user: User, appointment_id: str) -> dict[str, Any]:
        async with self._transaction() as session:
            row = await self._own_appointment(session, user, appointment_id)
            if row is None:
                return NOT_FOUND
            row.status = "confirmed"
            await session.flush()
            return {
                "appointment": to_wire(row),
                "returnMessage": _message("Appointment confirmed successfully."),
            }

    async def cancel_appointment(self, user: User, appointment_id: str) -> dict[str, Any]:
        """The demo CRM deletes a cancelled appointment."""
        async with self._transaction() as session:
            row = await self._own_appointment(session, user, appointment_id)
            if row is None:
                return NOT_FOUND
            await session.delete(row)
        return {"returnMessage": _message("Appointment cancelled successfully.")}


__all__ = ["DemoAppointments", "contact_refs", "parse_time"]
