"""The engines under :class:`appconnect.crm_client.CrmClient`: aiohttp's pool, or a test transport.

:class:`AiohttpEngine` sends every CRM call of the process over one pooled
``aiohttp.ClientSession`` (C-accelerated HTTP parser, connection reuse, DNS cache).
:class:`TransportEngine` sends them to an ``httpx2.AsyncBaseTransport`` instead, through its public
``handle_async_request``: the mock hook (``create_app(http_transport=httpx2.MockTransport(...))``),
so tests see ordinary ``httpx2.Request`` objects.

Both read the answer in full (CRM API answers are small JSON) and raise httpx2's exception types
(``ConnectTimeout``, ``ReadTimeout``, ``ConnectError``, ``RemoteProtocolError``, ``ReadError``), so
connectors catch the same errors whichever engine runs. Only public APIs are used.
"""

from __future__ import annotations

import functools
import urllib.request

import aiohttp
import httpx2
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from appconnect.crm_client import URL_SAFE, CrmRequest, CrmResponse


class AiohttpEngine:
    """Sends :class:`CrmRequest` objects over one pooled ``aiohttp.ClientSession``."""

    def __init__(self, *, max_connections: int = 200, keepalive_expiry: float = 5.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        # HTTP(S)_PROXY / NO_PROXY, read once (as httpx2's default transport honoured them).
        self._proxies = {
            scheme: url
            for scheme, url in urllib.request.getproxies().items()
            if scheme in ("http", "https")
        }

    def _pool(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be born inside the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=self._max_connections,
                    keepalive_timeout=self._keepalive_expiry,
                    ttl_dns_cache=300,
                ),
                # CrmClient sends its own User-Agent; a body has the Content-Type it was given.
                skip_auto_headers=("User-Agent", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),  # one pool serves every user: no cookies
                # trust_env would re-read proxy variables and ~/.netrc from disk on *every*
                # request (a fifth of the CPU of a call-log create); proxies are resolved once,
                # in __init__, instead.
                trust_env=False,
            )
        return self._session

    async def send(self, request: CrmRequest) -> CrmResponse:
        url = request.url
        try:
            async with self._pool().request(
                request.method,
                # CrmClient hands over URLs already encoded: sent as they are, not re-quoted.
                URL(url, encoded=True) if URL_SAFE.issuperset(url) else url,
                headers=request.headers,
                data=request.content or None,
                allow_redirects=False,
                timeout=_timeout(request.connect_timeout, request.read_timeout),
                proxy=self._proxy_for(url) if self._proxies else None,
            ) as answer:
                content = await answer.read()
                return CrmResponse(answer.status, answer.headers, content, request)
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx2.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc  # type: ignore[arg-type]
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx2.ReadTimeout(str(exc) or "read timed out", request=request) from exc  # type: ignore[arg-type]
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc  # type: ignore[arg-type]
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx2.RemoteProtocolError(str(exc), request=request) from exc  # type: ignore[arg-type]
        except aiohttp.InvalidURL as exc:
            raise httpx2.InvalidURL(f"Invalid URL: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise httpx2.ReadError(str(exc) or type(exc).__name__, request=request) from exc  # type: ignore[arg-type]

    def _proxy_for(self, url: str) -> str | None:
        scheme, _, rest = url.partition("://")
        proxy = self._proxies.get(scheme)
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        if proxy is None or urllib.request.proxy_bypass(host.rsplit(":", 1)[0]):
            return None
        return proxy

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    # Every request of a client carries the same timeouts: one immutable object per pair.
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)


class TransportEngine:
    """Sends :class:`CrmRequest` objects to an ``httpx2`` transport (tests: ``MockTransport``)."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(self, request: CrmRequest) -> CrmResponse:
        sent = httpx2.Request(
            request.method,
            request.url,
            # As bytes: UTF-8 values, as aiohttp puts them on the wire.
            headers=[(k.encode("latin-1"), v.encode("utf-8")) for k, v in request.headers.items()],
            content=request.content,
            extensions={
                "timeout": {
                    "connect": request.connect_timeout,
                    "read": request.read_timeout,
                    "write": request.read_timeout,
                    "pool": request.connect_timeout,
                }
            },
        )
        try:
            answer = await self.transport.handle_async_request(sent)
        except httpx2.RequestError as exc:
            exc.request = sent  # what httpx2's client does for errors raised without one
            raise
        try:
            content = await answer.aread()
        finally:
            await answer.aclose()
        headers = CIMultiDictProxy(CIMultiDict(answer.headers.multi_items()))  # as aiohttp's
        return CrmResponse(answer.status_code, headers, content, request)

    async def aclose(self) -> None:
        await self.transport.aclose()
