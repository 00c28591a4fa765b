"""The MCP branch of ``GET /oauth-callback`` (mcp.md §6.4).

The connector widget starts CRM OAuth with a ``state`` carrying ``sessionId``. When the normal
callback flow has run, the auth session learns how it ended: ``completed`` with the new CRM
session token, or ``failed`` with the reason. The browser then sees a short text telling the
user to return to the AI assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from appconnect.runtime import Runtime
from appconnect.services.mcp_sessions import update_auth_session

CONNECTED_TEXT = (
    "Your CRM account is connected. You can close this tab and return to your AI assistant."
)


def session_id_of(query: Mapping[str, Any]) -> str | None:
    """The widget's ``sessionId`` from the OAuth ``state`` (callback URI first, then query)."""
    callback_uri = query.get("callbackUri")
    state_text = ""
    if callback_uri and callback_uri != "undefined":
        state_text = (parse_qs(urlsplit(str(callback_uri)).query).get("state") or [""])[0]
    state_text = state_text or str(query.get("state") or "")
    session_id = dict(parse_qsl(unquote(state_text))).get("sessionId")
    return session_id or None


async def settle(rt: Runtime, session_id: str, status: int, reply: Any) -> tuple[int, Any]:
    """Record the callback's outcome on the auth session; the MCP flow's reply to the browser."""
    if status == 200 and isinstance(reply, dict) and reply.get("jwtToken"):
        claims = rt.sessions.verify(reply["jwtToken"]) or {}
        await update_auth_session(
            rt,
            session_id,
            {
                "status": "completed",
                "jwtToken": reply["jwtToken"],
                "userInfo": {"id": claims.get("id"), "name": reply.get("name")},
            },
        )
        return 200, CONNECTED_TEXT
    if isinstance(reply, dict):
        message = reply.get("error") or (reply.get("returnMessage") or {}).get("message")
    else:
        message = reply
    await update_auth_session(
        rt, session_id, {"status": "failed", "errorMessage": message or "CRM authorization failed"}
    )
    return status, reply
