"""The httpx2 client connectors get from ``self.http()``, with a lean path for their calls.

A connector call is a JSON body or a few query params plus a per-call ``Authorization`` header:
no client auth, no hooks, no cookies, no redirect-following. For that, httpx2's general path
rebuilt the header set four times, re-parsed the URL to attach the query and ran the auth and
redirect machinery for every request, which cost more CPU than aiohttp spent on the wire (a
third of a PATCH /callLog, which makes two CRM calls). :class:`CrmClient` builds exactly the
request httpx2 would and sends it as ``AsyncClient.send`` does; any feature the shortcut does
not model sends the call down httpx2's own path. ``tests/test_crm_client.py`` runs ~100 calls
through both and requires identical requests, responses and errors.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Coroutine
from json import JSONEncoder
from typing import TYPE_CHECKING, Any

import httpx2

# httpx2 internals used by the lean path (tests/test_crm_client.py pins their meaning): the
# stream wrapper that times a response, the client state ``send`` records, and the type of
# ``USE_CLIENT_DEFAULT``.
from httpx2._client import BoundAsyncStream, ClientState, UseClientDefault

if TYPE_CHECKING:
    from httpx2._types import (
        AuthTypes,
        CookieTypes,
        HeaderTypes,
        QueryParamTypes,
        RequestContent,
        RequestData,
        RequestExtensions,
        RequestFiles,
        TimeoutTypes,
    )

# httpx2 serialises ``json=`` with json.dumps(ensure_ascii=False, separators=(",", ":"),
# allow_nan=False); one encoder with the same options gives the same bytes without building
# an encoder per call.
_JSON = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "QUERY"})  # httpx2 sends Content-Length: 0
_SHORT_QUERY = 4096
# The statuses Response.has_redirect_location accepts; checked first, as that property looks
# them up one by one through httpx2's status-code enum.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_httpx2_log = logging.getLogger("httpx2")  # where httpx2 logs each request it sends


class CrmClient(httpx2.AsyncClient):
    """``httpx2.AsyncClient`` with a lean path for the calls connectors actually make.

    A connector call is a JSON body or a few query params plus a per-call ``Authorization``
    header, with no client auth, no hooks, no cookies and no redirect-following. For that,
    httpx2's general path still rebuilt the header set four times, re-parsed the URL to attach
    the query and ran the auth and redirect machinery (generators, history lists): more CPU than
    aiohttp spent on the wire. :meth:`request` builds exactly the request httpx2 would (same
    headers in the same order, same URL, body and extensions) and sends it the way
    ``AsyncClient.send`` does; whenever a feature the shortcut does not model is in play, the
    call goes to httpx2 unchanged. ``tests/test_crm_client.py`` runs both paths side by side.

    Resolved relative URLs are memoised too: parsing and joining ``/contacts`` with the base URL
    was a tenth of a call-log request's CPU. URL objects are immutable, so they are shared.
    """

    _MEMO_SIZE = 2048

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._resolved: dict[str, httpx2.URL] = {}
        self._resolved_base = self.base_url

    def _merge_url(self, url: httpx2.URL | str) -> httpx2.URL:
        if not isinstance(url, str):
            return super()._merge_url(url)
        if self._resolved_base is not self.base_url:  # base_url was reassigned
            self._resolved.clear()
            self._resolved_base = self.base_url
        resolved = self._resolved.get(url)
        if resolved is None:
            joined = _join_plain_path(self.base_url, url)
            if joined is not None:
                return joined  # cheap, and ids in paths repeat rarely: not worth remembering
            resolved = super()._merge_url(url)
            if len(self._resolved) >= self._MEMO_SIZE:
                self._resolved.clear()
            self._resolved[url] = resolved
        return resolved

    def request(
        self,
        method: str,
        url: httpx2.URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any | None = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault | None = httpx2.USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = httpx2.USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = httpx2.USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Coroutine[Any, Any, httpx2.Response]:
        # A plain method handing back the coroutine that sends: awaiting it resumes one frame
        # less on each wake-up of the call (see appconnect.connectors.invoke.call_with_kwargs).
        if (
            data is None
            and files is None
            and cookies is None
            and (content is None or isinstance(content, bytes | str))
            and self._lean_applies(auth, follow_redirects)
        ):
            request = self._lean_request(
                method, url, content, json, params, headers, timeout, extensions
            )
            if request is not None:
                return self._lean_send(request)
        return super().request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def _lean_applies(
        self, auth: AuthTypes | UseClientDefault | None, follow_redirects: bool | UseClientDefault
    ) -> bool:
        """True when httpx2's auth, hooks, redirects, cookies and mounts would all be no-ops."""
        if isinstance(auth, UseClientDefault):
            if self.auth is not None:
                return False
        elif auth is not None:
            return False
        if isinstance(follow_redirects, UseClientDefault):
            follow_redirects = self.follow_redirects
        hooks = self.event_hooks
        return not (
            follow_redirects
            or hooks["request"]
            or hooks["response"]
            or self.max_redirects < 0
            or self.is_closed
            or self.params
            or self.cookies
            or self._direct_transport() is None
        )

    def _lean_request(
        self,
        method: str,
        url: httpx2.URL | str,
        content: bytes | str | None,
        json: Any,
        params: QueryParamTypes | None,
        headers: HeaderTypes | None,
        timeout: TimeoutTypes | UseClientDefault,
        extensions: RequestExtensions | None,
    ) -> httpx2.Request | None:
        """The request ``build_request`` would return, or ``None`` to leave it to httpx2."""
        target = self._merge_url(url)
        if target.userinfo:
            return None  # httpx2 turns credentials in the URL into Basic auth
        if params is not None:
            # With no client-level params, httpx2 replaces the URL's query with ``params``.
            target = _with_query(target, _query_string(params))

        if extensions is not None and "timeout" in extensions:
            exts = extensions
        else:
            chosen = (
                self.timeout if isinstance(timeout, UseClientDefault) else httpx2.Timeout(timeout)
            )
            exts = (
                {"timeout": chosen.as_dict()}
                if extensions is None
                else dict(**extensions, timeout=chosen.as_dict())
            )

        # Body and its headers, as httpx2's encode_request makes them.
        body_headers: tuple[tuple[bytes, bytes], ...] = ()
        if content is not None:
            body = content.encode("utf-8") if isinstance(content, str) else content
            if body:
                body_headers = ((b"Content-Length", str(len(body)).encode("ascii")),)
        elif json is not None:
            body = _JSON.encode(json).encode("utf-8")
            body_headers = (
                (b"Content-Length", str(len(body)).encode("ascii")),
                (b"Content-Type", b"application/json"),
            )
        else:
            body = b""

        # Client headers, minus the names the call overrides, then the call's own (Headers.update).
        pairs = self.headers.raw
        if headers:
            own = _header_pairs(headers)
            overridden = {name.lower() for name, _ in own}
            if not all(name.isascii() for name in overridden):
                return None  # httpx2 compares such names after decoding; not worth modelling
            pairs = [pair for pair in pairs if pair[0].lower() not in overridden]
            pairs += own
        present = {name.lower() for name, _ in pairs}

        # Request._prepare: body headers unless set already, then Host and an empty body's length.
        for name, value in body_headers:
            lowered = name.lower()
            if lowered == b"content-length" and b"transfer-encoding" in present:
                continue
            if lowered not in present:
                pairs.append((name, value))
                present.add(lowered)
        auto: list[tuple[bytes, bytes]] = []
        if b"host" not in present and target.host:
            auto.append((b"Host", target.netloc))
        if (
            b"content-length" not in present
            and b"transfer-encoding" not in present
            and method.upper() in _BODY_METHODS
        ):
            auto.append((b"Content-Length", b"0"))

        request = httpx2.Request(
            method,
            target,
            headers=auto + pairs if auto else pairs,
            stream=httpx2.ByteStream(body),
            extensions=exts,
        )
        request.read()  # httpx2 loads in-memory bodies into ``request.content`` up front
        return request

    async def _lean_send(self, request: httpx2.Request) -> httpx2.Response:
        """``AsyncClient.send`` for a plain request: no auth flow, hooks or redirect-following."""
        transport = self._direct_transport()
        assert transport is not None  # checked by _lean_applies
        self._mark_opened()
        start = time.perf_counter()
        try:
            response = await transport.handle_async_request(request)
        except httpx2.RequestError as exc:
            exc.request = request  # what httpx2's request_context does
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.request = request
        response.stream = BoundAsyncStream(response.stream, start=start)
        try:
            if _sets_cookies(response):  # without Set-Cookie there is nothing to extract
                self.cookies.extract_cookies(response)
            response.default_encoding = self._default_encoding
            if _httpx2_log.isEnabledFor(logging.INFO):
                _httpx2_log.info(
                    'HTTP Request: %s %s "%s %d %s"',
                    request.method,
                    request.url,
                    response.http_version,
                    response.status_code,
                    response.reason_phrase,
                )
            response.history = []
            if response.status_code in _REDIRECTS and response.has_redirect_location:
                # Not followed: offered as ``next_request``.
                with contextlib.suppress(httpx2.RemoteProtocolError):
                    response.next_request = self._build_redirect_request(request, response)
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    # -- the httpx2 internals the lean path relies on --------------------------------------
    # httpx2 has no public accessor for the mounts, the transport or the client state (and
    # _lean_send reads ``_default_encoding`` and calls ``_build_redirect_request`` as ``send``
    # does). test_crm_client.py compares both paths and fails if any of them changes meaning.

    def _direct_transport(self) -> httpx2.AsyncBaseTransport | None:
        """The transport every URL goes to, or ``None`` when mounts (proxies) route some."""
        return None if self._mounts else self._transport

    def _mark_opened(self) -> None:
        """What ``send`` records: the client has been used (``async with`` is then refused)."""
        self._state = ClientState.OPENED


def _header_pairs(headers: HeaderTypes) -> list[tuple[bytes, bytes]]:
    """``httpx2.Headers(headers).raw``; the usual ``{str: str}`` dict is encoded directly."""
    if type(headers) is dict:
        try:
            return [
                (name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()
            ]
        except (AttributeError, UnicodeEncodeError):
            pass  # bytes, or something httpx2 has its own error for
    return httpx2.Headers(headers).raw


def _sets_cookies(response: httpx2.Response) -> bool:
    for name, _ in response.headers.raw:
        lowered = name.lower()
        if lowered == b"set-cookie" or lowered == b"set-cookie2":
            return True
    return False


def _query_string(params: QueryParamTypes) -> str | None:
    """The query ``httpx2.URL(url, params=params)`` puts in the URL (``None``: no query)."""
    if not params:
        return None
    if type(params) is dict and all(
        type(name) is str and type(value) is str for name, value in params.items()
    ):
        # What str(QueryParams(params)), i.e. urlencode(params), gives for plain string pairs.
        return "&".join(
            [_quote_plus(name) + "=" + _quote_plus(value) for name, value in params.items()]
        )
    return str(httpx2.QueryParams(params))


# urllib's quote_plus(text, safe="") as a table: unreserved bytes stay, space becomes "+", every
# other byte of the UTF-8 form becomes %XX. urllib calls a function per byte; translate does not.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_QUOTE_PLUS = [
    chr(byte) if byte in _UNRESERVED else "+" if byte == 0x20 else f"%{byte:02X}"
    for byte in range(256)
]


def _quote_plus(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").translate(_QUOTE_PLUS)


# A relative path that httpx2's parser would leave exactly as written: unreserved characters
# and "/", no "//" authority, no "." or ".." segments (the parser removes those).
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9_.~/-]*")


def _join_plain_path(base: httpx2.URL, url: str) -> httpx2.URL | None:
    """``AsyncClient._merge_url(url)`` for a plain relative path such as ``/messages/8031``.

    httpx2 parses ``url``, then the joined path again (two full parses); for a path that needs
    no quoting or normalising the join is plain concatenation. ``None``: take httpx2's route.
    """
    parsed = base._uri_reference  # the parse result (percent-encoded path), as _with_query
    if (
        _PLAIN_PATH.fullmatch(url) is None
        or "/." in url
        or parsed.query is not None
        or parsed.fragment is not None
        or not parsed.path.endswith("/")
    ):
        return None
    joined = httpx2.URL.__new__(httpx2.URL)
    joined._uri_reference = parsed._replace(path=parsed.path + url[1:])
    return joined


def _with_query(url: httpx2.URL, query: str | None) -> httpx2.URL:
    """``httpx2.URL(url, params=...)`` for an already valid ``url``, without re-parsing it.

    ``query`` is urlencode's output (what ``str(QueryParams)`` returns): unreserved characters,
    ``+ = &`` and ``%XX`` escapes only, which httpx2's own query quoting leaves as they are. So
    the parse would only revalidate what ``url`` already holds; swapping the query in httpx2's
    immutable parse result gives the same URL. Long queries take the public route (httpx2's
    length check applies there).
    """
    if query is not None and len(query) > _SHORT_QUERY:
        return httpx2.URL(url, query=query.encode("ascii"))
    merged = httpx2.URL.__new__(httpx2.URL)
    merged._uri_reference = url._uri_reference._replace(query=query)
    return merged
