"""Outbound HTTP: one pooled client per CRM origin, all over one polite, pooled engine.

Creating a client per request throws away connection reuse and TLS sessions; the reference does
that through axios defaults. Here every CRM call of the process goes through one aiohttp pool
(:class:`appconnect.transport.AiohttpEngine`), and each base URL gets one cheap
:class:`appconnect.crm_client.CrmClient` over it. Tests inject an ``httpx2`` transport
(``httpx2.MockTransport``) and every client uses it.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import httpx2
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from appconnect.crm_client import CrmClient, CrmRequest, CrmResponse
from appconnect.kv.ratelimit import Limiter, local_limiter
from appconnect.transport import AiohttpEngine, TransportEngine
from appconnect.version import __version__

VERSION_HEADER = "Unified-CRM-Extension-Version"
DEFAULT_HEADERS = {
    VERSION_HEADER: __version__,
    "Accept": "*/*",
    "User-Agent": f"appconnect/{__version__}",
}
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Engine(Protocol):
    async def send(self, request: CrmRequest) -> CrmResponse: ...

    async def aclose(self) -> None: ...


def _origin(url: str | None) -> str:
    """``scheme://host[:port]`` of ``url`` (lower-cased), ``""`` for none."""
    if not url:
        return ""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme.lower()}://{host.lower()}"


class PoliteSender:
    """Wraps the engine with the manners a CRM expects.

    * A ``429`` on an idempotent read is retried after the server's ``Retry-After`` (bounded
      attempts, bounded wait). Writes are never retried: a create that timed out or was
      throttled may still have happened, and a blind retry could log a call twice.
    * An optional per-origin rate limit spaces requests out, so a burst of calls does not trip
      the CRM's own limit. ``limiter_factory`` makes the limiters: this process's own by
      default, one budget shared by every worker with Redis (:mod:`appconnect.kv.ratelimit`).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        read_retries: int = 2,
        max_retry_wait: float = 30.0,
        limiter_factory: Callable[[str, float], Limiter] = local_limiter,
    ):
        self.engine = engine
        self._read_retries = read_retries
        self._max_wait = max_retry_wait
        self._make_limiter = limiter_factory
        self._limiters: dict[str, Limiter] = {}
        self._rates: dict[str, float] = {}
        self._closed = False

    def limit(self, origin: str, per_second: float | None) -> None:
        """Allow at most ``per_second`` requests per second to ``origin`` (``None``: no limit)."""
        if per_second and per_second > 0:
            if self._rates.get(origin) != per_second:
                self._limiters[origin] = self._make_limiter(origin, per_second)
                self._rates[origin] = per_second
        else:
            self._limiters.pop(origin, None)
            self._rates.pop(origin, None)

    async def _send(self, request: CrmRequest) -> CrmResponse:
        limiter = self._limiters.get(_origin(request.url)) if self._limiters else None
        if limiter is not None:
            await limiter.acquire()
        return await self.engine.send(request)

    def _throttled(self, response: CrmResponse) -> bool:
        return response.status_code == 429 and (
            retry_after_seconds(response, cap=float("inf")) <= self._max_wait
        )

    async def __call__(self, request: CrmRequest) -> CrmResponse:
        # _send, inlined for the common case: one coroutine less per request.
        if self._limiters:
            response = await self._send(request)
        else:
            response = await self.engine.send(request)
        if (
            request.method not in IDEMPOTENT_METHODS
            or self._read_retries <= 0
            or not self._throttled(response)
        ):
            return response  # the common case: no retry machinery on the hot path
        await asyncio.sleep(retry_after_seconds(response, cap=self._max_wait))

        retrying = AsyncRetrying(
            retry=retry_if_result(self._throttled),
            stop=stop_after_attempt(self._read_retries),
            wait=_retry_wait(self._max_wait),
            retry_error_callback=lambda state: (
                state.outcome.result() if state.outcome is not None else None
            ),
            reraise=True,
        )
        retried: CrmResponse = await retrying(self._send, request)
        return retried

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.engine.aclose()


def _retry_wait(cap: float) -> Any:
    def wait(state: RetryCallState) -> float:
        if state.outcome is not None and not state.outcome.failed:
            return retry_after_seconds(state.outcome.result(), cap=cap)
        return 0.0

    return wait


class HttpClients:
    """One pooled client per CRM base URL, all over one polite, pooled engine.

    ``transport``: an ``httpx2.AsyncBaseTransport`` (tests: ``httpx2.MockTransport``) that
    receives every outbound request instead of the network.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_connections: int = 200,
        max_clients: int = 1024,
        rate_limit: float | None = None,
        read_retries: int = 2,
        limiter_factory: Callable[[str, float], Limiter] = local_limiter,
    ) -> None:
        self._timeout = timeout
        self._default_rate = rate_limit
        engine: Engine = (
            TransportEngine(transport)
            if transport is not None
            else AiohttpEngine(max_connections=max_connections)
        )
        self.sender = PoliteSender(
            engine, read_retries=read_retries, limiter_factory=limiter_factory
        )
        # Clients are cheap views over the shared engine; keep the most recently used few so
        # per-tenant CRM hosts cannot grow this without bound. Evicted ones need no closing.
        self._clients: OrderedDict[tuple[str, float], CrmClient] = OrderedDict()
        self._max_clients = max_clients

    def client(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        rate_limit: float | None = None,
    ) -> CrmClient:
        """The shared client for ``base_url`` (created on first use, then reused)."""
        effective = timeout if timeout is not None else self._timeout
        key = (base_url or "", effective)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
        else:
            client = CrmClient(
                self.sender, base_url=base_url or "", timeout=effective, headers=DEFAULT_HEADERS
            )
            self._clients[key] = client
            if len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
            rate = rate_limit if rate_limit is not None else self._default_rate
            if base_url and rate:
                self.sender.limit(_origin(base_url), rate)
        return client

    async def aclose(self) -> None:
        self._clients = OrderedDict()
        await self.sender.aclose()


def retry_after_seconds(
    response: CrmResponse | httpx2.Response, default: float = 1.0, cap: float = 30.0
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
