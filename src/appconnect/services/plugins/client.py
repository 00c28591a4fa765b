"""HTTP calls to plugin servers (spec plugins.md §7.3, §8, §9).

Every call carries the account's plugin credential as ``Authorization: Bearer`` and the whole
exchange is bounded by ``APPCONNECT_PLUGIN_TIMEOUT`` (the reference sets no timeout, so a hung
plugin server hangs the log); a slow plugin raises :class:`TimeoutError`. A non-2xx answer
raises ``httpx2.HTTPStatusError`` (so the logging flow maps a plugin's 429 or 4xx like a
CRM's), transport errors propagate, and :class:`PluginError` is a plugin that cannot be called
at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from appconnect.crm_client import CrmClient, CrmResponse
from appconnect.runtime import Runtime

REFRESH_HEADER = "x-refreshed-jwt-token"


class PluginError(Exception):
    """A plugin call that could not be made or whose answer is unusable."""


@dataclass(frozen=True, slots=True)
class PluginReply:
    body: Any
    refreshed_token: str | None


def _client(rt: Runtime) -> CrmClient:
    return rt.http.client(timeout=rt.settings.plugin_timeout)


def _deadline(rt: Runtime) -> asyncio.Timeout:
    """The whole exchange, not only each socket phase, is bounded by the plugin timeout."""
    return asyncio.timeout(rt.settings.plugin_timeout)


def refreshed_token(response: CrmResponse) -> str | None:
    value = response.headers.get(REFRESH_HEADER)
    return value.strip() if value and value.strip() else None


def _json(response: CrmResponse) -> Any:
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


async def post(
    rt: Runtime, url: str | None, token: str | None, body: Any, *, missing: str
) -> PluginReply:
    """POST ``body`` to a plugin endpoint; ``missing`` is the error when ``url`` is unset."""
    if not url:
        raise PluginError(missing)
    async with _deadline(rt):
        response = await _client(rt).post(url, json=body, headers=_auth(token))
    response.raise_for_status()
    return PluginReply(_json(response), refreshed_token(response))


async def get(rt: Runtime, url: str | None, token: str | None, *, missing: str) -> Any:
    if not url:
        raise PluginError(missing)
    async with _deadline(rt):
        response = await _client(rt).get(url, headers=_auth(token))
    response.raise_for_status()
    return _json(response)


async def post_unauthenticated(rt: Runtime, url: str, body: Mapping[str, Any]) -> Any:
    """Registration: the body carries the RC token, no Authorization header is sent."""
    async with _deadline(rt):
        response = await _client(rt).post(url, json=dict(body))
    response.raise_for_status()
    return _json(response)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or ''}"}
