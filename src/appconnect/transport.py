"""The network engine under the httpx2 clients connectors use: aiohttp's connection pool.

Connectors keep httpx2's API (``self.http().get(...)``, ``httpx2.Response``, ``MockTransport``
in tests); only the bytes on the wire go through aiohttp. Why: with 64 concurrent contact
look-ups, httpcore2 (httpx2's default engine) spent most of the server's CPU in its pool
bookkeeping (probing every idle socket per request, anyio cancel scopes around each read and
write). Swapping the engine for aiohttp's C-accelerated one took the benchmark's look-ups from
about 900 to about 1,200 requests/s on the same process (see bench/results).

Responses are read in full before they are handed back (CRM API answers are small JSON);
decompression is left to httpx2, which sees the raw bytes and the ``Content-Encoding`` header.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import aiohttp
import httpx2
from multidict import CIMultiDict


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """An ``httpx2`` transport backed by one pooled ``aiohttp.ClientSession``."""

    def __init__(self, *, max_connections: int = 200, keepalive_expiry: float = 5.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        # HTTP(S)_PROXY / NO_PROXY, read once (httpx2's default transport honours them too).
        self._proxies = {
            scheme: url
            for scheme, url in urllib.request.getproxies().items()
            if scheme in ("http", "https")
        }

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be born inside the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=self._max_connections,
                    keepalive_timeout=self._keepalive_expiry,
                    ttl_dns_cache=300,
                ),
                auto_decompress=False,  # httpx2 decodes, from the headers it is given
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                cookie_jar=aiohttp.DummyCookieJar(),  # one pool serves every user: no cookies
                # trust_env would re-read proxy variables and ~/.netrc from disk on *every*
                # request (a fifth of the CPU of a call-log create); proxies are resolved once,
                # in __init__, instead.
                trust_env=False,
            )
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout") or {}
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        body = await request.aread()
        proxy = self._proxy_for(request.url)
        try:
            async with self._client().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
                proxy=proxy,
            ) as answer:
                content = await answer.read()
                return httpx2.Response(
                    answer.status,
                    headers=[(bytes(k), bytes(v)) for k, v in answer.raw_headers],
                    content=content,
                    request=request,
                    extensions={"http_version": b"HTTP/1.1"},
                )
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx2.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx2.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx2.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx2.ReadError(str(exc) or type(exc).__name__, request=request) from exc

    def _proxy_for(self, url: httpx2.URL) -> str | None:
        if not self._proxies:
            return None
        proxy = self._proxies.get(url.scheme)
        if proxy is None or urllib.request.proxy_bypass(url.host):
            return None
        return proxy

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
