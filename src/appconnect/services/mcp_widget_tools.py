"""The connector-picker widget's side of MCP (mcp.md §5.3, §6, §8.3, §8.12, §9).

``getPublicConnectors`` bootstraps the widget; the widget-only tools ``doAuth`` and
``checkAuthStatus`` run through ``POST /mcp/widget-tool-call`` with identity from the widget token.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from appconnect.runtime import Runtime
from appconnect.services import mcp_sessions as sessions
from appconnect.services.mcp_catalog import WIDGET_URI
from appconnect.services.mcp_common import Tool, fail
from appconnect.services.mcp_ringcentral import current_extension
from appconnect.services.ringcentral import RingCentralError

DEFAULT_SERVER_URL = "https://localhost:6066"
WIDGET_HTML = Path(__file__).resolve().parent.parent / "static" / "mcp_widget.html"
CONNECTOR_DIRECTORY = "https://appconnect.labs.ringcentral.com"


def server_url(rt: Runtime) -> str:
    return (rt.settings.app_server or DEFAULT_SERVER_URL).rstrip("/")


async def public_connectors(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    """Widget bootstrap data, or a message when the extension is already connected."""
    extension_id: str | None = None
    account_id: str | None = None
    token = args.get("rcAccessToken")
    if token:
        try:
            info = await current_extension(rt, str(token))
            extension_id = None if info.get("id") is None else str(info["id"])
            account = (info.get("account") or {}).get("id")
            account_id = None if account is None else str(account)
        except RingCentralError:
            extension_id = account_id = None
    if extension_id:
        user = await sessions.extension_user(rt, extension_id)
        if user is not None:
            return {
                "structuredContent": {
                    "error": True,
                    "errorMessage": f"You are already connected to {user.platform} through the "
                    "App Connect browser extension; your AI assistant can use that connection.",
                }
            }
    session_id = args.get("openaiSessionId") or None
    return {
        "structuredContent": {
            "serverUrl": server_url(rt),
            "rcExtensionId": extension_id,
            "rcAccountId": account_id,
            "openaiSessionId": session_id,
            "widgetSessionToken": (
                sessions.issue_widget_token(rt, extension_id, session_id) if extension_id else None
            ),
        }
    }


async def do_auth(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    session_id, connector = args.get("sessionId"), args.get("connectorName")
    extension_id = args.get("rcExtensionId")
    if not session_id or not connector or not extension_id:
        return fail("Missing required fields: sessionId, connectorName, rcExtensionId")
    await sessions.create_auth_session(
        rt,
        str(session_id),
        {
            "platform": connector,
            "hostname": args.get("hostname") or "",
            "rcExtensionId": extension_id,
            "openaiSessionId": args.get("openaiSessionId"),
        },
    )
    return {"success": True}


async def check_auth_status(rt: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    extension_id = args.get("rcExtensionId")
    if not extension_id:
        return fail("CRM auth status check error: rcExtensionId is required")
    try:
        found = await sessions.get_auth_session(rt, str(args.get("sessionId") or ""))
        if found is None:
            return fail("Auth session not found or expired. Please start the connection again.")
        if found.get("rcExtensionId") != extension_id:
            return fail("This auth session belongs to another RingCentral extension.")
        status = found.get("status")
        if status == "completed":
            token = found.get("jwtToken")
            if not token:
                return fail("The CRM connection completed without a CRM token. Please retry.")
            await sessions.put_llm_session(rt, str(extension_id), token)
            user_info = found.get("userInfo") or {}
            return {
                "data": {
                    "status": "completed",
                    "userInfo": {"id": user_info.get("id"), "name": user_info.get("name")},
                    "message": "CRM connected. The assistant can now use CRM tools.",
                }
            }
        if status == "expired":
            return {
                "data": {
                    "status": "expired",
                    "errorMessage": "The connection attempt expired. Please try again.",
                }
            }
        if status == "failed":
            message = found.get("errorMessage") or "Unknown error"
            return {"data": {"status": "failed", "errorMessage": message}}
        return {"data": {"status": "pending"}}
    except Exception as exc:
        return fail(f"CRM auth status check error: {exc}")


WIDGET_TOOL_FUNCTIONS: dict[str, Tool] = {"doAuth": do_auth, "checkAuthStatus": check_auth_status}


def new_session_id() -> str:
    return str(uuid.uuid4())


def widget_resource(rt: Runtime) -> dict[str, Any]:
    """``resources/list``'s one entry."""
    return {
        "uri": WIDGET_URI,
        "name": "connector-list-widget",
        "title": "ConnectorList",
        "description": "Pick and connect the CRM App Connect logs calls into.",
        "mimeType": "text/html+skybridge",
    }


def _widget_html() -> str:
    return WIDGET_HTML.read_text(encoding="utf-8")


async def widget_contents(rt: Runtime) -> dict[str, Any]:
    """``resources/read``'s answer for the widget."""
    import asyncio

    base = rt.settings.app_server or "http://localhost:6066"
    html = await asyncio.to_thread(_widget_html)
    return {
        "contents": [
            {
                "uri": WIDGET_URI,
                "mimeType": "text/html+skybridge",
                "text": html,
                "_meta": {
                    "openai/widgetPrefersBorder": True,
                    "openai/widgetDomain": base,
                    "openai/widgetCSP": {
                        "connect_domains": [base, CONNECTOR_DIRECTORY],
                        "resource_domains": [base],
                    },
                },
            }
        ]
    }
