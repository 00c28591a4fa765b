"""The HTTP client connectors get from ``self.http()``: a small API of our own over aiohttp.

A connector call is a JSON body or a few query params plus a per-call ``Authorization`` header.
:class:`CrmClient` offers exactly that, with the httpx-style surface connectors already use
(``get/post/put/patch/delete/head/options/request`` taking ``params``, ``json``, ``content``,
``data``, ``headers``, ``timeout``; a :class:`CrmResponse` with ``status_code``, ``headers``,
``content``, ``text``, ``json()``, ``raise_for_status()``), and the same exceptions
(``httpx2.HTTPStatusError``, ``httpx2.ConnectTimeout``, ``httpx2.ReadTimeout``,
``httpx2.ConnectError``...). Underneath, requests go straight to aiohttp's pool
(:mod:`appconnect.transport`); in tests, to the ``httpx2`` transport given to
``create_app(http_transport=...)`` (``httpx2.MockTransport``), through its public
``handle_async_request``.

Why not ``httpx2.AsyncClient``: on the bench, httpx2's request, URL, header and response objects
cost more CPU per CRM call than aiohttp's whole client (``bench/http_micro.py``); only
private httpx2 internals made it cheaper, and those may change in any release. Only public
APIs of httpx2 and aiohttp are used here.
"""

from __future__ import annotations

import functools
import json as _json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx2
import orjson

# httpx2 (and so connectors until now) serialised ``json=`` with json.dumps(ensure_ascii=False,
# separators=(",", ":"), allow_nan=False): the same bytes as JSON.stringify for JSON values.
_JSON = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ABSOLUTE = ("http://", "https://")
_DEFAULT: Any = object()  # "the client's timeout"
# RFC 3986 unreserved and reserved characters plus "%": a URL made of these only needs no quoting.
URL_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)
_ERROR_KINDS = {
    1: "Informational response",
    3: "Redirect response",
    4: "Client error",
    5: "Server error",
}  # and the message below: as httpx2 words them, for connectors that log or match them
_STATUS_DOCS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/"

HeaderInput = Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[str | bytes, str | bytes]]


class CrmRequest:
    """One outbound request as sent: method, absolute URL, headers, body and timeouts."""

    __slots__ = ("connect_timeout", "content", "headers", "method", "read_timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.content = content
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def __repr__(self) -> str:
        return f"<CrmRequest [{self.method}] {self.url}>"


class CrmResponse:
    """A CRM's answer, read in full: the parts of ``httpx2.Response`` connectors use.

    ``headers`` is a case-insensitive multi-mapping (``multidict.CIMultiDictProxy``, the same
    type whichever engine answered): ``headers["content-type"]``, ``.get(...)``, ``.getall(...)``.
    """

    __slots__ = ("content", "headers", "request", "status_code")

    def __init__(self, status_code: int, headers: Any, content: bytes, request: CrmRequest) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request

    def __repr__(self) -> str:
        return f"<CrmResponse [{self.status_code}]>"

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def reason_phrase(self) -> str:
        return _reason(self.status_code)

    @property
    def http_version(self) -> str:
        return "HTTP/1.1"

    @property
    def encoding(self) -> str:
        """The charset of ``Content-Type``, else UTF-8 (httpx2's default)."""
        kind = self.headers.get("content-type", "")
        for part in kind.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("'\"")
                try:
                    "".encode(charset)
                except LookupError:
                    break
                return charset
        return "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (``json.JSONDecodeError``, a ``ValueError``, when it is not)."""
        if not kwargs:
            try:
                return orjson.loads(self.content)
            except orjson.JSONDecodeError:
                pass  # let json.loads decide: it takes NaN and huge integers, or raises its own
        return _json.loads(self.content, **kwargs)

    def read(self) -> bytes:
        return self.content

    async def aread(self) -> bytes:
        return self.content

    async def aclose(self) -> None:
        """Nothing to release: the body was read in full and the connection went back."""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def is_client_error(self) -> bool:
        return 400 <= self.status_code < 500

    @property
    def is_server_error(self) -> bool:
        return 500 <= self.status_code < 600

    @property
    def is_error(self) -> bool:
        return 400 <= self.status_code < 600

    def raise_for_status(self) -> CrmResponse:
        """Raise ``httpx2.HTTPStatusError`` for a non-2xx answer (as httpx2 does); else ``self``."""
        if self.is_success:
            return self
        kind = _ERROR_KINDS.get(self.status_code // 100, "Invalid status code")
        message = f"{kind} '{self.status_code} {self.reason_phrase}' for url '{self.url}'\n"
        if self.is_redirect:
            message += f"Redirect location: '{self.headers['location']}'\n"
        message += f"For more information check: {_STATUS_DOCS}{self.status_code}"
        raise status_error(message, self)


class Sender(Protocol):
    """What sends a request: the pool's polite sender (aiohttp, or a test transport)."""

    def __call__(self, request: CrmRequest) -> Awaitable[CrmResponse]: ...


class CrmClient:
    """What ``Connector.http()`` returns: a pooled client for one CRM base URL. Never close it.

    Relative URLs (``"/contacts"``) are joined to ``base_url`` as httpx2 did (the base's path
    always ends in ``/``); absolute ones are sent as they are. Every request carries the
    client's default headers (the ``Unified-CRM-Extension-Version`` header, ``Accept``,
    ``User-Agent``), overridden case-insensitively by the call's ``headers``. ``params`` replaces
    the URL's own query. Timeouts are in seconds (``None``: wait forever).
    """

    __slots__ = ("_base", "_headers", "_lowered", "_send", "_timeout", "base_url")

    def __init__(
        self,
        send: Sender | Callable[[CrmRequest], Awaitable[CrmResponse]],
        *,
        base_url: str = "",
        timeout: float | None = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._send = send
        self.base_url = base_url
        base = base_url.split("#", 1)[0].split("?", 1)[0]
        if base and base.count("/") < 3:
            base += "/"  # "https://crm.example" has the path "/"
        self._base = base if base.endswith("/") else base + "/"
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._lowered = {name.lower() for name in self._headers}

    @property
    def headers(self) -> Mapping[str, str]:
        """The default headers every request of this client carries (read-only)."""
        return dict(self._headers)

    @property
    def timeout(self) -> float | None:
        return self._timeout

    def url_for(self, url: str, params: Any = None) -> str:
        """The absolute URL a request to ``url`` (relative or absolute) with ``params`` goes to."""
        if "#" in url:
            url = url.split("#", 1)[0]  # a fragment is never sent
        if not url.startswith(_ABSOLUTE):
            if not self.base_url:
                raise ValueError(f"relative URL {url!r} on a client without base_url")
            url = self._base + url.lstrip("/")
        if params is not None:
            url = url.split("?", 1)[0]  # params replace the URL's own query
            query = _query_string(params)
            if query:
                url = url + "?" + query
        if not URL_SAFE.issuperset(url):
            url = str(httpx2.URL(url))  # spaces, non-ASCII...: percent-encoded as httpx2 does
        return url

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: HeaderInput | None = None,
        timeout: Any = _DEFAULT,
    ) -> Awaitable[CrmResponse]:
        """Send a request and read the answer in full (the awaitable gives a :class:`CrmResponse`).

        The body is one of ``json`` (sent as ``application/json``), ``content`` (bytes or text,
        as given) or ``data`` (a form, sent as ``application/x-www-form-urlencoded``).
        ``timeout`` (seconds, or a ``(connect, read)`` pair) overrides the client's for one call.
        """
        body, kind = _body(json, content, data)
        sent = self._headers
        if headers:
            sent = self._merge(headers)
        if kind is not None and "content-type" not in self._lowered_of(sent):
            sent = {**sent, "Content-Type": kind}
        if timeout is _DEFAULT:
            connect = read = self._timeout
        elif isinstance(timeout, tuple):
            connect, read = timeout
        elif isinstance(timeout, httpx2.Timeout):
            connect, read = timeout.connect, timeout.read
        else:
            connect = read = timeout
        request = CrmRequest(method.upper(), self.url_for(url, params), sent, body, connect, read)
        return self._send(request)

    def _merge(self, headers: HeaderInput) -> dict[str, str]:
        own = [
            (_text(name, "latin-1"), _text(value, "utf-8"))
            for name, value in (headers.items() if isinstance(headers, Mapping) else headers)
        ]
        overridden = {name.lower() for name, _ in own}
        merged = {k: v for k, v in self._headers.items() if k.lower() not in overridden}
        for name, value in own:
            merged[name] = value
        return merged

    def _lowered_of(self, headers: dict[str, str]) -> set[str]:
        if headers is self._headers:
            return self._lowered
        return {name.lower() for name in headers}

    def get(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("OPTIONS", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("DELETE", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Awaitable[CrmResponse]:
        return self.request("PATCH", url, **kwargs)


def status_error(message: str, response: CrmResponse) -> httpx2.HTTPStatusError:
    """``httpx2.HTTPStatusError`` for ``response`` (``.request`` and ``.response`` are ours)."""
    return httpx2.HTTPStatusError(
        message,
        request=response.request,  # type: ignore[arg-type]
        response=response,  # type: ignore[arg-type]
    )


def _text(value: str | bytes, encoding: str) -> str:
    """A header name or value as text (bytes: names Latin-1, values UTF-8, as httpx read them)."""
    if isinstance(value, bytes):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return str(value)


@functools.lru_cache(maxsize=128)
def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _body(
    json: Any, content: bytes | str | None, data: Mapping[str, Any] | None
) -> tuple[bytes, str | None]:
    if json is not None:
        if content is not None or data is not None:
            raise TypeError("pass only one of json, content and data")
        return _JSON.encode(json).encode("utf-8"), "application/json"
    if content is not None:
        if data is not None:
            raise TypeError("pass only one of json, content and data")
        if isinstance(content, str):
            return content.encode("utf-8"), None
        if isinstance(content, bytes | bytearray | memoryview):
            return bytes(content), None
        raise TypeError("content must be bytes or str")
    if data is not None:
        return urlencode(data, doseq=True).encode("ascii"), "application/x-www-form-urlencoded"
    return b"", None


def _query_string(params: Any) -> str:
    """``params`` as a query string: a dict or pairs (lists repeat the key), or a ready string."""
    if isinstance(params, str | bytes):
        return str(httpx2.QueryParams(params))  # a ready query, normalised as httpx2 did
    items = params.items() if isinstance(params, Mapping) else params
    parts = []
    for name, value in items:
        values = value if isinstance(value, list | tuple) else (value,)
        for one in values:
            parts.append(_quote_plus(str(name)) + "=" + _quote_plus(_param_text(one)))
    return "&".join(parts)


def _param_text(value: Any) -> str:
    """As httpx2 wrote parameter values: ``true``/``false``, ``""`` for ``None``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


# urllib's quote_plus(text, safe="") as a table: unreserved bytes stay, space becomes "+", every
# other byte of the UTF-8 form becomes %XX. urllib calls a function per byte; translate does not.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_QUOTE_PLUS = [
    chr(byte) if byte in _UNRESERVED else "+" if byte == 0x20 else f"%{byte:02X}"
    for byte in range(256)
]


def _quote_plus(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").translate(_QUOTE_PLUS)
