"""The MCP tools (mcp.md §8): each runs the same core flows as the HTTP routes.

Every tool is ``async (rt, args) -> result``. ``args`` holds the model's arguments plus what the
server injected (``rcAccessToken``, ``openaiSessionId``, ``rcExtensionId``, ``jwtToken``).
Problems are reported as ``{"success": false, "error": ...}``, never raised.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from appconnect.runtime import Runtime
from appconnect.services import appointment_rules as rules
from appconnect.services import contacts
from appconnect.services import mcp_sessions as sessions
from appconnect.services.call_log_create import create_call_log as core_create_call_log
from appconnect.services.call_logs import Caller, InvalidLogRequest
from appconnect.services.mcp_appointment_tools import APPOINTMENT_TOOLS
from appconnect.services.mcp_common import NOT_CONNECTED, Tool, ToolError, crm_session, fail
from appconnect.services.mcp_ringcentral import call_log_records, extension_by_id
from appconnect.services.mcp_widget_tools import public_connectors
from appconnect.services.ringcentral import RingCentralError

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)


def _message(result: dict[str, Any], default: str) -> str:
    return ((result.get("returnMessage") or {}).get("message")) or default


# -- general tools ----------------------------------------------------------------------------


async def get_help(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": True,
        "data": {
            "overview": "App Connect connects RingCentral with your CRM so you can find contacts "
            "and log your calls into the CRM.",
            "steps": [
                "1. Ask to show the CRM connectors, and connect your CRM.",
                "2. Complete the authorization in the window that opens.",
                "3. Then find contacts, create contacts and log your calls.",
            ],
        },
    }


def _text_or_none(args: dict[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ToolError(f"{key} must be a string")
    return value.strip() or None


async def get_session_info(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    try:
        session_id = _text_or_none(args, "openaiSessionId")
        extension_id = _text_or_none(args, "rcExtensionId")
        token = _text_or_none(args, "jwtToken")
        rc_token = _text_or_none(args, "rcAccessToken")
        claims = await sessions.verified_claims(rt, token) if token else None
        user_id = claims.get("id") if claims else None
        user_id = str(user_id) if user_id is not None and str(user_id).strip() else None
        user = await rt.users.get(user_id) if user_id else None
        rc_name = None
        if extension_id and rc_token:
            info = await extension_by_id(rt, rc_token, extension_id)
            if not isinstance(info, dict):
                raise ToolError("RingCentral extension response is not an object")
            rc_name = info.get("name")
        platform = (claims or {}).get("platform") if user_id else None
        return {
            "success": True,
            "data": {
                "openaiSessionId": session_id,
                "dataToShow": {
                    "isCrmAuthenticated": bool(user and (user.access_token or "").strip()),
                    "ringcentral": {"extensionId": extension_id, "name": rc_name},
                    "crm": {
                        "userId": user_id,
                        "platform": platform or (user.platform if user else None),
                        "hostname": user.hostname if user else None,
                    },
                },
            },
        }
    except (ToolError, RingCentralError) as exc:
        return fail(str(exc), str(exc))


async def logout(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    claims = await sessions.verified_claims(rt, args.get("jwtToken"))
    if not claims or not claims.get("id") or not claims.get("platform"):
        return fail("Invalid JWT token")
    user_id, platform = str(claims["id"]), str(claims["platform"])
    await sessions.delete_llm_sessions(rt, user_id, str(args.get("rcExtensionId") or ""))
    if args.get("openaiSessionId"):
        await sessions.forget_extension_id(rt, str(args["openaiSessionId"]))
    user = await rt.users.get(user_id)
    if user is None:
        return fail("User not found", "User not found")
    try:
        view = rt.registry.get_connector(platform)
        await view.call("unAuthorize", user=user)
    except Exception:  # the reference logs the connector's failure and goes on
        pass
    return {
        "success": True,
        "data": {
            "message": "The user is logged out of the CRM. Forget any CRM connection details "
            "and do not reuse them; to reconnect, call getPublicConnectors."
        },
    }


# -- contacts -------------------------------------------------------------------------------


async def find_contact_by_phone(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "findContact")
    phone = args.get("phoneNumber")
    if phone is None or (isinstance(phone, str) and not phone.strip()):
        return fail("Phone number is required")
    if not isinstance(phone, str):
        return fail("Phone number must be a string")
    fmt, is_ext = args.get("overridingFormat"), args.get("isExtension")
    if fmt is not None and not isinstance(fmt, str):
        return fail("overridingFormat must be a string")
    if is_ext is not None and not isinstance(is_ext, bool):
        return fail("isExtension must be a boolean")
    lookup = contacts.PhoneLookup(
        platform=crm.platform, phone_number=phone, overriding_format=fmt or "",
        is_extension=is_ext if is_ext is not None else False,
    )  # fmt: skip
    result = await contacts.find_contact(rt, crm.user_id, lookup)
    if result.get("successful"):
        return {"success": True, "data": result.get("contact")}
    return fail(_message(result, "Contact not found"))


async def find_contact_by_name(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "findContactWithName")
    name = args.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        return fail("Name is required")
    if not isinstance(name, str):
        return fail("Name must be a string")
    result = await contacts.find_contact_with_name(rt, crm.user_id, crm.platform, name)
    if result.get("successful"):
        return {"success": True, "data": result.get("contact")}
    return fail(_message(result, "Contact not found"))


async def create_contact(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    crm = await crm_session(rt, args, "createContact")
    phone = args.get("phoneNumber")
    if not isinstance(phone, str) or not E164.match(phone):
        return fail("Phone number must be in E.164 format")
    name = args.get("newContactName")
    name = name.strip() if isinstance(name, str) and name.strip() else phone
    new = contacts.NewContact(phone_number=phone, name=name)
    result = await contacts.create_contact(rt, crm.user_id, crm.platform, new)
    if result.get("successful"):
        message = _message(result, "Contact created successfully")
        return {"success": True, "data": {"contact": result.get("contact"), "message": message}}
    return fail(_message(result, "Failed to create contact"))


# -- call logs ------------------------------------------------------------------------------


def _iso_time(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ISO.match(value):
        raise ToolError(f"{field} must be a valid ISO 8601 string")
    try:
        datetime(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError as exc:
        raise ToolError(f"{field} must be a valid ISO 8601 string") from exc
    return value


def _parse(value: str) -> datetime:
    head, _, rest = value.partition(".")
    if rest:  # fractions of any length: keep microseconds, keep the zone
        digits = re.match(r"\d+", rest)
        zone = rest[digits.end() :] if digits else rest
        value = f"{head}.{(digits.group(0) if digits else '0')[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def rc_get_call_logs(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    try:
        token = args.get("rcAccessToken")
        if not token:
            raise ToolError("RingCentral access token not found")
        claims = await sessions.verified_claims(rt, args.get("jwtToken"))
        if not args.get("jwtToken") or claims is None:
            raise ToolError("Invalid JWT token")
        user_id = claims.get("id")
        if not (isinstance(user_id, str) and user_id.strip()) and not isinstance(user_id, int):
            raise ToolError("Invalid JWT token: userId not found")
        now = datetime.now(UTC)
        time_from = args.get("timeFrom")
        time_to = args.get("timeTo")
        time_from = _iso_time(time_from, "timeFrom") if time_from is not None else (
            (now - timedelta(hours=24)).isoformat().replace("+00:00", "Z"))  # fmt: skip
        time_to = _iso_time(time_to, "timeTo") if time_to is not None else (
            now.isoformat().replace("+00:00", "Z"))  # fmt: skip
        if _parse(time_from) > _parse(time_to):
            raise ToolError("timeFrom must be before timeTo")
        return {"records": await call_log_records(rt, str(token), time_from, time_to)}
    except (ToolError, RingCentralError) as exc:
        return fail(str(exc))


async def create_call_log(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("jwtToken"):
        return fail(NOT_CONNECTED)
    incoming = args.get("incomingData")
    if not isinstance(incoming, dict):
        return fail("Incoming data must be provided")
    log_info = incoming.get("logInfo")
    if not isinstance(log_info, dict):
        return fail("Incoming data must include logInfo")
    crm = await crm_session(rt, args, "createCallLog")
    body = dict(incoming)
    contact_id = args.get("contactId")
    if contact_id in (None, ""):
        direction = log_info.get("direction")
        party = log_info.get("from" if direction == "Inbound" else "to") or {}
        number = party.get("phoneNumber") if isinstance(party, dict) else None
        lookup = contacts.PhoneLookup(platform=crm.platform, phone_number=str(number or ""))
        found = await contacts.find_contact(rt, crm.user_id, lookup) if number else {}
        matches = [
            c for c in (found.get("contact") or [])
            if isinstance(c, dict) and not c.get("isNewContact")
        ]  # fmt: skip
        if not matches:
            return {
                "success": False,
                "message": "No CRM contact matches this call. Create the contact first "
                "(createContact), then log the call again.",
                "error": f"Failed to get contact with number {number}",
            }
        contact_id = matches[0].get("id")
    body["contactId"] = contact_id
    try:
        result = await core_create_call_log(rt, Caller(crm.user_id, crm.platform), body)
    except InvalidLogRequest as exc:
        return fail(str(exc))
    if result.get("successful"):
        message = _message(result, "Call log created successfully")
        return {"success": True, "data": {"logId": result.get("logId"), "message": message}}
    message = _message(result, "Failed to create call log")
    if message.startswith("Existing log for session"):
        message = f"Call log already exists for session {log_info.get('sessionId')}"
    return fail(message)


async def get_public_connectors(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    return await public_connectors(rt, args)


AI_TOOL_FUNCTIONS: dict[str, Tool] = {
    "getHelp": get_help,
    "getPublicConnectors": get_public_connectors,
    "getSessionInfo": get_session_info,
    "logout": logout,
    "findContactByPhone": find_contact_by_phone,
    "findContactByName": find_contact_by_name,
    "createCallLog": create_call_log,
    "rcGetCallLogs": rc_get_call_logs,
    "createContact": create_contact,
    **APPOINTMENT_TOOLS,
}


async def run_tool(rt: Runtime, tools: dict[str, Tool], name: str, args: dict[str, Any]) -> Any:
    """Run one tool; a :class:`ToolError` becomes ``{"success": false, "error": ...}``."""
    try:
        return await tools[name](rt, args)
    except ToolError as exc:
        return fail(str(exc))
    except rules.ContractViolation as exc:
        return fail(str(exc))
