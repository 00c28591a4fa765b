"""The aiohttp engine under the CRM client, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from multidict import CIMultiDictProxy

from appconnect.crm_client import CrmRequest, CrmResponse
from appconnect.http import HttpClients
from appconnect.transport import AiohttpEngine, _timeout


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
                elif path == b"/redirect":
                    writer.write(
                        b"HTTP/1.1 302 Found\r\nlocation: /ok\r\ncontent-length: 0\r\n\r\n"
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


async def test_redirects_are_handed_to_the_connector(server: tuple[TinyServer, str]) -> None:
    """As with httpx2's default: a 3xx is an answer; the connector decides whether to follow."""
    tiny, url = server
    clients = HttpClients()
    response = await clients.client(url).get("/redirect")
    assert (response.status_code, response.headers["location"]) == (302, "/ok")
    assert len(tiny.seen) == 1
    await clients.aclose()


async def test_http_proxy_from_the_environment_is_used(
    server: tuple[TinyServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` sends plain-HTTP CRM calls through the proxy (absolute-form request line)."""
    tiny, url = server
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("NO_PROXY", "direct.crm.example")
    clients = HttpClients()
    response = await clients.client("http://crm.example").get("/contacts", params={"q": "1"})
    assert response.json()["path"] == "http://crm.example/contacts?q=1"
    assert tiny.seen[-1][0].startswith(b"GET http://crm.example/contacts?q=1 HTTP/1.1")
    await clients.aclose()


def test_proxy_variables_are_read_once_and_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "crm.local")
    engine = AiohttpEngine()
    assert engine._proxy_for("https://api.crm.example/x") == "http://proxy.internal:3128"
    assert engine._proxy_for("https://crm.local:8443/x") is None
    assert engine._proxy_for("http://api.crm.example/x") is None  # no HTTP_PROXY
    monkeypatch.delenv("HTTPS_PROXY")
    assert AiohttpEngine()._proxy_for("https://api.crm.example/x") is None


async def test_requests_carry_what_httpx2_would_send(server: tuple[TinyServer, str]) -> None:
    """Request line, body, Content-Type and the call's headers as a plain httpx2 client sends
    them (the client-wide defaults such as User-Agent are appconnect's own)."""
    tiny, url = server
    clients = HttpClients()
    ours = clients.client(url)
    plain = httpx2.AsyncClient(base_url=url, timeout=30.0)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/contacts", {"params": {"phone": "+1 650"}, "headers": {"Authorization": "B x"}}),
        ("GET", "/search", {"params": {"q": "ü/é?#&=%+~*'()", "n": 3, "t": True, "e": ""}}),
        ("GET", "/a?b=1", {"params": {"c": "2"}}),
        ("POST", "/activities", {"json": {"subject": "ü", "n": [1, 2.5, None]}}),
        ("POST", "/token", {"data": {"grant_type": "x", "code": "ü"}}),
        ("PATCH", "/activities/1", {"json": {"body": "x"}, "headers": {"X-A": "1"}}),
        ("PUT", "/activities/1", {"content": b"raw"}),
        ("POST", "/empty", {}),
        ("DELETE", "/activities/1", {}),
    ]

    def essentials(head: bytes, body: bytes) -> tuple[Any, ...]:
        lines = head.split(b"\r\n")
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, v in (line.split(b":", 1) for line in lines[1:] if b":" in line)
        )
        kept = (b"authorization", b"content-type", b"x-a", b"host")
        length = fields.get(b"content-length", b"0")
        return lines[0], body, length, {k: v for k, v in fields.items() if k in kept}

    for method, path, kwargs in calls:
        mine = await ours.request(method, path, **kwargs)
        theirs = await plain.request(method, path, **kwargs)
        (head_a, body_a), (head_b, body_b) = tiny.seen[-2:]
        assert essentials(head_a, body_a) == essentials(head_b, body_b)
        assert mine.json() == theirs.json() and mine.status_code == theirs.status_code
    await plain.aclose()
    await clients.aclose()


async def test_headers_are_a_case_insensitive_multidict(server: tuple[TinyServer, str]) -> None:
    _, url = server
    clients = HttpClients()
    response = await clients.client(url).get("/ok")
    assert isinstance(response.headers, CIMultiDictProxy)
    assert response.headers["Content-Type"] == response.headers.getall("content-type")[0]
    await clients.aclose()


async def test_chunked_answers_are_read_in_full(server: tuple[TinyServer, str]) -> None:
    _, url = server
    clients = HttpClients()
    response = await clients.client(url).get("/chunked")
    assert response.json() == {"a": 1}
    assert response.headers["transfer-encoding"] == "chunked"
    await clients.aclose()


ANSWERS: list[tuple[list[tuple[str, str]], bytes]] = [
    ([("Content-Type", "application/json"), ("Content-Length", "8")], b'{"a": 1}'),
    ([("Transfer-Encoding", "chunked")], b"no length"),
    ([("Content-Length", "0")], b""),
    ([], b""),
    ([("content-type", "text/plain; charset=latin-1")], b"caf\xe9"),
    ([("content-type", "text/plain; charset=nonsense")], b"caf\xc3\xa9"),
    ([("content-type", "text/plain")], b"\xff bad utf-8"),
    ([("content-type", "application/json")], b'{"n": NaN, "big": 123456789012345678901234}'),
]


@pytest.mark.parametrize("status", [200, 201, 302, 404, 429, 503])
@pytest.mark.parametrize(("headers", "content"), ANSWERS)
def test_responses_read_as_httpx2_responses_do(
    headers: list[tuple[str, str]], content: bytes, status: int
) -> None:
    """What connectors read from a CrmResponse equals what they read from httpx2's Response."""
    url = "https://crm.example/x"
    mine = CrmResponse(
        status,
        httpx2.Headers(headers),
        content,
        CrmRequest("GET", url, {}, b"", None, None),
    )
    theirs = httpx2.Response(
        status, headers=headers, content=content, request=httpx2.Request("GET", url)
    )

    def observed(response: Any) -> tuple[Any, ...]:
        try:
            parsed: Any = response.json()
        except ValueError as exc:
            parsed = type(exc)
        try:
            response.raise_for_status()
            raised: Any = None
        except httpx2.HTTPStatusError as exc:
            raised = (str(exc), exc.response is response)
        return (
            response.status_code,
            response.content,
            response.text,
            response.encoding,
            parsed,
            raised,
            response.is_success,
            response.is_error,
            response.is_client_error,
            response.is_server_error,
            response.reason_phrase,
            str(response.url),
        )

    assert observed(mine) == observed(theirs)


def test_timeouts_are_mapped_and_shared() -> None:
    timeout = _timeout(1.5, 7.0)
    assert (timeout.total, timeout.connect, timeout.sock_read) == (None, 1.5, 7.0)
    assert _timeout(1.5, 7.0) is timeout
    assert _timeout(None, None).connect is None
