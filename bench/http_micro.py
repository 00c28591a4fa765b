"""Microbenchmark of one outbound CRM call: client-side CPU µs per call, per HTTP design.

Starts ``bench/fake_crm.py`` (0 ms latency) in its own process and sends calls to it from this
one, 16 at a time, the way the bench connector does (``GET /contacts?phone=...`` with an
``Authorization`` header, ``POST /activities`` with a JSON body), reading each answer as JSON.
CPU time of this process (``time.process_time``) per call is what is reported, so the fake's
work does not count; the best of ``--repeat`` runs is printed. Designs:

* ``appconnect``: ``HttpClients().client(...)`` as connectors get it from ``self.http()``
  (whichever appconnect is on ``sys.path``: run it with ``PYTHONPATH`` pointing at another
  checkout's ``src`` to compare two versions);
* ``httpx2``: a plain ``httpx2.AsyncClient`` over the polite aiohttp transport of appconnect
  before 0.1.0's own client (run with ``PYTHONPATH`` at such a checkout);
* ``aiohttp``: ``aiohttp.ClientSession`` called directly, the floor a connector API of our own
  built on aiohttp could reach (no response object beyond aiohttp's own, no retries).

Run: ``.venv/bin/python bench/http_micro.py [--calls N] [--repeat R] [--designs a,b]`` (default
``appconnect,aiohttp``; ``httpx2`` only with such an older checkout on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx2

from appconnect.http import VERSION_HEADER, HttpClients

try:
    from appconnect.version import __version__
except ImportError:  # an older checkout, compared through PYTHONPATH
    from appconnect import __version__

BENCH = Path(__file__).resolve().parent
AUTH = {"Authorization": "Bearer bench-token"}
CONCURRENCY = 16

Call = Callable[[int], Awaitable[Any]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_up(base: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/__stats", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("fake CRM did not start")


def calls_over_httpx2(client: httpx2.AsyncClient) -> dict[str, Call]:
    async def get(i: int) -> Any:
        response = await client.get(
            "/contacts", params={"phone": f"+1650555{i % 1000:04d}"}, headers=AUTH
        )
        response.raise_for_status()
        return response.json()

    async def post(i: int) -> Any:
        response = await client.post(
            "/activities", json={"subject": f"Call {i}", "note": "n", "duration": 30}, headers=AUTH
        )
        response.raise_for_status()
        return response.json()

    return {"GET": get, "POST": post}


def calls_over_aiohttp(session: aiohttp.ClientSession, base: str) -> dict[str, Call]:
    headers = {**AUTH, VERSION_HEADER: __version__}

    async def get(i: int) -> Any:
        async with session.get(
            base + "/contacts", params={"phone": f"+1650555{i % 1000:04d}"}, headers=headers
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def post(i: int) -> Any:
        async with session.post(
            base + "/activities",
            json={"subject": f"Call {i}", "note": "n", "duration": 30},
            headers=headers,
        ) as response:
            response.raise_for_status()
            return await response.json()

    return {"GET": get, "POST": post}


async def timed(call: Call, calls: int) -> float:
    """CPU µs per call, ``CONCURRENCY`` in flight."""
    queue = iter(range(calls))

    async def worker() -> None:
        for i in queue:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))  # warm-up: pools, caches
    queue = iter(range(calls))
    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return (time.process_time() - start) / calls * 1e6


async def measure(design: str, base: str, calls: int, repeat: int) -> dict[str, float]:
    closers: list[Callable[[], Awaitable[Any]]] = []
    if design == "appconnect":
        pool = HttpClients()
        chosen = calls_over_httpx2(pool.client(base))
        closers.append(pool.aclose)
    elif design == "httpx2":
        # Needs a checkout whose appconnect still has the httpx2 transport over aiohttp.
        try:
            from appconnect.http import PoliteTransport  # type: ignore[attr-defined]
            from appconnect.transport import AiohttpTransport  # type: ignore[attr-defined]
        except ImportError:
            raise SystemExit(
                "design httpx2 needs PYTHONPATH at a checkout from before appconnect's own "
                "CRM client (it has appconnect.http.PoliteTransport)"
            ) from None

        transport = PoliteTransport(AiohttpTransport())
        client = httpx2.AsyncClient(
            base_url=base, transport=transport, headers={VERSION_HEADER: __version__}
        )
        chosen = calls_over_httpx2(client)
        closers.append(client.aclose)
    elif design == "aiohttp":
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, ttl_dns_cache=300),
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent",),
        )
        chosen = calls_over_aiohttp(session, base)
        closers.append(session.close)
    else:
        raise SystemExit(f"unknown design {design!r}")
    try:
        return {
            method: min([await timed(call, calls) for _ in range(repeat)])
            for method, call in chosen.items()
        }
    finally:
        for close in closers:
            await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--designs", default="appconnect,aiohttp")
    args = parser.parse_args()
    port = free_port()
    crm = subprocess.Popen(
        [sys.executable, str(BENCH / "fake_crm.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base)
        print(f"CPU µs per call (best of {args.repeat} x {args.calls}, {CONCURRENCY} in flight)")
        for design in args.designs.split(","):
            result = asyncio.run(measure(design, base, args.calls, args.repeat))
            cells = "  ".join(f"{method} {micros:6.1f}" for method, micros in result.items())
            print(f"  {design:<11} {cells}")
    finally:
        crm.terminate()
        crm.wait()


if __name__ == "__main__":
    main()
