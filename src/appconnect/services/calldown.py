"""Call-down lists: call-backs a user schedules for later (http-contact-logging.md §5).

Rows live in ``callDownLists`` and belong to one App Connect user. Every operation is scoped to
the caller: the session's user id *and* platform must name a stored user, and only that user's
rows are read, changed or deleted, so another user's item ids behave exactly like unknown ids.
No connector is involved.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update

from appconnect.jsvalues import js_iso_string
from appconnect.runtime import Runtime
from appconnect.store.models import CallDownListRow, utcnow

PATCHABLE = (
    "contactId",
    "contactType",
    "contactName",
    "phoneNumber",
    "status",
    "scheduledAt",
    "lastCallAt",
    "note",
)


class CallDownError(ValueError):
    """A request the call-down handlers refuse; the route answers ``400 {"error": <message>}``."""


def new_id() -> str:
    """32 lowercase hex characters (16 random bytes), as the reference makes them."""
    return secrets.token_hex(16)


def parse_date(value: Any, field: str) -> datetime | None:
    """An ISO 8601 date-time (or epoch milliseconds) as an aware UTC datetime; falsy -> None."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise CallDownError(f"Invalid {field}") from exc
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise CallDownError(f"Invalid {field}") from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise CallDownError(f"Invalid {field}")


def iso_ms(value: datetime | None) -> str | None:
    """``2026-07-02T13:00:00.000Z`` (JavaScript's ``Date.toISOString``), or ``None``."""
    return None if value is None else js_iso_string(value)


def _text(value: Any) -> str | None:
    """``String(value)`` for a present value (JavaScript renders booleans in lower case)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_wire(row: CallDownListRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "contactId": row.contact_id,
        "contactType": row.contact_type,
        "status": row.status,
        "scheduledAt": iso_ms(row.scheduled_at),
        "lastCallAt": iso_ms(row.last_call_at),
        "createdAt": iso_ms(row.created_at),
        "updatedAt": iso_ms(row.updated_at),
    }


async def _owner(rt: Runtime, user_id: str, platform: str | None) -> str | None:
    """The caller's user id when the session names a stored user of that platform."""
    user = await rt.users.get(user_id, platform or "")
    return None if user is None else user.id


async def schedule(rt: Runtime, user_id: str, platform: str | None, body: Mapping[str, Any]) -> str:
    """``POST /calldown``: store one item and return its id."""
    owner = await _owner(rt, user_id, platform)
    if owner is None:
        raise CallDownError("User not found")
    contact_type = body.get("contactType")
    row = CallDownListRow(
        id=new_id(),
        user_id=owner,
        contact_id=_text(body.get("contactId")),
        contact_type="contact" if contact_type is None else _text(contact_type),
        status="scheduled",
        scheduled_at=parse_date(body.get("scheduledAt"), "scheduledAt"),
        last_call_at=None,
    )
    async with rt.db.transaction() as session:
        session.add(row)
    return row.id


def status_condition(status: str | None) -> Any:
    """The ``status`` filter of ``GET /calldown`` (``None``: every row)."""
    wanted = (status or "").strip().lower()
    if wanted == "called":
        return CallDownListRow.status == "called"
    if wanted in ("not called", "not_called", "notcalled"):
        return CallDownListRow.status != "called"  # SQL: NULL status rows drop out too
    return None


async def list_items(
    rt: Runtime, user_id: str, platform: str | None, status: str | None
) -> list[dict[str, Any]]:
    """``GET /calldown``: the caller's items, soonest first (unscheduled ones last)."""
    owner = await _owner(rt, user_id, platform)
    if owner is None:
        return []
    query = select(CallDownListRow).where(CallDownListRow.user_id == owner)
    condition = status_condition(status)
    if condition is not None:
        query = query.where(condition)
    query = query.order_by(CallDownListRow.scheduled_at.asc().nulls_last(), CallDownListRow.id)
    async with rt.db.session() as session:
        rows = (await session.scalars(query)).all()
    return [to_wire(row) for row in rows]


def patch_values(body: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for ``PATCH /calldown/{id}``; raises when no allowed key is present."""
    present = [key for key in PATCHABLE if key in body]
    if not present:
        raise CallDownError("No valid fields to update")
    values: dict[str, Any] = {}
    if "contactId" in body:
        values["contact_id"] = _text(body["contactId"])
    if "contactType" in body:
        values["contact_type"] = _text(body["contactType"])
    if "status" in body:
        values["status"] = _text(body["status"])
    if "scheduledAt" in body:
        values["scheduled_at"] = parse_date(body["scheduledAt"], "scheduledAt")
    if "lastCallAt" in body:
        values["last_call_at"] = parse_date(body["lastCallAt"], "lastCallAt")
    # contactName, phoneNumber and note are accepted but have no column.
    values["updated_at"] = utcnow()
    return values


async def update_item(
    rt: Runtime, user_id: str, platform: str | None, item_id: str, body: Mapping[str, Any]
) -> None:
    """``PATCH /calldown/{id}`` on one of the caller's items."""
    values = patch_values(body)
    owner = await _owner(rt, user_id, platform)
    if owner is None:
        raise CallDownError("Not found")
    async with rt.db.transaction() as session:
        result = await session.execute(
            update(CallDownListRow)
            .where(CallDownListRow.id == item_id, CallDownListRow.user_id == owner)
            .values(**values)
        )
    if not getattr(result, "rowcount", 0):
        raise CallDownError("Not found")


async def delete_item(rt: Runtime, user_id: str, platform: str | None, item_id: str) -> None:
    """``DELETE /calldown/{id}`` of one of the caller's items."""
    owner = await _owner(rt, user_id, platform)
    if owner is None:
        raise CallDownError("Not found")
    async with rt.db.transaction() as session:
        result = await session.execute(
            delete(CallDownListRow).where(
                CallDownListRow.id == item_id, CallDownListRow.user_id == owner
            )
        )
    if not getattr(result, "rowcount", 0):
        raise CallDownError("Not found")
