"""The aiohttp engine under httpx2, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx2
import pytest

from appconnect.http import HttpClients


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
    from appconnect.transport import AiohttpTransport

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
