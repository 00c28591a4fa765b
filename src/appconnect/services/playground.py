"""What the developer playground (``/playground``) asks of the server beyond the client's routes.

A connector may define ``playground_records(user)`` returning the CRM records that user owns as
plain dicts (the demo connector does); the playground shows them as "what the CRM got".
"""

from __future__ import annotations

from typing import Any

from appconnect.runtime import Runtime


async def platforms(rt: Runtime) -> list[dict[str, Any]]:
    """Every registered platform with its auth type and display name."""
    found = []
    for platform in rt.registry.registered_platforms():
        view = rt.registry.get_connector(platform)
        auth_type = await view.call("getAuthType") if view.has("getAuthType") else None
        try:
            entry = rt.registry.get_manifest(platform).platform(platform) or {}
        except LookupError:
            entry = {}
        found.append(
            {
                "platform": platform,
                "authType": auth_type,
                "displayName": entry.get("displayName") or platform,
                "records": callable(getattr(view.base, "playground_records", None)),
            }
        )
    return found


async def crm_records(rt: Runtime, user_id: str, platform: str) -> list[dict[str, Any]] | None:
    """The records the connector reports for this user; ``None`` when it cannot tell."""
    reader = getattr(rt.registry.get_connector(platform).base, "playground_records", None)
    if not callable(reader):
        return None
    user = await rt.users.get(user_id)
    if user is None:
        return None
    return list(await reader(user))
