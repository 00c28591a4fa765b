"""What every MCP tool shares: the failure shape and the CRM session a tool runs with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from appconnect.connectors.registry import ConnectorNotFound
from appconnect.runtime import Runtime
from appconnect.services import mcp_sessions as sessions

Tool = Callable[[Runtime, dict[str, Any]], Awaitable[Any]]

NOT_CONNECTED = (
    "You are not connected to a CRM yet. Call getPublicConnectors to show the connector picker "
    "and connect a CRM, then try again."
)


def fail(error: str, details: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "error": error}
    if details is not None:
        result["errorDetails"] = details
    return result


@dataclass(frozen=True, slots=True)
class CrmSession:
    user_id: str
    platform: str


class ToolError(Exception):
    """A tool-level failure: reported as ``{"success": false, "error": <message>}``."""


async def crm_session(rt: Runtime, args: dict[str, Any], operation: str | None) -> CrmSession:
    """Decode the injected CRM token; check the platform's connector has ``operation``."""
    token = args.get("jwtToken")
    if not isinstance(token, str) or not token.strip():
        raise ToolError(NOT_CONNECTED)
    claims = await sessions.verified_claims(rt, token)
    if claims is None:
        raise ToolError("Invalid JWT token")
    user_id, platform = claims.get("id"), claims.get("platform")
    if user_id is None or not str(user_id).strip():
        raise ToolError("Invalid JWT token: userId not found")
    if not platform or not str(platform).strip():
        raise ToolError("Invalid JWT token: platform not found")
    try:
        view = rt.registry.get_connector(str(platform))
    except ConnectorNotFound as exc:
        raise ToolError(f"Platform connector not found for: {platform}") from exc
    if operation is not None and not view.has(operation):
        raise ToolError(f"{operation} is not implemented for platform: {platform}")
    return CrmSession(str(user_id), str(platform))
