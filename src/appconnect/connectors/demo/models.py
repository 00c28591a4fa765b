"""The demo CRM's own tables, kept in the server's database.

They have a metadata of their own (:class:`DemoBase`), not the framework's ``Base``: the
framework's migrations never create them. The demo connector creates them at start-up, so they
exist only in databases where the demo connector is served. Names carry a ``demo`` prefix so
they never collide with a reference schema.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from appconnect.store.models import Timestamps


def iso(value: datetime) -> str:
    """ISO 8601 with a zone (SQLite hands back naive datetimes; we only ever store UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def phone_key(phone: str | None) -> str:
    """The lookup key of a phone number: its last ten digits.

    Two numbers match when their digits are equal or, for full numbers, their last ten digits
    are, so ``+1 (650) 555-0100`` matches ``6505550100``; short extensions match only exactly.
    """
    return "".join(ch for ch in phone or "" if ch.isdigit())[-10:]


class DemoBase(DeclarativeBase):
    """The demo CRM's tables (created by the demo connector, not by migrations)."""


class DemoContact(Timestamps, DemoBase):
    """A person in the demo CRM. ``ownerId`` is ``NULL`` for the shared sample contacts."""

    __tablename__ = "demoContacts"

    id: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=lambda: uuid.uuid4().hex[:12]
    )
    owner_id: Mapped[str | None] = mapped_column("ownerId", String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(64))
    phone_key: Mapped[str] = mapped_column("phoneKey", String(16), index=True)
    type: Mapped[str] = mapped_column(String(64), default="contact")
    company: Mapped[str | None] = mapped_column(String(255))


class DemoActivity(Timestamps, DemoBase):
    """A logged call or message conversation, owned by one demo user."""

    __tablename__ = "demoActivities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column("userId", String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "call" or "message"
    contact_id: Mapped[str | None] = mapped_column("contactId", String(255))
    session_id: Mapped[str | None] = mapped_column("sessionId", String(255))
    subject: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dispositions: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def to_dict(self) -> dict[str, Any]:
        """The raw record, as a real CRM's API would return it (``fullLogResponse``)."""
        return {
            "id": str(self.id),
            "kind": self.kind,
            "contactId": self.contact_id,
            "sessionId": self.session_id,
            "subject": self.subject,
            "note": self.note,
            "body": self.body,
            "fields": self.fields or {},
            "dispositions": self.dispositions or {},
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


class DemoAppointment(Timestamps, DemoBase):
    """A meeting in the demo CRM's calendar, owned by one demo user."""

    __tablename__ = "demoAppointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column("userId", String(255), index=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    start_time: Mapped[datetime] = mapped_column("startTime", DateTime(timezone=True), index=True)
    duration_minutes: Mapped[int] = mapped_column("durationMinutes", Integer)
    status: Mapped[str] = mapped_column(String(64), default="scheduled")
    contacts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
