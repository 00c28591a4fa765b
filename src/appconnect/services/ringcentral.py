"""RingCentral identity checks: who is calling, and are they an account admin.

Both ask RingCentral's extension endpoint with the caller's token. The reference always asks the
production host (``RINGCENTRAL_SERVER`` is not used here); so do we by default, and
``APPCONNECT_RC_IDENTITY_SERVER`` points the check elsewhere (a sandbox, a test double).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appconnect.runtime import Runtime

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
EXTENSION_URL = "https://platform.ringcentral.com" + EXTENSION_PATH


class RingCentralError(Exception):
    """RingCentral refused the token (the message mirrors the reference's HTTP client)."""


@dataclass(frozen=True)
class RcIdentity:
    account_id: str
    extension_id: str
    is_admin: bool = False


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def extract_rc_token(
    headers: Mapping[str, str], body: Mapping[str, Any] | None, query: Mapping[str, Any]
) -> str | None:
    """Header ``X-RC-Access-Token``, then body, then query ``rcAccessToken``, minus ``Bearer``."""
    for source in (
        headers.get("x-rc-access-token"),
        (body or {}).get("rcAccessToken"),
        query.get("rcAccessToken"),
    ):
        value = _first(source)
        if value is None:
            continue
        text = str(value).strip()
        if text[:7].lower() == "bearer ":
            text = text[7:].strip()
        if text:
            return text
    return None


async def _extension(rt: Runtime, token: str | None) -> dict[str, Any]:
    url = rt.settings.rc_identity_server.rstrip("/") + EXTENSION_PATH
    response = await rt.http.client().get(url, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 400:
        raise RingCentralError(f"Request failed with status code {response.status_code}")
    data = response.json()
    return data if isinstance(data, dict) else {}


async def user_identity(rt: Runtime, token: str | None) -> RcIdentity:
    if not token:
        raise RingCentralError("rcAccessToken is required")
    data = await _extension(rt, token)
    account = data.get("account") or {}
    ext_id = data.get("id")
    return RcIdentity(str(account.get("id")), "" if ext_id is None else str(ext_id))


async def admin_identity(rt: Runtime, token: str | None) -> RcIdentity:
    data = await _extension(rt, token)
    account = data.get("account") or {}
    ext_id = "" if data.get("id") is None else str(data.get("id"))
    admin = bool(((data.get("permissions") or {}).get("admin") or {}).get("enabled"))
    if ext_id and ext_id in rt.settings.admin_extension_ids:
        admin = True
    return RcIdentity(str(account.get("id")), ext_id, admin)
