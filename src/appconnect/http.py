"""Outbound HTTP: one pooled async client per CRM origin, shared by every request.

Creating a client per request throws away connection reuse and TLS sessions; the reference does
that through axios defaults. Here each origin gets one ``httpx2.AsyncClient`` for the process's
life. Tests inject a transport (``httpx2.MockTransport``) and every client uses it.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import httpx2

from appconnect import __version__

VERSION_HEADER = "Unified-CRM-Extension-Version"


def _origin(url: str | None) -> str:
    if not url:
        return ""
    parsed = httpx2.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"


class HttpClients:
    """A small pool of pooled clients, keyed by origin and timeout."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self._timeout = timeout
        self._transport = transport
        self._limits = httpx2.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._clients: dict[tuple[str, str, float], httpx2.AsyncClient] = {}

    def client(
        self, base_url: str | None = None, *, timeout: float | None = None
    ) -> httpx2.AsyncClient:
        effective = timeout if timeout is not None else self._timeout
        key = (_origin(base_url), base_url or "", effective)
        client = self._clients.get(key)
        if client is None:
            client = httpx2.AsyncClient(
                base_url=base_url or "",
                timeout=effective,
                transport=self._transport,
                limits=self._limits,
                headers={VERSION_HEADER: __version__},
            )
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


def retry_after_seconds(
    response: httpx2.Response, default: float = 1.0, cap: float = 30.0
) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        seconds = parsed.timestamp() - time.time() if parsed else default
    return max(0.0, min(seconds, cap))


def response_status(exc: BaseException) -> Any:
    """The HTTP status behind a raised error, as the reference's ``error.response.status``."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if status is None:
        status = getattr(exc, "status_code", None)
    return status
