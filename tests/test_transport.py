"""The aiohttp engine under httpx2, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from appconnect.http import HttpClients
from appconnect.transport import AiohttpTransport, _read_response


class TinyServer:
    """A minimal HTTP/1.1 server with a few behaviours the transport must cope with."""

    def __init__(self) -> None:
        self.connections = 0
        self.seen: list[tuple[bytes, bytes]] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1]
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, v in (line.split(b":", 1) for line in lines[1:] if b":" in line)
                )
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                self.seen.append((head, body))
                extra = b""
                if path == b"/slow":
                    await asyncio.sleep(5)
                if path == b"/gzip":
                    payload = gzip.compress(b'{"zipped": true}')
                    extra = b"content-encoding: gzip\r\n"
                elif path == b"/chunked":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"transfer-encoding: chunked\r\n\r\n"
                        b'7\r\n{"a": 1\r\n1\r\n}\r\n0\r\n\r\n'
                    )
                    await writer.drain()
                    continue
                elif path == b"/cookie":
                    payload = b"{}"
                    extra = b"set-cookie: session=secret-of-user-a; Path=/\r\n"
                else:
                    payload = b'{"path": "' + path + b'", "size": ' + str(len(body)).encode() + b"}"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + extra
                    + b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
                )  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def drop_everyone(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await asyncio.sleep(0.05)


@pytest.fixture
async def server() -> AsyncIterator[tuple[TinyServer, str]]:
    tiny = TinyServer()
    srv = await asyncio.start_server(tiny.handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    yield tiny, f"http://127.0.0.1:{port}"
    srv.close()
    await tiny.drop_everyone()


async def test_requests_reuse_a_kept_alive_connection(server: tuple[TinyServer, str]) -> None:
    tiny, url = server
    clients = HttpClients()
    client = clients.client(url)
    for _ in range(5):
        assert (await client.get("/ok")).json()["path"] == "/ok"
    assert tiny.connections == 1
    await clients.aclose()


async def test_bodies_headers_and_query_reach_the_server(server: tuple[TinyServer, str]) -> None:
    tiny, url = server
    clients = HttpClients()
    response = await clients.client(url).post(
        "/things", params={"q": "a b"}, json={"x": 1}, headers={"Authorization": "Basic abc"}
    )
    assert response.json()["size"] == len(b'{"x":1}')
    head, body = tiny.seen[-1]
    assert head.startswith(b"POST /things?q=a+b HTTP/1.1")
    assert b"Authorization: Basic abc" in head
    assert b"unified-crm-extension-version:" in head.lower()
    assert body == b'{"x":1}'
    await clients.aclose()


async def test_compressed_answers_are_decoded_once(server: tuple[TinyServer, str]) -> None:
    _, url = server
    clients = HttpClients()
    assert (await clients.client(url).get("/gzip")).json() == {"zipped": True}
    await clients.aclose()


async def test_cookies_are_never_carried_between_requests(server: tuple[TinyServer, str]) -> None:
    """One pool serves every user: a cookie set for one must not reach the CRM for another."""
    tiny, url = server
    clients = HttpClients()
    client = clients.client(url)
    await client.get("/cookie")
    await client.get("/ok")
    assert b"secret-of-user-a" not in tiny.seen[-1][0]
    await clients.aclose()


async def test_an_idle_connection_the_server_closed_is_replaced(
    server: tuple[TinyServer, str],
) -> None:
    tiny, url = server
    clients = HttpClients()
    client = clients.client(url)
    assert (await client.get("/ok")).status_code == 200
    await tiny.drop_everyone()
    assert (await client.get("/ok")).status_code == 200
    assert tiny.connections == 2
    await clients.aclose()


async def test_timeouts_and_refusals_raise_httpx2_errors(server: tuple[TinyServer, str]) -> None:
    _, url = server
    clients = HttpClients(timeout=0.2)
    with pytest.raises(httpx2.ReadTimeout):
        await clients.client(url).get("/slow")
    with pytest.raises(httpx2.ConnectError):
        await clients.client("http://127.0.0.1:9").get("/")  # nobody listens on discard
    await clients.aclose()


async def test_many_concurrent_requests_complete(server: tuple[TinyServer, str]) -> None:
    _, url = server
    clients = HttpClients(max_connections=8)
    client = clients.client(url)
    responses = await asyncio.gather(*(client.get(f"/ok{i}") for i in range(60)))
    assert [r.json()["path"] for r in responses] == [f"/ok{i}" for i in range(60)]
    await clients.aclose()


def test_proxy_variables_are_read_once_and_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "crm.local")
    transport = AiohttpTransport()
    assert transport._proxy_for(httpx2.URL("https://api.crm.example/x")) == (
        "http://proxy.internal:3128"
    )
    assert transport._proxy_for(httpx2.URL("https://crm.local/x")) is None
    assert transport._proxy_for(httpx2.URL("http://api.crm.example/x")) is None  # no HTTP_PROXY
    monkeypatch.delenv("HTTPS_PROXY")
    assert AiohttpTransport()._proxy_for(httpx2.URL("https://api.crm.example/x")) is None


async def test_the_lean_path_puts_the_same_bytes_on_the_wire(
    server: tuple[TinyServer, str],
) -> None:
    """CrmClient's shortcut and httpx2's own path, over the same engine, to a real server."""
    tiny, url = server
    clients = HttpClients()
    lean = clients.client(url)
    plain = httpx2.AsyncClient(
        base_url=url, headers=lean.headers, transport=AiohttpTransport(), timeout=30.0
    )
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/contacts", {"params": {"phone": "+1 650"}, "headers": {"Authorization": "B x"}}),
        ("POST", "/activities", {"json": {"subject": "ü", "n": 1}, "headers": {"X-A": "1"}}),
        ("PATCH", "/activities/1", {"json": {"body": "x"}}),
        ("PUT", "/activities/1", {"content": b"raw"}),
        ("POST", "/empty", {}),
        ("DELETE", "/activities/1", {}),
    ]
    for method, path, kwargs in calls:
        mine = await lean.request(method, path, **kwargs)
        theirs = await plain.request(method, path, **kwargs)
        (head_a, body_a), (head_b, body_b) = tiny.seen[-2:]
        assert (head_a, body_a) == (head_b, body_b)
        assert mine.json() == theirs.json() and mine.headers.keys() == theirs.headers.keys()
    await plain.aclose()
    await clients.aclose()


async def test_chunked_answers_are_read_and_get_a_length(server: tuple[TinyServer, str]) -> None:
    """As ``Response(content=...)`` did: a body without Content-Length is given one."""
    _, url = server
    clients = HttpClients()
    response = await clients.client(url).get("/chunked")
    assert response.json() == {"a": 1}
    assert response.headers["content-length"] == "8"
    assert response.headers["transfer-encoding"] == "chunked"
    await clients.aclose()


ANSWERS: list[tuple[list[tuple[bytes, bytes]], bytes]] = [
    ([(b"Content-Type", b"application/json"), (b"Content-Length", b"8")], b'{"a": 1}'),
    ([(b"Transfer-Encoding", b"chunked")], b"no length"),
    ([(b"Content-Length", b"0")], b""),
    ([], b""),
    ([(b"content-type", b"text/plain; charset=latin-1")], b"caf\xe9"),
]


@pytest.mark.parametrize(("headers", "content"), ANSWERS)
async def test_marked_read_response_matches_httpx2(
    headers: list[tuple[bytes, bytes]], content: bytes
) -> None:
    """For identity-encoded answers the transport's response equals ``Response(content=...)`` in
    every observable way (this pins the httpx2 internals ``_read_response`` relies on)."""
    request = httpx2.Request("GET", "https://crm.example/x")
    has_length = any(name.lower() == b"content-length" for name, _ in headers)
    mine = _read_response(201, headers, content, request, has_length=has_length)
    theirs = httpx2.Response(
        201,
        headers=headers,
        content=content,
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )

    def observed(response: httpx2.Response) -> tuple[Any, ...]:
        return (
            response.status_code,
            response.headers.raw,
            response.content,
            response.text,
            response.is_closed,
            response.is_stream_consumed,
            response.num_bytes_downloaded,
            response.http_version,
            response.extensions,
            list(response.iter_bytes()),
            list(response.iter_bytes(chunk_size=3)),
            response.request is request,
        )

    assert observed(mine) == observed(theirs)
    assert await mine.aread() == await theirs.aread()
    assert [part async for part in mine.aiter_bytes(2)] == [
        part async for part in theirs.aiter_bytes(2)
    ]


def test_timeouts_are_mapped_and_shared() -> None:
    transport = AiohttpTransport()
    timeout = transport._timeout(1.5, 7.0)
    assert (timeout.total, timeout.connect, timeout.sock_read) == (None, 1.5, 7.0)
    assert transport._timeout(1.5, 7.0) is timeout
    assert transport._timeout(None, None).connect is None


def test_decoded_headers_are_remembered_but_never_credentials() -> None:
    transport = AiohttpTransport()
    raw = [
        (b"Accept", b"*/*"),
        (b"Authorization", b"Bearer s3cret"),
        (b"X-Api-Key", b"k"),
        (b"Cookie", b"c=1"),
        (b"X-Latin", b"caf\xe9"),
    ]
    expected = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    assert transport._str_headers(raw) == expected
    assert transport._str_headers(raw) == expected  # from the cache this time
    assert set(transport._decoded) == {(b"Accept", b"*/*"), (b"X-Latin", b"caf\xe9")}
