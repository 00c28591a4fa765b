"""Bounded input: body limits enforced while reading, parsers that cannot recurse without
bound, and no 500 on any input. In-process over ASGI (the 600 MB uploads against a real server
are in tests/e2e/test_bounded_server.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appconnect.app import build_router
from appconnect.body_limit import DEFAULT_LIMIT, SMALL_LIMIT

from ._call_log_helpers import Harness, log_body, running_app

ROUTES = sorted(
    (method, route.path)
    for route in build_router().routes
    if isinstance(route, APIRoute)
    for method in route.methods
    if method not in ("GET", "HEAD")
    # mcp.md §4.3: without RINGCENTRAL_MCP_CLIENT_ID the spec answers 500 "not configured"
    # to every request (tests/api/test_mcp.py::test_shim_without_a_client_id).
    and route.path != "/oauth/register"
)


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url) as harness:
        yield harness


async def _stream(total: int, piece: int = 64 * 1024) -> AsyncIterator[bytes]:
    chunk = b" " * piece
    for _ in range(total // piece):
        yield chunk


async def test_a_declared_length_over_the_limit_is_refused_unread(h: Harness) -> None:
    auth = await h.login()
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        async for chunk in _stream(2 * SMALL_LIMIT):
            sent.append(len(chunk))
            yield chunk

    response = await h.client.post(
        "/callLog/cacheNote",
        content=body(),
        headers={**auth, "Content-Length": str(2 * SMALL_LIMIT)},
    )

    assert (response.status_code, response.text) == (413, "request entity too large")
    assert response.headers["content-type"].startswith("text/plain")
    assert sum(sent) < SMALL_LIMIT  # refused on the header, not after reading the body


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(h: Harness) -> None:
    auth = await h.login()
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in _stream(8 * SMALL_LIMIT):
            pulled += len(chunk)
            yield chunk

    response = await h.client.post("/callLog/cacheNote", content=body(), headers=auth)

    assert (response.status_code, response.text) == (413, "request entity too large")
    assert pulled <= SMALL_LIMIT + 64 * 1024  # reading stopped at the limit
    assert h.crm.requests == []


async def test_a_body_under_the_limit_still_works_streamed(h: Harness) -> None:
    auth = await h.login()

    async def body() -> AsyncIterator[bytes]:
        yield b'{"sessionId": "s-1", '
        yield b'"note": "streamed"}'

    response = await h.client.post(
        "/callLog/cacheNote",
        content=body(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.json() == {"successful": True, "returnMessage": "Note cache saved"}
    assert DEFAULT_LIMIT > SMALL_LIMIT


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/xml", b"<a>" * 100_000 + b"x" + b"</a>" * 100_000),
        ("application/xml", b"<a>" * 65 + b"</a>" * 65),
        ("application/xml", b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'),
        ("application/xml", b"<a><b>unclosed</a>"),
        ("application/json", b"[" * 100_000 + b"]" * 100_000),
        ("application/json", b'{"a":' * 65 + b"1" + b"}" * 65),
        ("application/json", b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}"),
        ("application/x-www-form-urlencoded", b"a=%ZZ&&=&b"),
    ],
)
async def test_deep_or_malformed_bodies_are_a_clear_400(
    h: Harness, content_type: str, body: bytes
) -> None:
    auth = await h.login()
    for path in ("/callLog", "/messageLog", "/apiKeyLogin"):
        response = await h.client.post(
            path, content=body, headers={**auth, "Content-Type": content_type}
        )
        assert response.status_code < 500, (path, response.status_code, response.text[:200])
        if content_type != "application/x-www-form-urlencoded":
            assert response.status_code == 400, (path, response.text[:200])


async def test_xml_within_the_depth_limit_is_parsed(h: Harness) -> None:
    auth = await h.login()
    nested = b"<r><sessionId>s-1</sessionId><note>" + b"<p>" * 50 + b"x" + b"</p>" * 50
    response = await h.client.post(
        "/callLog/cacheNote",
        content=nested + b"</note></r>",
        headers={**auth, "Content-Type": "application/xml"},
    )
    assert response.status_code == 200


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_bodies = st.one_of(
    st.binary(max_size=200).map(lambda b: ("application/json", b)),
    st.binary(max_size=200).map(lambda b: ("application/xml", b)),
    st.binary(max_size=200).map(lambda b: ("application/x-www-form-urlencoded", b)),
    _json.map(lambda v: ("application/json", httpx2.Request("POST", "/", json=v).content)),
    st.builds(
        lambda body, key, value: (
            "application/json",
            httpx2.Request("POST", "/", json={**body, key: value}).content,
        ),
        st.just(log_body()),
        st.sampled_from(["logInfo", "sessionId", "note", "contactId", "dispositions"]),
        _json,
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), body=_bodies, authed=st.booleans())
async def test_no_input_gives_a_500(
    h: Harness, route: tuple[str, str], body: tuple[str, bytes], authed: bool
) -> None:
    auth = await h.login() if authed else {}
    method, path = route
    content_type, content = body
    response = await h.client.request(
        method, path, content=content, headers={**auth, "Content-Type": content_type}
    )
    assert response.status_code < 500, (method, path, content[:100], response.text[:300])
