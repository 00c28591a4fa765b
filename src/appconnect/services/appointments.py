"""Appointment flows (http-contact-logging.md §6): list, create, update, status, refresh, confirm,
cancel.

Each flow loads the caller's user (id and platform from the session), authenticates with the CRM
(token refresh included), calls one connector interface and shapes its answer into the route's
reply. Nothing about appointments is stored locally. A reply that breaks the response contract
raises :class:`~appconnect.services.appointment_rules.ContractViolation`; connector exceptions and
missing interfaces become the reference's business failures.
"""

from __future__ import annotations

from typing import Any

from appconnect.connectors.results import to_wire
from appconnect.runtime import Runtime
from appconnect.services import appointment_rules as rules
from appconnect.services.credentials import authenticate
from appconnect.services.errors import (
    DB_FAILURE_MESSAGE,
    SESSION_REVOKED,
    api_error_result,
    failure,
)

USER_NOT_FOUND = "User not found"


async def _call(
    rt: Runtime, user_id: str | None, platform: str, operation: str, **kwargs: Any
) -> dict[str, Any]:
    """The connector's result envelope (``successful`` filled in) or a failure result."""
    try:
        user = await rt.users.get(user_id, platform)
    except Exception:
        return failure(DB_FAILURE_MESSAGE)
    if user is None or not user.access_token:
        return failure(USER_NOT_FOUND)
    try:
        view = rt.registry.get_connector(platform)
        ctx = await authenticate(rt, view, user)
        if ctx is None:
            return dict(SESSION_REVOKED)
        raw = to_wire(
            await view.call(
                operation,
                user=ctx.user,
                auth_header=ctx.auth_header,
                proxy_config=ctx.proxy_config,
                **kwargs,
            )
        )
        if not isinstance(raw, dict):
            raise TypeError(f"{operation} must return an object")
        if "successful" not in raw:
            return {"successful": True, **raw}
        if not isinstance(raw["successful"], bool):
            raise TypeError(f"{operation} returned a non-boolean 'successful'")
        return raw
    except Exception as exc:
        return api_error_result(exc, platform, operation)


def _failed(result: dict[str, Any]) -> dict[str, Any] | None:
    """The failure reply for an unsuccessful result (revocation kept for the route's 401)."""
    if result.get("successful"):
        return None
    if result.get("isRevokeUserSession"):
        return result
    rules.check_return_message(result.get("returnMessage"))
    return {"successful": False, "returnMessage": result["returnMessage"]}


def _with_message(reply: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    if result.get("returnMessage"):
        rules.check_return_message(result["returnMessage"])
        reply["returnMessage"] = result["returnMessage"]
    return reply


async def list_appointments(
    rt: Runtime, user_id: str | None, platform: str, date_range: dict[str, str] | None
) -> dict[str, Any]:
    """``GET /appointments``: ``{"successful": true, "appointments": [...]}``."""
    kwargs: dict[str, Any] = {} if date_range is None else {"range": date_range}
    result = await _call(rt, user_id, platform, "listAppointments", **kwargs)
    failed = _failed(result)
    if failed is not None:
        return failed
    appointments = result.get("appointments")
    if not isinstance(appointments, list):
        raise rules.ContractViolation("appointments must be an array")
    for index, item in enumerate(appointments):
        rules.check_appointment(item, f"appointments[{index}]")
    return {"successful": True, "appointments": appointments}


async def create_appointment(
    rt: Runtime, user_id: str | None, platform: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """``POST /appointments``: ``{"successful", "appointmentId", "appointment"?, ...}``."""
    result = await _call(rt, user_id, platform, "createAppointment", payload=payload)
    failed = _failed(result)
    if failed is not None:
        return failed
    rules.check_id(result.get("appointmentId"), "appointmentId")
    reply: dict[str, Any] = {"successful": True, "appointmentId": result["appointmentId"]}
    if result.get("appointment"):
        rules.check_appointment(result["appointment"])
        reply["appointment"] = result["appointment"]
    return _with_message(reply, result)


def _appointment_reply(result: dict[str, Any], appointment_id: str) -> dict[str, Any]:
    failed = _failed(result)
    if failed is not None:
        return failed
    rules.check_appointment(result.get("appointment"))
    reply = {"successful": True, "appointmentId": appointment_id}
    reply["appointment"] = result["appointment"]
    return _with_message(reply, result)


async def update_appointment(
    rt: Runtime, user_id: str | None, platform: str, appointment_id: str, patch: dict[str, Any]
) -> dict[str, Any]:
    """``PATCH /appointments/{id}`` and ``POST .../status`` (``patch = {"status": ...}``)."""
    result = await _call(
        rt,
        user_id,
        platform,
        "updateAppointment",
        appointment_id=appointment_id,
        patch_body=patch,
    )
    return _appointment_reply(result, appointment_id)


async def refresh_appointment(
    rt: Runtime, user_id: str | None, platform: str, appointment_id: str
) -> dict[str, Any]:
    """``GET /appointments/{id}/refresh``."""
    result = await _call(rt, user_id, platform, "refreshAppointment", appointment_id=appointment_id)
    return _appointment_reply(result, appointment_id)


async def settle_appointment(
    rt: Runtime, user_id: str | None, platform: str, appointment_id: str, operation: str
) -> dict[str, Any]:
    """``POST /appointments/{id}/confirm`` or ``/cancel`` (``operation`` names the interface)."""
    result = await _call(rt, user_id, platform, operation, appointment_id=appointment_id)
    failed = _failed(result)
    if failed is not None:
        return failed
    reply: dict[str, Any] = {"successful": True, "appointmentId": appointment_id}
    if result.get("appointment"):
        rules.check_appointment(result["appointment"])
        reply["appointment"] = result["appointment"]
        return reply
    if not result.get("returnMessage"):
        raise rules.ContractViolation(f"{operation} must return an appointment or a returnMessage")
    rules.check_return_message(result["returnMessage"])
    reply["returnMessage"] = result["returnMessage"]
    return reply
