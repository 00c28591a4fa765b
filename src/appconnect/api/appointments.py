"""Appointment routes (http-contact-logging.md §6).

``GET/POST /appointments``, ``PATCH /appointments/{appointmentId}``,
``POST /appointments/{appointmentId}/confirm|cancel|status`` and
``GET /appointments/{appointmentId}/refresh``. Requests are validated before any database or CRM
work (``400 {"error", "details"}``); a connector reply that breaks the response contract answers
``400 {"error": <message>}``; a revoked CRM session answers 401 ``CRM_SESSION_REVOKED``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import documented, replies
from appconnect.api.session import Session, runtime, with_session
from appconnect.services import appointment_rules as rules
from appconnect.services import appointments

router = routing.router(tags=["appointments"])


# -- documentation models (the wire shapes of §6) --------------------------------------------


class ContactRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | int = Field(description="positive integer id, as a number or a digit string")
    type: str | None = None
    contactType: str | None = None


class AppointmentPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    summary: str
    startTimeUtc: str = Field(description="ISO 8601 date-time with Z or an offset")
    durationMinutes: int = Field(gt=0)
    contacts: list[ContactRef | str | int] | None = None


class CreateAppointmentBody(BaseModel):
    """Canonical form; the payload object at top level is accepted too (deprecated)."""

    model_config = ConfigDict(extra="forbid")

    payload: AppointmentPayload


class AppointmentPatch(BaseModel):
    """Non-empty subset of title/summary/contacts, or a new time (startTimeUtc + duration)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    summary: str | None = None
    contacts: list[ContactRef | str | int] | None = None
    startTimeUtc: str | None = None
    startTime: str | None = Field(None, description="deprecated spelling of startTimeUtc")
    durationMinutes: int | None = Field(None, gt=0)


class PatchAppointmentBody(BaseModel):
    """Canonical form; the patch object at top level is accepted too (deprecated)."""

    model_config = ConfigDict(extra="forbid")

    patch: AppointmentPatch


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(min_length=1)


class Appointment(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | int
    title: str | None = None
    startTimeUtc: str | None = None
    durationMinutes: float | None = None
    status: str | None = None


class AppointmentList(BaseModel):
    successful: bool
    appointments: list[Appointment] | None = None
    returnMessage: dict[str, Any] | None = None


class AppointmentReply(BaseModel):
    successful: bool
    appointmentId: str | int | None = None
    appointment: Appointment | None = None
    returnMessage: dict[str, Any] | None = None


# -- helpers ---------------------------------------------------------------------------------


async def _reply(flow: Awaitable[dict[str, Any]]) -> Response:
    try:
        result = await flow
    except rules.ContractViolation as exc:
        return r.failed(exc)
    return r.business(result)


def _invalid(exc: rules.Invalid) -> Response:
    return r.json(exc.body(), 400)


async def _body(request: Request) -> Any:
    return await read_body(request)


# -- routes ----------------------------------------------------------------------------------


@router.get(
    "/appointments",
    openapi_extra=documented(query=("startDate", "endDate")),
    responses=replies(AppointmentList, revocable=True),
)
@with_session()
async def list_appointments(request: Request, s: Session) -> Response:
    """The caller's CRM appointments in ``startDate..endDate`` (or the connector's window)."""
    query = request.query_params
    try:
        date_range = rules.date_range(query.get("startDate"), query.get("endDate"))
    except rules.Invalid as exc:
        return _invalid(exc)
    rt = runtime(request)
    return await _reply(appointments.list_appointments(rt, s.user_id, s.platform or "", date_range))


@router.post(
    "/appointments",
    openapi_extra=documented(CreateAppointmentBody),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def create_appointment(request: Request, s: Session) -> Response:
    """Create a CRM appointment from ``{"payload": {...}}``."""
    try:
        payload = rules.create_payload(await _body(request))
    except BadBody as exc:
        return r.failed(exc)
    except rules.Invalid as exc:
        return _invalid(exc)
    rt = runtime(request)
    return await _reply(appointments.create_appointment(rt, s.user_id, s.platform or "", payload))


@router.patch(
    "/appointments/{appointmentId}",
    openapi_extra=documented(PatchAppointmentBody),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def update_appointment(request: Request, s: Session) -> Response:
    """Edit or reschedule a CRM appointment from ``{"patch": {...}}``."""
    try:
        patch = rules.patch_body(await _body(request))
    except BadBody as exc:
        return r.failed(exc)
    except rules.Invalid as exc:
        return _invalid(exc)
    appointment_id = request.path_params["appointmentId"]
    return await _reply(
        appointments.update_appointment(
            runtime(request), s.user_id, s.platform or "", appointment_id, patch
        )
    )


@router.post(
    "/appointments/{appointmentId}/status",
    openapi_extra=documented(StatusBody),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def update_appointment_status(request: Request, s: Session) -> Response:
    """Set an appointment's status (trimmed, lower-cased) through ``updateAppointment``."""
    try:
        status = rules.status_value(await _body(request))
    except BadBody as exc:
        return r.failed(exc)
    except rules.Invalid as exc:
        return _invalid(exc)
    appointment_id = request.path_params["appointmentId"]
    return await _reply(
        appointments.update_appointment(
            runtime(request), s.user_id, s.platform or "", appointment_id, {"status": status}
        )
    )


@router.get(
    "/appointments/{appointmentId}/refresh",
    openapi_extra=documented(),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def refresh_appointment(request: Request, s: Session) -> Response:
    """Re-read one appointment from the CRM."""
    appointment_id = request.path_params["appointmentId"]
    return await _reply(
        appointments.refresh_appointment(
            runtime(request), s.user_id, s.platform or "", appointment_id
        )
    )


async def _settle(request: Request, s: Session, operation: str) -> Response:
    appointment_id = request.path_params["appointmentId"]
    return await _reply(
        appointments.settle_appointment(
            runtime(request), s.user_id, s.platform or "", appointment_id, operation
        )
    )


@router.post(
    "/appointments/{appointmentId}/confirm",
    openapi_extra=documented(),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def confirm_appointment(request: Request, s: Session) -> Response:
    """Mark an appointment confirmed in the CRM."""
    return await _settle(request, s, "confirmAppointment")


@router.post(
    "/appointments/{appointmentId}/cancel",
    openapi_extra=documented(),
    responses=replies(AppointmentReply, revocable=True),
)
@with_session()
async def cancel_appointment(request: Request, s: Session) -> Response:
    """Cancel an appointment in the CRM."""
    return await _settle(request, s, "cancelAppointment")
