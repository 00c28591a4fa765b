"""Outbound HTTP: one pooled async client per CRM origin, shared by every request.

Creating a client per request throws away connection reuse and TLS sessions; the reference does
that through axios defaults. Here each origin gets one ``httpx2.AsyncClient`` for the process's
life. Tests inject a transport (``httpx2.MockTransport``) and every client uses it.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import OrderedDict
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import Any

import httpx2
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from appconnect.crm_client import CrmClient
from appconnect.transport import AiohttpTransport
from appconnect.version import __version__

VERSION_HEADER = "Unified-CRM-Extension-Version"


def _origin(url: str | None) -> str:
    if not url:
        return ""
    return _url_origin(httpx2.URL(url))


def _url_origin(url: httpx2.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _NoCookies(DefaultCookiePolicy):
    """Shared clients serve every user of every account: a cookie one user's CRM session sets
    must never ride along on another user's request, so nothing is stored or sent."""

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


class PoliteTransport(httpx2.AsyncBaseTransport):
    """Wraps the real transport with the manners a CRM expects.

    * A ``429`` on an idempotent read is retried after the server's ``Retry-After`` (bounded
      attempts, bounded wait). Writes are never retried: a create that timed out or was
      throttled may still have happened, and a blind retry could log a call twice.
    * An optional per-origin rate limit spaces requests out, so a burst of calls in one
      process does not trip the CRM's own limit.
    """

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        *,
        read_retries: int = 2,
        max_retry_wait: float = 30.0,
    ) -> None:
        self._inner = inner
        self._read_retries = read_retries
        self._max_wait = max_retry_wait
        self._limiters: dict[str, AsyncLimiter] = {}
        self._closed = False

    def limit(self, origin: str, per_second: float | None) -> None:
        """Allow at most ``per_second`` requests per second to ``origin`` (``None``: no limit)."""
        if per_second and per_second > 0:
            limiter = self._limiters.get(origin)
            if limiter is None or limiter.max_rate != per_second:
                self._limiters[origin] = AsyncLimiter(per_second, 1.0)
        else:
            self._limiters.pop(origin, None)

    async def _send(self, request: httpx2.Request) -> httpx2.Response:
        limiter = self._limiters.get(_url_origin(request.url)) if self._limiters else None
        if limiter is not None:
            await limiter.acquire()
        return await self._inner.handle_async_request(request)

    def _throttled(self, response: httpx2.Response) -> bool:
        return response.status_code == 429 and (
            retry_after_seconds(response, cap=float("inf")) <= self._max_wait
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # _send, inlined for the common case: one coroutine less per request.
        if self._limiters:
            response = await self._send(request)
        else:
            response = await self._inner.handle_async_request(request)
        if (
            request.method not in IDEMPOTENT_METHODS
            or self._read_retries <= 0
            or not self._throttled(response)
        ):
            return response  # the common case: no retry machinery on the hot path
        await response.aclose()
        await asyncio.sleep(retry_after_seconds(response, cap=self._max_wait))

        async def discard(state: RetryCallState) -> None:
            if state.outcome is not None and not state.outcome.failed:
                await state.outcome.result().aclose()

        retrying = AsyncRetrying(
            retry=retry_if_result(self._throttled),
            stop=stop_after_attempt(self._read_retries),
            wait=lambda state: (
                retry_after_seconds(state.outcome.result(), cap=self._max_wait)
                if state.outcome is not None and not state.outcome.failed
                else 0.0
            ),
            before_sleep=discard,
            retry_error_callback=lambda state: (
                state.outcome.result() if state.outcome is not None else None
            ),
            reraise=True,
        )
        retried: httpx2.Response = await retrying(self._send, request)
        return retried

    async def aclose(self) -> None:
        # Every client sharing this transport closes it; only the first close counts.
        if not self._closed:
            self._closed = True
            await self._inner.aclose()


class HttpClients:
    """One pooled client per CRM base URL, all over one polite, pooled transport."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_connections: int = 200,
        max_clients: int = 1024,
        rate_limit: float | None = None,
        read_retries: int = 2,
    ) -> None:
        self._timeout = timeout
        self._default_rate = rate_limit
        inner = transport or AiohttpTransport(max_connections=max_connections)
        self.transport = PoliteTransport(inner, read_retries=read_retries)
        # Clients are cheap views over the shared transport; keep the most recently used few
        # so per-tenant CRM hosts cannot grow this without bound. Evicted ones need no closing.
        self._clients: OrderedDict[tuple[str, float], httpx2.AsyncClient] = OrderedDict()
        self._max_clients = max_clients

    def client(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        rate_limit: float | None = None,
    ) -> httpx2.AsyncClient:
        """The shared client for ``base_url`` (created on first use, then reused)."""
        effective = timeout if timeout is not None else self._timeout
        key = (base_url or "", effective)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
        else:
            client = CrmClient(
                base_url=base_url or "",
                timeout=effective,
                transport=self.transport,
                headers={VERSION_HEADER: __version__},
                cookies=CookieJar(policy=_NoCookies()),
            )
            self._clients[key] = client
            if len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
            rate = rate_limit if rate_limit is not None else self._default_rate
            if base_url and rate:
                self.transport.limit(_origin(base_url), rate)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
        await self.transport.aclose()


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
        try:  # an HTTP date; anything unreadable means "the default wait", never an error
            parsed = email.utils.parsedate_to_datetime(value)
            seconds = parsed.timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = default
    if not math.isfinite(seconds):
        seconds = default if math.isnan(seconds) else cap
    return max(0.0, min(seconds, cap))


def response_status(exc: BaseException) -> Any:
    """The HTTP status behind a raised error, as the reference's ``error.response.status``."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if status is None:
        status = getattr(exc, "status_code", None)
    return status
