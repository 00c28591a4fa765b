"""CrmClient's lean request path against httpx2's own: same request on the wire, same response.

Every case is sent twice over the same recording transport: once through a ``CrmClient`` (which
takes its shortcut when it can) and once through a plain ``httpx2.AsyncClient`` configured the
same way. Whatever either of them hands the transport, and whatever it hands back to the caller,
must be identical. A counter proves the shortcut was really taken where it should be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from appconnect.crm_client import CrmClient, _query_string, _quote_plus, _with_query
from appconnect.http import HttpClients, _NoCookies

BASE = "https://crm.example/api/v2"
VERSION = {"Unified-CRM-Extension-Version": "9.9.9"}

Handler = Callable[[httpx2.Request], httpx2.Response]


def ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"ok": True, "n": 1})


class Recorder(httpx2.MockTransport):
    """A MockTransport that keeps what it was given, as plain comparable data."""

    def __init__(self, handler: Handler = ok) -> None:
        super().__init__(handler)
        self.seen: list[tuple[Any, ...]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            loaded_up_front: Any = request.content
        except httpx2.RequestNotRead:
            loaded_up_front = None
        await request.aread()
        self.seen.append(
            (
                loaded_up_front,
                request.method,
                str(request.url),
                request.headers.raw,
                request.content,
                request.extensions,
                type(request.stream),
            )
        )
        return await super().handle_async_request(request)


def clients(
    handler: Handler = ok, **options: Any
) -> tuple[CrmClient, httpx2.AsyncClient, Recorder]:
    transport = Recorder(handler)
    settings: dict[str, Any] = {
        "base_url": BASE,
        "timeout": 7.5,
        "headers": VERSION,
        "transport": transport,
        **options,
    }
    lean = CrmClient(**settings, cookies=CookieJar(policy=_NoCookies()))
    plain = httpx2.AsyncClient(**settings, cookies=CookieJar(policy=_NoCookies()))
    return lean, plain, transport


def snapshot(response: httpx2.Response) -> dict[str, Any]:
    try:
        elapsed: Any = response.elapsed is not None
    except RuntimeError as exc:
        elapsed = str(exc)
    return {
        "status": response.status_code,
        "headers": response.headers.raw,
        "content": response.content,
        "history": [(past.status_code, str(past.url)) for past in response.history],
        "next": None if response.next_request is None else str(response.next_request.url),
        "closed": response.is_closed,
        "consumed": response.is_stream_consumed,
        "encoding": response.default_encoding,
        "version": response.http_version,
        "reason": response.reason_phrase,
        "stream": type(response.stream),
        "elapsed": elapsed,
        "url": str(response.url),
        "downloaded": response.num_bytes_downloaded,
    }


@pytest.fixture
def lean_sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records each request that went through the shortcut."""
    taken: list[str] = []
    original = CrmClient._lean_send

    async def spy(self: CrmClient, request: httpx2.Request) -> httpx2.Response:
        taken.append(request.method)
        return await original(self, request)

    monkeypatch.setattr(CrmClient, "_lean_send", spy)
    yield taken


async def same_both_ways(
    method: str, url: Any, handler: Handler = ok, client_options: Any = None, **kwargs: Any
) -> None:
    lean, plain, transport = clients(handler, **(client_options or {}))
    mine = await outcome(lean, method, url, kwargs)
    sent = len(transport.seen)
    theirs = await outcome(plain, method, url, kwargs)
    assert transport.seen[:sent] == transport.seen[sent:]
    assert mine == theirs


async def outcome(
    client: httpx2.AsyncClient, method: str, url: Any, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """What the caller sees: the response and its request, or the exception raised."""
    try:
        response = await client.request(method, url, **kwargs)
    except Exception as exc:
        return {"raised": type(exc), "message": str(exc)}
    return {
        **snapshot(response),
        "sent": (response.request.method, response.request.headers.raw, response.request.content),
    }


ODD_PARAMS: list[Any] = [
    {"phone": "+16505550001"},
    {"q": "a b", "x": "ü/é?#&=%+~*'()", "": "", "k y": "\u2603"},
    {"q": "a b", "x": "ü/é?#&=%+", "n": 3, "f": 1.5, "t": True, "no": False, "none": None},
    {"ids": ["1", "2", 3], "empty": []},
    [("a", "1"), ("a", "2"), ("b", "")],
    "x=1&y=%2B2&z",
    httpx2.QueryParams({"k": "v"}),
    {},
    "",
]

CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("GET", "/contacts", {"params": {"phone": "+16505550001"}, "headers": {"Authorization": "B"}}),
    ("GET", "/contacts/17", {}),
    ("get", "/contacts/17", {}),
    ("GET", "/a?b=1", {"params": {"c": "2"}}),
    ("GET", "/a?b=1", {"params": {}}),
    ("GET", "/a?b=1", {}),
    ("GET", "/x#frag", {"params": {"p": "1"}}),
    ("GET", "/a b/ü", {"params": {"p": "1"}}),
    ("GET", "https://other.example:8443/x", {"params": {"p": "1"}}),
    ("GET", "http://[::1]:8080/x", {"params": {"p": "1"}}),
    ("GET", "https://bücher.example/x", {}),
    ("GET", httpx2.URL("https://crm.example/u"), {"params": {"p": "1"}}),
    ("HEAD", "/h", {}),
    ("OPTIONS", "/o", {}),
    ("DELETE", "/d/1", {"headers": {"Authorization": "B"}}),
    ("POST", "/activities", {"json": {"subject": "ü", "n": [1, 2.5, None, True]}}),
    ("POST", "/activities", {"json": {"a": 1}, "headers": {"Authorization": "Basic abc"}}),
    ("POST", "/activities", {"json": 0}),
    ("POST", "/activities", {"json": ""}),
    ("POST", "/activities", {}),
    ("POST", "/activities", {"content": b"raw bytes"}),
    ("POST", "/activities", {"content": "grant_type=x&code=%C3%BC"}),
    ("POST", "/activities", {"content": b""}),
    ("PUT", "/activities/1", {"json": {"body": "x"}}),
    ("PATCH", "/activities/1", {"json": {"body": "x"}, "params": {"v": "2"}}),
    ("QUERY", "/search", {}),
    ("POST", "/a", {"json": {"a": 1}, "headers": {"Content-Type": "application/vnd+json"}}),
    ("POST", "/a", {"json": {"a": 1}, "headers": {"content-length": "7"}}),
    ("POST", "/a", {"json": {"a": 1}, "headers": {"Transfer-Encoding": "chunked"}}),
    ("POST", "/a", {"headers": {"Transfer-Encoding": "chunked"}}),
    ("GET", "/a", {"headers": {"accept": "application/json", "USER-AGENT": "me"}}),
    ("GET", "/a", {"headers": {"Host": "virtual.example"}}),
    ("GET", "/a", {"headers": [("X-A", "1"), ("x-a", "2"), ("Accept", "a/b")]}),
    ("GET", "/a", {"headers": httpx2.Headers({"X-Raw": "1"})}),
    ("GET", "/a", {"headers": {b"X-Bytes": b"\xe9t\xe9"}}),
    ("GET", "/a", {"headers": {}}),
    ("GET", "/a", {"timeout": 3}),
    ("GET", "/a", {"timeout": None}),
    ("GET", "/a", {"timeout": httpx2.Timeout(1.0, read=4.0)}),
    ("GET", "/a", {"extensions": {"timeout": {"connect": 1, "read": 2, "write": 3, "pool": 4}}}),
    ("GET", "/a", {"extensions": {"trace": None}}),
    ("GET", "/a", {"auth": None}),
    ("GET", "/a", {"follow_redirects": False}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), CASES)
async def test_lean_path_sends_and_returns_what_httpx2_would(
    method: str, url: Any, kwargs: dict[str, Any], lean_sends: list[str]
) -> None:
    await same_both_ways(method, url, **kwargs)
    assert lean_sends == [method.upper()]  # the shortcut was taken, once


@pytest.mark.parametrize("params", ODD_PARAMS)
async def test_query_params_of_every_shape(params: Any, lean_sends: list[str]) -> None:
    await same_both_ways("GET", "/contacts?old=1", params=params)
    assert lean_sends == ["GET"]


@pytest.mark.parametrize(
    "headers",
    [{"X-Int": 1}, {"X-U": "é"}, {"X-Ü": "1"}, {"X-N": None}, {1: "x"}, {"X-A": "1", "X-B": b"2"}],
)
async def test_bad_headers_fail_as_in_httpx2(headers: Any) -> None:
    await same_both_ways("GET", "/a", headers=headers)


def redirect(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith("/start"):
        return httpx2.Response(302, headers={"Location": "/api/v2/end"})
    return httpx2.Response(200, text="end")


@pytest.mark.parametrize(
    ("handler", "kwargs"),
    [
        (redirect, {}),  # a redirect that is not followed is offered as next_request
        (lambda r: httpx2.Response(302, headers={"Location": "http://["}), {}),  # unusable
        (lambda r: httpx2.Response(204), {}),
        (lambda r: httpx2.Response(429, headers={"Retry-After": "0"}), {"method": "POST"}),
        (lambda r: httpx2.Response(500, text="boom", headers={"X-Many": "1"}), {}),
        (lambda r: httpx2.Response(200, headers={"Set-Cookie": "s=secret; Path=/"}), {}),
        (lambda r: httpx2.Response(200, stream=httpx2.ByteStream(b"streamed")), {}),
        (lambda r: httpx2.Response(200, content=b"\xff\xfe", headers={"X-A": "1"}), {}),
        (lambda r: httpx2.Response(200, history=[httpx2.Response(301)]), {}),
        *[
            (lambda r, code=code: httpx2.Response(code, headers={"Location": "/x"}), {})
            for code in (300, 301, 303, 304, 307, 308)
        ],
    ],
)
async def test_responses_are_handed_back_the_same(
    handler: Handler, kwargs: dict[str, Any], lean_sends: list[str]
) -> None:
    await same_both_ways(kwargs.pop("method", "GET"), "/start", handler=handler, **kwargs)
    assert len(lean_sends) == 1


async def test_default_encoding_and_elapsed_follow_the_client(lean_sends: list[str]) -> None:
    await same_both_ways(
        "GET",
        "/a",
        handler=lambda r: httpx2.Response(200, content=b"caf\xe9"),
        client_options={"default_encoding": "latin-1"},
    )
    lean, _, _ = clients(
        lambda r: httpx2.Response(200, content=b"caf\xe9"), default_encoding="latin-1"
    )
    assert (await lean.get("/a")).text == "café"
    assert len(lean_sends) == 2


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ({"auth": ("user", "pass")}, {}),
        ({}, {"auth": ("user", "pass")}),
        ({}, {"url": "https://user:pass@crm.example/x"}),
        ({"event_hooks": {"request": [lambda r: asyncio.sleep(0)]}}, {}),
        ({"event_hooks": {"response": [lambda r: asyncio.sleep(0)]}}, {}),
        ({"follow_redirects": True}, {}),
        ({}, {"follow_redirects": True}),
        ({"params": {"client": "1"}}, {}),
        ({"max_redirects": -1}, {}),
        ({"mounts": {"https://other.example": httpx2.MockTransport(ok)}}, {}),
        ({}, {"data": {"a": "1"}}),
        ({"headers": {"Content-Type": "multipart/form-data; boundary=b"}}, {"files": {"f": b"x"}}),
        ({}, {"content": iter([b"a", b"b"])}),
        ({}, {"headers": {"X-Ü": "1"}.items()}),
    ],
)
async def test_features_the_shortcut_does_not_model_go_to_httpx2(
    options: dict[str, Any], kwargs: dict[str, Any], lean_sends: list[str]
) -> None:
    url = kwargs.pop("url", "/start")
    headers = kwargs.pop("headers", None)
    if headers is not None:
        kwargs["headers"] = [(k.encode("utf-8"), v.encode()) for k, v in headers]
    await same_both_ways("POST", url, handler=redirect, client_options=options, **kwargs)
    assert lean_sends == []


async def test_client_cookies_and_per_request_cookies_go_to_httpx2(lean_sends: list[str]) -> None:
    lean, plain, transport = clients()
    for client in (lean, plain):
        client.cookies = httpx2.Cookies({"session": "s"})
        await client.get("/a")
    assert transport.seen[0] == transport.seen[1]
    with pytest.warns(DeprecationWarning):
        await lean.get("/a", cookies={"c": "1"})
    assert lean_sends == []


async def test_transport_errors_carry_the_request(lean_sends: list[str]) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")  # raised without a request, as transports may

    lean, plain, _ = clients(refuse)
    for client in (lean, plain):
        with pytest.raises(httpx2.ConnectError) as caught:
            await client.post("/a", json={})
        assert caught.value.request.url == "https://crm.example/api/v2/a"
    assert lean_sends == ["POST"]


async def test_closed_and_opened_states_behave_as_in_httpx2(lean_sends: list[str]) -> None:
    lean, plain, _ = clients()
    for client in (lean, plain):
        await client.get("/a")
        with pytest.raises(RuntimeError, match="more than once"):
            async with client:
                pass
        await client.aclose()
        with pytest.raises(RuntimeError, match="client has been closed"):
            await client.get("/a")
    assert lean_sends == ["GET"]


async def test_reassigning_base_url_is_seen_by_the_url_memo() -> None:
    lean, _, transport = clients()
    await lean.get("/x")
    lean.base_url = "https://moved.example/v3"
    await lean.get("/x")
    assert [seen[2] for seen in transport.seen] == [
        "https://crm.example/api/v2/x",
        "https://moved.example/v3/x",
    ]


async def test_client_header_changes_are_seen(lean_sends: list[str]) -> None:
    lean, plain, transport = clients()
    for client in (lean, plain):
        client.headers["X-Tenant"] = "t1"
        del client.headers["Accept"]
        await client.get("/a")
    assert transport.seen[0] == transport.seen[1]
    assert lean_sends == ["GET"]


async def test_throttled_read_is_retried_through_the_shortcut(lean_sends: list[str]) -> None:
    calls: list[str] = []

    def throttle_once(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        if len(calls) == 1:
            return httpx2.Response(429, headers={"Retry-After": "0"})
        return httpx2.Response(200, json={"ok": True})

    pool = HttpClients(transport=httpx2.MockTransport(throttle_once))
    response = await pool.client(BASE).get("/contacts", params={"phone": "+1"})
    assert response.json() == {"ok": True} and calls == ["GET", "GET"]
    assert response.request.headers["Unified-CRM-Extension-Version"]
    assert lean_sends == ["GET"]
    await pool.aclose()


# -- the httpx2 internals the shortcut relies on ------------------------------------------


def test_httpx2_internals_transport_and_mounts() -> None:
    transport = httpx2.MockTransport(ok)
    assert CrmClient(transport=transport)._direct_transport() is transport
    mounted = CrmClient(transport=transport, mounts={"https://x.example": transport})
    assert mounted._direct_transport() is None


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example/api/v2/contacts",
        "https://crm.example/api/v2/contacts?old=1#frag",
        "http://[::1]:8080/a%20b/%C3%BC",
        "https://xn--bcher-kva.example/x",
        "https://user@crm.example:444/x/",
    ],
)
@pytest.mark.parametrize("params", ODD_PARAMS)
def test_httpx2_internals_query_shortcut_matches_httpx2(url: str, params: Any) -> None:
    base = httpx2.URL(url)
    mine, theirs = _with_query(base, _query_string(params)), httpx2.URL(base, params=params)
    assert mine == theirs and str(mine) == str(theirs)
    assert mine.raw_path == theirs.raw_path and mine.query == theirs.query


def test_long_queries_take_httpx2s_route() -> None:
    base = httpx2.URL("https://crm.example/x")
    params = {"q": "x" * 5000}
    assert _with_query(base, str(httpx2.QueryParams(params))) == httpx2.URL(base, params=params)
    with pytest.raises(httpx2.InvalidURL):
        _with_query(base, "q=" + "x" * 70_000)


def test_query_quoting_matches_urllib() -> None:
    import random
    from urllib.parse import quote_plus, urlencode

    rng = random.Random(7)
    alphabet = [chr(i) for i in range(128)] + ["é", "ü", "☃", "𝄞", "\u2028", "\x00"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _quote_plus(text) == quote_plus(text)
        params = {text: text[::-1], "phone": "+1 (650) 555-0001"}
        assert _query_string(params) == urlencode(params) == str(httpx2.QueryParams(params))


_BASES = [
    "https://crm.example/api/v2",
    "https://crm.example",
    "http://127.0.0.1:7070/",
    "https://crm.example/a%20b/",
    "https://crm.example/é/",
    "https://crm.example/api?x=1",
    "https://crm.example/api#f",
    "https://user:pw@crm.example/x",
]


@given(
    base=st.sampled_from(_BASES),
    path=st.text(alphabet="/.-_~abZ09 %?#:;é", max_size=12).map(lambda p: "/" + p),
)
def test_plain_path_join_equals_httpx2s_merge(base: str, path: str) -> None:
    from appconnect.crm_client import _join_plain_path

    client = httpx2.AsyncClient(base_url=base)
    joined = _join_plain_path(client.base_url, path)
    if joined is not None:
        reference = httpx2.AsyncClient._merge_url(client, path)
        assert joined._uri_reference == reference._uri_reference
        assert str(joined) == str(reference)


def test_plain_path_join_is_taken_for_id_paths_and_not_for_odd_ones() -> None:
    from appconnect.crm_client import _join_plain_path

    base = httpx2.URL("https://crm.example/api/v2/")
    assert str(_join_plain_path(base, "/messages/8031-a.b")) == (
        "https://crm.example/api/v2/messages/8031-a.b"
    )
    for odd in ("/a b", "/a/../b", "//evil/x", "/x?y=1", "/é", "messages/1"):
        assert _join_plain_path(base, odd) is None
