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

import functools
import re
import urllib.request
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx2
from aiohttp.hdrs import CONTENT_ENCODING, CONTENT_LENGTH


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
        self._decoded: dict[tuple[bytes, bytes], tuple[str, str]] = {}

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
        timeout = self._timeout(timeouts.get("connect"), timeouts.get("read"))
        headers = self._str_headers(request.headers.raw)
        try:
            body = request.content  # clients load in-memory bodies up front
        except httpx2.RequestNotRead:
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
                if CONTENT_ENCODING in answer.headers:  # httpx2 decodes it
                    return httpx2.Response(
                        answer.status,
                        headers=answer.raw_headers,
                        content=content,
                        request=request,
                        extensions=_HTTP_11,
                    )
                return _read_response(
                    answer.status,
                    answer.raw_headers,
                    content,
                    request,
                    has_length=CONTENT_LENGTH in answer.headers,
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

    def _str_headers(self, raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
        """The request's headers as aiohttp takes them (it builds its CIMultiDict from these).

        Most of them are the same on every call (``Accept``, ``User-Agent``, the version header,
        ``Host``...), so their decoded form is remembered instead of re-made per request.
        Headers that may carry credentials are decoded afresh each time, never kept.
        """
        cache = self._decoded
        pairs = []
        for pair in raw:
            decoded = cache.get(pair)
            if decoded is None:
                decoded = (pair[0].decode("latin-1"), pair[1].decode("latin-1"))
                if not _SECRET_NAME.search(pair[0]):
                    if len(cache) >= 4096:
                        cache.clear()
                    cache[pair] = decoded
            pairs.append(decoded)
        return pairs

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        # Every request of a client carries the same timeouts: one immutable object per pair.
        return aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)

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


_HTTP_11 = {"http_version": b"HTTP/1.1"}
# Header names that may carry credentials (Authorization, Cookie, X-Api-Key, X-Auth-Token...).
_SECRET_NAME = re.compile(rb"auth|cookie|key|token|secret|session|signature", re.IGNORECASE)


def _read_response(
    status: int,
    raw_headers: Sequence[tuple[bytes, bytes]],
    content: bytes,
    request: httpx2.Request,
    *,
    has_length: bool,
) -> httpx2.Response:
    """``httpx2.Response(status, headers=..., content=content)`` for an identity-encoded body.

    ``Response(content=...)`` runs the bytes through httpx2's streaming machinery (generators,
    chunkers, an identity decoder) only to end up with ``response.content == content``. Here the
    response is made from a stream and marked as read, and given ``Content-Length`` when the
    answer had none, as ``content=`` does. Compressed answers (rare from CRM APIs) are not for
    this function: they take ``Response(content=...)`` and httpx2's decoders.
    """
    if content and not has_length:
        raw_headers = [*raw_headers, (b"Content-Length", str(len(content)).encode("ascii"))]
    response = httpx2.Response(
        status,
        headers=raw_headers,
        stream=httpx2.ByteStream(content),
        request=request,
        extensions=_HTTP_11,
    )
    _mark_read(response, content)
    return response


def _mark_read(response: httpx2.Response, content: bytes) -> None:
    """Leave ``response`` as ``Response.read()`` would for an identity-encoded body.

    httpx2 internal: ``content`` is read from ``_content``;
    tests/test_transport.py::test_marked_read_response_matches_httpx2 fails if that changes.
    """
    response._content = content
    response.is_stream_consumed = True
    response.is_closed = True
