"""CrmClient (what ``self.http()`` returns) against httpx2: same request, same answer, same errors.

Every case is sent twice over the same recording ``MockTransport``: once through a ``CrmClient``
and once through a plain ``httpx2.AsyncClient`` configured the same way (base URL, headers,
timeout). The method, URL, body, the call's own headers and the timeouts the transport sees must
be identical, and so must what the caller reads back.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDictProxy

from appconnect.crm_client import CrmClient, _query_string
from appconnect.http import DEFAULT_HEADERS, HttpClients, PoliteSender
from appconnect.transport import TransportEngine

BASE = "https://crm.example/api/v2"
Handler = Any


def ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"ok": True, "n": 1})


class Recorder(httpx2.MockTransport):
    """A MockTransport that keeps what it was given, as plain comparable data."""

    def __init__(self, handler: Handler = ok) -> None:
        super().__init__(handler)
        self.seen: list[tuple[Any, ...]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        drop = {"accept-encoding", "user-agent", "connection", "accept"}  # client-wide defaults
        self.seen.append(
            (
                request.method,
                str(request.url),
                sorted((k, v) for k, v in request.headers.multi_items() if k not in drop),
                request.content,
                request.extensions["timeout"]["connect"],
                request.extensions["timeout"]["read"],
            )
        )
        return await super().handle_async_request(request)


def clients(handler: Handler = ok, base_url: str = BASE) -> tuple[CrmClient, Any, Recorder]:
    transport = Recorder(handler)
    headers = {"Unified-CRM-Extension-Version": "9.9.9"}
    ours = CrmClient(
        PoliteSender(TransportEngine(transport)), base_url=base_url, timeout=7.5, headers=headers
    )
    plain = httpx2.AsyncClient(
        base_url=base_url, timeout=7.5, headers=headers, transport=transport
    )
    return ours, plain, transport


async def outcome(client: Any, method: str, url: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """What the caller sees: the response, or the exception raised."""
    try:
        response = await client.request(method, url, **kwargs)
    except Exception as exc:
        return {"raised": type(exc), "message": str(exc)}
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = None
    return {
        "status": response.status_code,
        "headers": sorted(
            (name.lower(), value)
            for name, value in getattr(response.headers, "multi_items", response.headers.items)()
        ),
        "content": response.content,
        "text": response.text,
        "json": parsed,
        "url": str(response.url),
        "success": response.is_success,
    }


async def same_both_ways(
    method: str, url: str, handler: Handler = ok, base_url: str = BASE, **kwargs: Any
) -> None:
    ours, plain, transport = clients(handler, base_url)
    mine = await outcome(ours, method, url, kwargs)
    sent = len(transport.seen)
    theirs = await outcome(plain, method, url, kwargs)
    assert transport.seen[:sent] == transport.seen[sent:]
    assert mine == theirs
    await plain.aclose()


ODD_PARAMS: list[Any] = [
    {"phone": "+16505550001"},
    {"q": "a b", "x": "ü/é?#&=%+~*'()", "": "", "k y": "\u2603"},
    {"q": "a b", "x": "ü/é?#&=%+", "n": 3, "f": 1.5, "t": True, "no": False, "none": None},
    {"ids": ["1", "2", 3], "empty": []},
    [("a", "1"), ("a", "2"), ("b", "")],
    "x=1&y=%2B2&z",
    {},
    "",
]

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/contacts", {"params": {"phone": "+16505550001"}, "headers": {"Authorization": "B"}}),
    ("GET", "/contacts/17", {}),
    ("get", "/contacts/17", {}),
    ("GET", "contacts/17", {}),
    ("GET", "/a?b=1", {"params": {"c": "2"}}),
    ("GET", "/a?b=1", {"params": {}}),
    ("GET", "/a?b=1", {}),
    ("GET", "https://other.example:8443/x", {"params": {"p": "1"}}),
    ("GET", "https://other.example/x?y=1", {}),
    ("HEAD", "/h", {}),
    ("OPTIONS", "/o", {}),
    ("DELETE", "/d/1", {"headers": {"Authorization": "B"}}),
    ("POST", "/activities", {"json": {"subject": "ü", "n": [1, 2.5, None, True]}}),
    ("POST", "/activities", {"json": {"a": 1}, "headers": {"Authorization": "Basic abc"}}),
    ("POST", "/activities", {"json": ""}),
    ("POST", "/activities", {"json": [1, {"b": "\u2028"}]}),
    ("POST", "/activities", {}),
    ("POST", "/activities", {"content": b"raw bytes"}),
    ("POST", "/activities", {"content": "grant_type=x&code=%C3%BC"}),
    ("POST", "/activities", {"content": b""}),
    ("POST", "/token", {"data": {"grant_type": "code", "scope": ["a", "b"], "x": "ü y"}}),
    ("PUT", "/activities/1", {"json": {"body": "x"}}),
    ("PATCH", "/activities/1", {"json": {"body": "x"}, "params": {"v": "2"}}),
    ("POST", "/a", {"json": {"a": 1}, "headers": {"Content-Type": "application/vnd+json"}}),
    ("POST", "/a", {"json": {"a": 1}, "headers": {"content-type": "text/plain"}}),
    ("GET", "/a", {"headers": {"unified-crm-extension-version": "override"}}),
    ("GET", "/a", {"headers": [("X-A", "1"), ("Accept-Language", "fr")]}),
    ("GET", "/a", {"headers": {}}),
    ("GET", "/a", {"headers": [(b"X-Bytes", "é".encode()), (b"Authorization", b"B x")]}),
    ("GET", "/a", {"timeout": 3}),
    ("GET", "/a", {"timeout": None}),
    ("GET", "/a", {"timeout": httpx2.Timeout(1.0, read=4.0)}),
    ("GET", "/a b/ü", {"params": {"p": "1"}}),
    ("GET", "/x#frag", {}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), CASES)
async def test_calls_send_and_return_what_httpx2_would(
    method: str, url: str, kwargs: dict[str, Any]
) -> None:
    await same_both_ways(method, url, **kwargs)


@pytest.mark.parametrize("params", ODD_PARAMS)
async def test_query_params_of_every_shape(params: Any) -> None:
    await same_both_ways("GET", "/contacts?old=1", params=params)


@pytest.mark.parametrize("base", ["https://crm.example", "https://crm.example/", BASE + "/"])
async def test_base_urls_with_and_without_a_path(base: str) -> None:
    await same_both_ways("GET", "/contacts/1", base_url=base)


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx2.Response(302, headers={"Location": "/api/v2/end"}),
        lambda r: httpx2.Response(204),
        lambda r: httpx2.Response(500, text="boom", headers={"X-Many": "1"}),
        lambda r: httpx2.Response(200, headers={"Set-Cookie": "s=secret; Path=/"}),
        lambda r: httpx2.Response(200, stream=httpx2.ByteStream(b"streamed")),
        lambda r: httpx2.Response(200, content=b"\xff\xfe", headers={"X-A": "1"}),
        lambda r: httpx2.Response(200, text="café", headers={"Content-Type": "text/plain"}),
        lambda r: httpx2.Response(200, content=b"caf\xe9", headers={"Content-Type": "text/x; charset=latin-1"}),  # noqa: E501
    ],
)
async def test_responses_are_handed_back_the_same(handler: Handler) -> None:
    await same_both_ways("GET", "/start", handler=handler)


async def test_headers_are_one_type_whichever_engine_answers() -> None:
    ours, _, _ = clients(lambda r: httpx2.Response(200, headers=[("X-A", "1"), ("x-a", "2")]))
    response = await ours.get("/a")
    assert isinstance(response.headers, CIMultiDictProxy)  # as on the aiohttp engine
    assert response.headers.getall("x-a") == ["1", "2"] and response.headers["X-A"] == "1"


async def test_raise_for_status_raises_httpx2s_error_with_the_response() -> None:
    ours, _, _ = clients(lambda r: httpx2.Response(404, json={"e": "missing"}))
    response = await ours.get("/contacts/9")
    with pytest.raises(httpx2.HTTPStatusError) as caught:
        response.raise_for_status()
    assert caught.value.response is response
    assert caught.value.response.status_code == 404
    assert "404 Not Found" in str(caught.value)
    ok_response = await clients()[0].get("/a")
    assert ok_response.raise_for_status() is ok_response


async def test_transport_errors_carry_the_request() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")  # raised without a request, as transports may

    ours, plain, _ = clients(refuse)
    for client in (ours, plain):
        with pytest.raises(httpx2.ConnectError) as caught:
            await client.post("/a", json={})
        assert caught.value.request.url == "https://crm.example/api/v2/a"
    await plain.aclose()


async def test_features_it_does_not_offer_are_refused_loudly() -> None:
    ours, _, transport = clients()
    for kwargs in ({"auth": ("u", "p")}, {"files": {"f": b"x"}}, {"follow_redirects": True}):
        with pytest.raises(TypeError):
            await ours.request("POST", "/a", **kwargs)
    with pytest.raises(TypeError, match="only one of"):
        await ours.post("/a", json={}, content=b"x")
    with pytest.raises(ValueError, match="relative URL"):
        await CrmClient(ours._send).get("/a")
    assert transport.seen == []


async def test_throttled_read_is_retried_and_writes_are_not() -> None:
    calls: list[str] = []

    def throttle_once(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        if len(calls) % 2 == 1:
            return httpx2.Response(429, headers={"Retry-After": "0"})
        return httpx2.Response(200, json={"ok": True})

    pool = HttpClients(transport=httpx2.MockTransport(throttle_once))
    response = await pool.client(BASE).get("/contacts", params={"phone": "+1"})
    assert response.json() == {"ok": True} and calls == ["GET", "GET"]
    assert response.request.headers["Unified-CRM-Extension-Version"]
    assert (await pool.client(BASE).post("/activities", json={})).status_code == 429
    assert calls == ["GET", "GET", "POST"]
    await pool.aclose()


async def test_default_headers_are_appconnects_and_calls_override_them() -> None:
    seen: list[httpx2.Headers] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return httpx2.Response(200)

    pool = HttpClients(transport=httpx2.MockTransport(handler))
    client = pool.client(BASE)
    await client.get("/a")
    await client.get("/a", headers={"accept": "application/json"})
    assert seen[0]["user-agent"] == DEFAULT_HEADERS["User-Agent"]
    assert seen[0]["accept"] == "*/*"
    assert seen[1].get_list("accept") == ["application/json"]
    assert client.headers == DEFAULT_HEADERS
    await pool.aclose()


# -- the URL and query building, against httpx2's own ----------------------------------------

_SEGMENT = st.text(alphabet="abcXYZ019-._~", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)


@given(
    base=st.sampled_from(["https://crm.example", "https://crm.example/api/v2", "http://h:8080/x/"]),
    path=st.lists(_SEGMENT, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
)
def test_relative_paths_join_as_httpx2s_merge(base: str, path: str) -> None:
    ours = CrmClient(lambda r: None, base_url=base)  # type: ignore[arg-type,return-value]
    theirs = httpx2.AsyncClient(base_url=base)
    assert ours.url_for(path) == str(theirs.build_request("GET", path).url)


_TEXT = st.text(max_size=12)


@given(
    params=st.dictionaries(
        _TEXT,
        st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), st.lists(_TEXT, max_size=3)),
        max_size=5,
    )
)
def test_query_strings_equal_httpx2s(params: dict[str, Any]) -> None:
    assert _query_string(params) == str(httpx2.QueryParams(params))
