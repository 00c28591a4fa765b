"""The reference's response conventions.

Plain strings go out as ``text/html; charset=utf-8`` (Express's default for ``res.send(str)``)
unless they could be markup (see :func:`text`),
objects as JSON with ``undefined`` keys omitted. JSON is encoded with orjson: it is the single
largest per-request cost after the CRM call, and orjson is several times faster than ``json``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from appconnect.services.errors import client_message

NOAUTH = "Please go to Settings and authorize CRM platform"
USER_NOT_FOUND = "User not found"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(content, status_code=status_code, headers=headers)


_NOSNIFF = {"x-content-type-options": "nosniff"}
_MARKUP = ("<", ">", "&")


def text(content: str, status_code: int = 200) -> Response:
    """A plain string, as Express sends it (``text/html``) unless it could be markup.

    Ours (SECURITY.md): a text containing ``<``, ``>`` or ``&`` goes out as ``text/plain`` with
    ``nosniff``, so no answer (an error echoing input, a connector's message) renders script in
    a browser; the reference's texts contain none of these and keep their content type.
    """
    if any(mark in content for mark in _MARKUP):
        return plain(content, status_code)
    return Response(
        content, status_code=status_code, media_type="text/html; charset=utf-8", headers=_NOSNIFF
    )


def plain(content: str, status_code: int = 200) -> Response:
    """Text that may come from stored data (``GET /hostname``): never rendered as HTML."""
    return Response(
        content, status_code=status_code, media_type="text/plain; charset=utf-8", headers=_NOSNIFF
    )


def error(message: Any, status_code: int = 400) -> Response:
    """The exception envelope: ``{"error": <message>}``."""
    return json({"error": message if isinstance(message, str) else str(message)}, status_code)


def failed(exc: BaseException, status_code: int = 400) -> Response:
    """The exception envelope for ``exc``, never carrying infrastructure details."""
    return json({"error": client_message(exc)}, status_code)


def business(result: dict[str, Any], *keys: str) -> Response:
    """A flow result, with a revoked session turned into 401 ``CRM_SESSION_REVOKED``."""
    if result.get("isRevokeUserSession"):
        return json(
            {
                "successful": result.get("successful", False),
                "returnMessage": result.get("returnMessage"),
                "errorCode": "CRM_SESSION_REVOKED",
            },
            401,
        )
    if keys:
        return json({k: result[k] for k in keys if k in result})
    return json(result)
