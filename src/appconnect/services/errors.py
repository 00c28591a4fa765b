"""How a failed connector call becomes the reference's business-failure reply.

Connectors raise for the unexpected (an HTTP error from the CRM, a bug); flows catch it here and
answer HTTP 200 with ``successful: false`` and a message the client knows how to show.
"""

from __future__ import annotations

import logging
from typing import Any

from appconnect.errors import ClientVisible
from appconnect.http import response_status

logger = logging.getLogger("appconnect.errors")

_OPERATIONS: dict[str, tuple[str, str]] = {
    "createCallLog": (
        "Error creating call log",
        "Please check if your account has permission to CREATE logs.",
    ),
    "updateCallLog": (
        "Error updating call log",
        "Please check if the log entity still exists on {platform} and your account has "
        "permission to EDIT logs.",
    ),
    "getCallLog": (
        "Error getting call log",
        "Please check if your account has permission to READ logs.",
    ),
    "createMessageLog": (
        "Error creating message log",
        "Please check if your account has permission to CREATE logs.",
    ),
    "updateMessageLog": (
        "Error updating message log",
        "Please check if the log entity still exists on {platform} and your account has "
        "permission to EDIT logs.",
    ),
    "findContact": (
        "Error finding contact",
        "Please check if your account has permission to GET contacts.",
    ),
    "createContact": (
        "Error creating contact",
        "Please check if your account has permission to CREATE contacts.",
    ),
    "findContactWithName": (
        "Error searching contacts",
        "Please check if your account has permission to GET contacts.",
    ),
    "createAppointment": (
        "Error creating appointment",
        "Please check if your account has permission to CREATE appointments. or All attendees "
        "have email address.",
    ),
    "updateAppointment": (
        "Error updating appointment",
        "Please check if the appointment entity still exists on {platform} and your account has "
        "permission to EDIT appointments. or All attendees have email address.",
    ),
    "getAppointment": (
        "Error getting appointment",
        "Please check if your account has permission to GET appointments.",
    ),
}
_GENERIC_HINT = "Please check if your account has the necessary permissions."
# Only these CRM answers mean "connect again"; the reference also says so for 400-409 (a 404
# for a deleted record, a 409 conflict), sending users to log out for nothing (departures.md).
REAUTHORIZE_STATUSES = frozenset({401, 403})


INTERNAL_ERROR = "Internal server error"
# Exceptions raised by these packages describe our infrastructure (database drivers, hosts,
# URLs with tokens, errno...): a client only ever reads INTERNAL_ERROR for them.
_INFRASTRUCTURE = frozenset(
    {"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "redis", "httpx2", "httpx", "aiohttp",
     "ssl", "socket", "alembic", "tenacity", "anyio"}
)  # fmt: skip


def client_message(exc: BaseException) -> str:
    """What a client may read about ``exc`` in an ``{"error": ...}`` reply.

    The reference answers some failures with the exception's message (a connector raising
    "Invalid API key" at login); appconnect keeps that for exceptions raised by connector or
    framework code, but never forwards the text of infrastructure errors (database, network,
    operating system): those are logged and the client reads :data:`INTERNAL_ERROR`.
    """
    if isinstance(exc, ClientVisible):
        return str(exc)
    status = response_status(exc)
    if isinstance(status, int):  # a CRM answered with an error: its status, not its URL
        return f"Request failed with status code {status}"
    if isinstance(exc, OSError | TimeoutError) or _infrastructure(exc):
        logger.error("internal error answered as %r", INTERNAL_ERROR, exc_info=exc)
        return INTERNAL_ERROR
    return str(exc) or type(exc).__name__


def _infrastructure(exc: BaseException) -> bool:
    return type(exc).__module__.split(".", 1)[0] in _INFRASTRUCTURE


def warning(message: str, ttl: int = 5000) -> dict[str, Any]:
    return {"message": message, "messageType": "warning", "ttl": ttl}


def failure(message: str, ttl: int = 5000, **extra: Any) -> dict[str, Any]:
    """``{successful: false, returnMessage: <warning>}``, the common business failure."""
    return {"successful": False, "returnMessage": warning(message, ttl), **extra}


DB_FAILURE_MESSAGE = "Database operation failed"

SESSION_REVOKED: dict[str, Any] = {
    "successful": False,
    "returnMessage": warning("User session expired. Please connect again."),
    "isRevokeUserSession": True,
}


def _details(text: str, item_id: Any) -> list[dict[str, Any]]:
    return [{"title": "Details", "items": [{"id": item_id, "type": "text", "text": text}]}]


def api_error_result(exc: BaseException, platform: str, operation: str) -> dict[str, Any]:
    """Map an exception from ``operation`` to the reference's failure reply."""
    status = response_status(exc)
    logger.warning("%s failed on %s: %r", operation, platform, exc, exc_info=status is None)
    if status == 429:
        message = {
            "message": "Rate limit exceeded",
            "messageType": "warning",
            "details": _details(
                f"You have exceeded the maximum number of requests allowed by {platform}. Please "
                "try again in the next minute. If the problem persists please contact support.",
                "1",
            ),
            "ttl": 5000,
        }
    elif status in REAUTHORIZE_STATUSES:
        message = {
            "message": "Authorization error",
            "messageType": "warning",
            "details": _details(
                f"It seems like there's something wrong with your authorization of {platform}. "
                f"Please Logout and then Connect your {platform} account within this extension.",
                "1",
            ),
            "ttl": 5000,
        }
    else:
        title, hint = _OPERATIONS.get(operation, (f"Error performing {operation}", _GENERIC_HINT))
        message = {
            "message": title,
            "messageType": "warning",
            "details": _details(hint.format(platform=platform), 1),
            "ttl": 5000,
        }
    return {
        "successful": False,
        "returnMessage": message,
        "extraDataTracking": {"statusCode": status if status is not None else "unknown"},
    }
