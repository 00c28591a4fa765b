"""Bounded connections for ``appconnect serve``: a header deadline and a connection cap.

uvicorn closes idle keep-alive connections, but a connection that never sends (or trickles) its
request headers stays open forever, and it accepts connections until the process runs out of
file descriptors: 21,000 silent connections made ``/isAlive`` stop answering. This module's
:class:`GuardedHTTPProtocol` (uvicorn's HTTP protocol, extended through its public ``http``
option) adds:

* a **header deadline**: a connection must deliver each request's headers within
  ``APPCONNECT_TIMEOUT_HEADER`` seconds of connecting (or of its previous response), else it
  is closed;
* a **connection cap**: beyond ``APPCONNECT_LIMIT_CONNECTIONS`` open connections per worker, a
  new connection is answered ``503`` and closed at once.

``appconnect serve`` sets both variables from its options (``--timeout-header``,
``--limit-connections``) so every worker process reads the same values.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

DEFAULT_TIMEOUT_HEADER = 10.0
DEFAULT_LIMIT_CONNECTIONS = 1000
DEFAULT_TIMEOUT_KEEP_ALIVE = 5
DEFAULT_TIMEOUT_GRACEFUL_SHUTDOWN = 10
ENV_TIMEOUT_HEADER = "APPCONNECT_TIMEOUT_HEADER"
ENV_LIMIT_CONNECTIONS = "APPCONNECT_LIMIT_CONNECTIONS"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 19\r\nconnection: close\r\n\r\nService Unavailable"
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    timeout_header: float
    limit_connections: int


@lru_cache(maxsize=1)
def limits() -> ConnectionLimits:
    """The limits of this worker process (from the environment ``serve`` prepared)."""
    return ConnectionLimits(
        timeout_header=float(os.environ.get(ENV_TIMEOUT_HEADER) or DEFAULT_TIMEOUT_HEADER),
        limit_connections=int(os.environ.get(ENV_LIMIT_CONNECTIONS) or DEFAULT_LIMIT_CONNECTIONS),
    )


class GuardedHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP/1.1 protocol with a header deadline and a connection cap."""

    _deadline: asyncio.TimerHandle | None = None
    _armed_for: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if len(getattr(self, "connections", ())) > limits().limit_connections:
            write = getattr(transport, "write", None)  # uvloop's transports are not asyncio's
            if write is not None:
                write(_BUSY)
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle = getattr(self, "cycle", None)
        if self._deadline is not None and cycle is not self._armed_for:
            self._disarm()  # the headers of a new request arrived in time
        if self._deadline is None and (cycle is None or getattr(cycle, "response_complete", False)):
            self._arm()  # between requests: the next request's headers are on the clock

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._armed_for = getattr(self, "cycle", None)
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(limits().timeout_header, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        transport = getattr(self, "transport", None)
        if getattr(self, "cycle", None) is self._armed_for and transport is not None:
            if not transport.is_closing():
                transport.close()


def serve_granian(
    import_string: str,
    *,
    factory: bool,
    host: str,
    port: int,
    workers: int,
    reload: bool,
    log_level: str,
    log_config: dict[str, Any] | None,
    access_log: bool,
    timeout_header: float,
    limit_connections: int,
    timeout_graceful_shutdown: int,
) -> None:
    """``appconnect serve --server granian``: the same app on granian (public API only).

    Why: granian parses HTTP and writes answers in Rust, off the Python thread; on the
    side-by-side bench (``bench/versus.py``) that gave a lower p99 than uvicorn with httptools
    and uvloop (``/isAlive`` 118 -> 23-35 ms, below the reference's) and ~15-20% more
    ``/isAlive`` answers per second; on the CRM routes throughput was the same within noise on
    a quiet machine (``bench/results/20261205-issue16.md``). The limits map onto granian's
    own: the header deadline onto ``http1_settings.header_read_timeout``, the connection cap onto
    ``backpressure`` (requests handled at once; granian holds further connections in the
    accept backlog rather than answering 503), the graceful-shutdown wait onto
    ``workers_kill_timeout``. ``X-Forwarded-*`` headers are not applied (nothing on the request
    path reads the client address).
    """
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    try:
        import uvloop  # noqa: F401

        loop = Loops.uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        loop = Loops.auto
    Granian(
        import_string,
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with lifespan: the app's start-up and shutdown run
        factory=factory,
        workers=workers,
        reload=reload,
        loop=loop,
        websockets=False,  # no route speaks WebSocket (MCP streams over SSE)
        backpressure=limit_connections,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(timeout_header * 1000))),
        workers_kill_timeout=max(1, timeout_graceful_shutdown),
        log_enabled=True,
        log_level=log_level,  # type: ignore[arg-type]
        log_dictconfig=log_config,
        log_access=access_log,
    ).serve()
