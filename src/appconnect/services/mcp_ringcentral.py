"""The RingCentral API calls of the MCP surface: the caller's extension and call log."""

from __future__ import annotations

from typing import Any

import httpx2

from appconnect.runtime import Runtime
from appconnect.services.ringcentral import EXTENSION_PATH, RingCentralError

DEFAULT_RC_SERVER = "https://platform.ringcentral.com"
CALL_LOG_PATH = "/restapi/v1.0/account/~/extension/~/call-log"
MAX_CALL_LOG_PAGES = 50


def rc_server(rt: Runtime) -> str:
    """``RINGCENTRAL_SERVER`` (RingCentral's API and OAuth base), production by default."""
    return (rt.settings.ringcentral_server or DEFAULT_RC_SERVER).rstrip("/")


async def _get(rt: Runtime, url: str, token: str, params: dict[str, Any] | None = None) -> Any:
    try:
        response = await rt.http.client().get(
            url, params=params, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx2.HTTPError as exc:
        raise RingCentralError(f"RingCentral request failed: {exc}") from exc
    if response.status_code >= 400:
        raise RingCentralError(f"Request failed with status code {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise RingCentralError("RingCentral answered something that is not JSON") from exc


async def current_extension(rt: Runtime, token: str) -> dict[str, Any]:
    """``GET /restapi/v1.0/account/~/extension/~`` (the identity host, as the reference)."""
    url = rt.settings.rc_identity_server.rstrip("/") + EXTENSION_PATH
    data = await _get(rt, url, token)
    return data if isinstance(data, dict) else {}


async def extension_by_id(rt: Runtime, token: str, extension_id: str) -> Any:
    url = f"{rc_server(rt)}/restapi/v1.0/account/~/extension/{extension_id}"
    return await _get(rt, url, token)


async def call_log_records(
    rt: Runtime, token: str, time_from: str, time_to: str
) -> list[dict[str, Any]]:
    """Every record of the caller's call log between the two times, following pages."""
    records: list[dict[str, Any]] = []
    page = 1
    while page <= MAX_CALL_LOG_PAGES:
        params = {"dateFrom": time_from, "dateTo": time_to, "page": page, "view": "Simple",
                  "perPage": 1000}  # fmt: skip
        data = await _get(rt, rc_server(rt) + CALL_LOG_PATH, token, params)
        page_records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(page_records, list) or not all(isinstance(r, dict) for r in page_records):
            raise RingCentralError("RingCentral call log response has no records array")
        records.extend(page_records)
        if not ((data.get("navigation") or {}).get("nextPage")):
            break
        page += 1
    return records
