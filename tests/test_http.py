"""Outbound manners: Retry-After on throttled reads, never on writes; per-origin rate limit."""

from __future__ import annotations

import time

import httpx2

from appconnect.http import HttpClients, retry_after_seconds


def throttling_transport(
    log: list[str], throttle_times: int, retry_after: str = "1"
) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        log.append(request.method)
        if len(log) <= throttle_times:
            return httpx2.Response(429, headers={"Retry-After": retry_after}, json={"e": 1})
        return httpx2.Response(200, json={"ok": True})

    return httpx2.MockTransport(handler)


async def test_throttled_lookup_is_retried_after_retry_after_and_succeeds() -> None:
    log: list[str] = []
    clients = HttpClients(transport=throttling_transport(log, throttle_times=1))
    started = time.monotonic()
    response = await clients.client("https://crm.example").get("/contacts")
    waited = time.monotonic() - started
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert log == ["GET", "GET"]
    assert waited >= 0.9  # it honoured Retry-After: 1 (not a speed assertion: a lower bound)
    await clients.aclose()


async def test_create_is_never_retried() -> None:
    log: list[str] = []
    clients = HttpClients(transport=throttling_transport(log, throttle_times=1))
    response = await clients.client("https://crm.example").post("/activities", json={})
    assert response.status_code == 429
    assert log == ["POST"]
    await clients.aclose()


async def test_retries_are_bounded_and_long_waits_are_not_taken() -> None:
    log: list[str] = []
    clients = HttpClients(
        transport=throttling_transport(log, throttle_times=10, retry_after="0"), read_retries=2
    )
    response = await clients.client("https://crm.example").get("/contacts")
    assert response.status_code == 429 and log == ["GET"] * 3
    log.clear()
    patient = HttpClients(
        transport=throttling_transport(log, throttle_times=10, retry_after="3600")
    )
    response = await patient.client("https://crm.example").get("/contacts")
    assert response.status_code == 429 and log == ["GET"]  # an hour is not worth waiting for
    await clients.aclose()
    await patient.aclose()


async def test_clients_are_reused_per_base_url() -> None:
    clients = HttpClients(transport=httpx2.MockTransport(lambda r: httpx2.Response(200)))
    a = clients.client("https://a.example")
    assert clients.client("https://a.example") is a
    assert clients.client("https://b.example") is not a
    response = await a.get("/x")
    assert response.request.headers["Unified-CRM-Extension-Version"]
    await clients.aclose()


async def test_rate_limit_spaces_requests_to_one_origin() -> None:
    seen: list[float] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(time.monotonic())
        return httpx2.Response(200)

    clients = HttpClients(transport=httpx2.MockTransport(handler), rate_limit=5)
    client = clients.client("https://crm.example")
    for _ in range(8):
        await client.get("/x")
    # 5/s with a bucket of 5: the last three had to wait for capacity (~0.2 s each).
    assert seen[-1] - seen[0] >= 0.4
    await clients.aclose()


def test_retry_after_parsing() -> None:
    assert retry_after_seconds(httpx2.Response(429, headers={"Retry-After": "2"})) == 2
    assert retry_after_seconds(httpx2.Response(429)) == 1.0
    assert retry_after_seconds(httpx2.Response(429, headers={"Retry-After": "999"}), cap=30) == 30
    dated = httpx2.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_seconds(dated) == 0.0


async def test_relative_urls_resolve_against_the_base_and_are_remembered() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(200)

    clients = HttpClients(transport=httpx2.MockTransport(handler))
    client = clients.client("https://crm.example/api/v2")
    await client.get("/contacts", params={"phone": "+1"})
    await client.get("/contacts", params={"phone": "+2"})
    await client.get("https://other.example/x")
    assert seen == [
        "https://crm.example/api/v2/contacts?phone=%2B1",
        "https://crm.example/api/v2/contacts?phone=%2B2",
        "https://other.example/x",
    ]
    await clients.aclose()
