"""What ``tools/list`` advertises (mcp.md §8.1): names, descriptions, schemas, annotations.

Definitions are built with the official MCP SDK's ``Tool`` model (package ``mcp-types``), so each
entry is a valid MCP tool definition; its JSON is exactly what goes on the wire.
"""

from __future__ import annotations

from functools import cache
from typing import Any

WIDGET_VERSION = 11
WIDGET_URI = f"ui://widget/ConnectorList-v{WIDGET_VERSION}.html"
NEEDS_CRM = "⚠️ Requires a connected CRM (call getPublicConnectors first if not connected) | "

AI_TOOLS = (
    "getHelp", "getPublicConnectors", "getSessionInfo", "logout", "findContactByPhone",
    "findContactByName", "createCallLog", "rcGetCallLogs", "createContact", "listAppointments",
    "createAppointment", "updateAppointment", "confirmAppointment", "cancelAppointment",
)  # fmt: skip
WIDGET_TOOLS = ("doAuth", "checkAuthStatus")
FILTERS = ("upcoming", "today", "past", "all", "custom")

_EMPTY: dict[str, Any] = {"type": "object", "properties": {}}
_STRING = {"type": "string"}
_CONTACTS = {
    "type": "array",
    "description": "Contact ids, or objects with an id (replaces the whole attendee list).",
    "items": {
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        ]
    },
}

STANDARD_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "data": {},
        "error": {"type": "string"},
        "errorDetails": {"type": "string"},
        "message": {"type": "string"},
    },
    "required": ["success"],
}
_OUTPUTS: dict[str, dict[str, Any]] = {
    "getHelp": {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "data": {
                "type": "object",
                "properties": {
                    "overview": {"type": "string"},
                    "steps": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "required": ["success", "data"],
    },
    "getPublicConnectors": {
        "type": "object",
        "properties": {
            "serverUrl": {"type": "string"},
            "rcExtensionId": {},
            "rcAccountId": {},
            "openaiSessionId": {},
            "error": {"type": "boolean"},
            "errorMessage": {"type": "string"},
        },
    },
    "getSessionInfo": {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "data": {
                "type": "object",
                "properties": {"openaiSessionId": {}, "dataToShow": {"type": "object"}},
            },
            "error": {"type": "string"},
            "errorDetails": {"type": "string"},
        },
        "required": ["success"],
    },
    "rcGetCallLogs": {
        "type": "object",
        "properties": {
            "records": {"type": "array", "items": {"type": "object"}},
            "success": {"type": "boolean"},
            "error": {"type": "string"},
        },
    },
}

# name -> (description, input schema, (readOnly, openWorld, destructive), needs CRM)
_TOOLS: dict[str, tuple[str, dict[str, Any], tuple[bool, bool, bool], bool]] = {
    "getHelp": (
        "How to use App Connect: connect a CRM, then find contacts and log calls.",
        _EMPTY, (True, False, False), False,
    ),
    "getPublicConnectors": (
        "Open the interactive CRM connector picker. Show the widget to the user; do not list "
        "connectors in text.",
        _EMPTY, (True, True, False), False,
    ),
    "getSessionInfo": (
        "Non-sensitive status of the current RingCentral identity and CRM connection.",
        _EMPTY, (True, False, False), False,
    ),
    "logout": (
        "Disconnect the CRM. Afterwards forget any CRM connection details.",
        _EMPTY, (False, True, True), True,
    ),
    "findContactByPhone": (
        "Find CRM contacts by phone number (convert it to E.164 first, e.g. +14155550100).",
        {
            "type": "object",
            "properties": {
                "phoneNumber": {"type": "string", "description": "E.164 phone number"},
                "overridingFormat": {"type": "string"},
                "isExtension": {"type": "boolean"},
            },
            "required": ["phoneNumber"],
        },
        (True, True, False), True,
    ),
    "findContactByName": (
        "Search CRM contacts by name.",
        {"type": "object", "properties": {"name": _STRING}, "required": ["name"]},
        (True, True, False), True,
    ),
    "createCallLog": (
        "Create a CRM call log from one RingCentral call record (from rcGetCallLogs, passed "
        "unchanged as incomingData.logInfo). Create the contact first if none matches.",
        {
            "type": "object",
            "properties": {
                "incomingData": {
                    "description": "{logInfo: <call record>, contactName, note?, aiNote?, "
                    "transcript?, additionalSubmission?}",
                },
                "contactId": _STRING,
                "contactType": _STRING,
                "note": _STRING,
            },
        },
        (False, True, False), True,
    ),
    "rcGetCallLogs": (
        "Fetch the user's RingCentral call log records between two ISO 8601 times.",
        {
            "type": "object",
            "properties": {
                "timeFrom": {"type": "string", "description": "ISO 8601 with a zone"},
                "timeTo": {"type": "string", "description": "ISO 8601 with a zone"},
            },
            "required": ["timeFrom", "timeTo"],
        },
        (True, True, False), True,
    ),
    "createContact": (
        "Create a CRM contact.",
        {
            "type": "object",
            "properties": {
                "phoneNumber": {"type": "string", "description": "E.164 phone number"},
                "newContactName": _STRING,
            },
            "required": ["phoneNumber"],
        },
        (False, True, False), True,
    ),
    "listAppointments": (
        "List CRM appointments (upcoming, today, past, all, or a custom date range).",
        {
            "type": "object",
            "properties": {
                "filter": {"type": "string", "enum": list(FILTERS)},
                "startDate": {"type": "string", "description": "YYYY-MM-DD (custom)"},
                "endDate": {"type": "string", "description": "YYYY-MM-DD (custom)"},
                "mineOnly": {"type": "boolean"},
            },
        },
        (True, True, False), True,
    ),
    "createAppointment": (
        "Create a CRM appointment.",
        {
            "type": "object",
            "properties": {
                "title": _STRING,
                "startTimeUtc": {"type": "string", "description": "ISO 8601 UTC date-time"},
                "durationMinutes": {"type": "number"},
                "summary": _STRING,
                "contacts": _CONTACTS,
            },
            "required": ["title", "startTimeUtc", "durationMinutes"],
        },
        (False, True, False), True,
    ),
    "updateAppointment": (
        "Edit or reschedule a CRM appointment; only the given fields change.",
        {
            "type": "object",
            "properties": {
                "appointmentId": _STRING,
                "title": _STRING,
                "summary": _STRING,
                "startTimeUtc": _STRING,
                "durationMinutes": {"type": "number"},
                "contacts": _CONTACTS,
            },
            "required": ["appointmentId"],
        },
        (False, True, False), True,
    ),
    "confirmAppointment": (
        "Mark a CRM appointment confirmed.",
        {"type": "object", "properties": {"appointmentId": _STRING}, "required": ["appointmentId"]},
        (False, True, False), True,
    ),
    "cancelAppointment": (
        "Cancel a CRM appointment (it may be deleted).",
        {"type": "object", "properties": {"appointmentId": _STRING}, "required": ["appointmentId"]},
        (False, True, True), True,
    ),
}  # fmt: skip


@cache
def tool_definitions() -> tuple[dict[str, Any], ...]:
    """The ``tools`` array of ``tools/list``, in the reference's order."""
    from mcp_types import Tool, ToolAnnotations  # imported on first use: it is slow to import

    tools = []
    for name in AI_TOOLS:
        description, input_schema, (read_only, open_world, destructive), needs_crm = _TOOLS[name]
        tool = Tool(
            name=name,
            description=(NEEDS_CRM + description) if needs_crm else description,
            input_schema=input_schema,
            output_schema=_OUTPUTS.get(name, STANDARD_OUTPUT),
            annotations=ToolAnnotations(
                read_only_hint=read_only, open_world_hint=open_world, destructive_hint=destructive
            ),
            meta=(
                {
                    "openai/toolBehavior": "interactive",
                    "openai/widgetAccessible": True,
                    "openai/outputTemplate": WIDGET_URI,
                }
                if name == "getPublicConnectors"
                else None
            ),
        )
        tools.append(tool.model_dump(by_alias=True, exclude_none=True, mode="json"))
    return tuple(tools)
