"""Graceful shutdown: work that requests leave running is finished (or named) before closing.

Requests in flight are uvicorn's part (it stops accepting, waits for them, then ends the
lifespan; ``tests/e2e/test_shutdown.py`` checks it on a real server). Here: the lifespan's end
waits for background work (the asynchronous SMS and fax plugin notifications) before the HTTP
clients close, and cancels and names what outlasts ``APPCONNECT_DRAIN_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.fakes import FakeCrm
from tests.support import serve

from appconnect import ConnectorRegistry, create_app
from appconnect.testing import settings_for_test


def _app(tmp_path: Path, crm: FakeCrm, **settings: Any) -> Any:
    return create_app(
        ConnectorRegistry(),
        settings=settings_for_test(tmp_path, **settings),
        http_transport=crm.transport,
    )


async def test_background_work_finishes_before_the_clients_close(tmp_path: Path) -> None:
    crm = FakeCrm()
    delivered: list[str] = []

    async def slow_plugin(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(0.3)
        delivered.append(request.content.decode())
        return httpx2.Response(200, json={})

    crm.on("POST", "/notify", slow_plugin)
    async with serve(_app(tmp_path, crm)) as (_client, rt):
        client = rt.http.client("https://plugin.example")
        task = rt.spawn(client.post("/notify", content=b"fax-1"), name="fax notification")
        await crm.wait_for_requests(1)
    assert delivered == ["fax-1"]  # the lifespan's end waited for it
    assert task.result().status_code == 200 and not rt.background


async def test_background_work_past_the_drain_timeout_is_cancelled_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crm = FakeCrm()
    crm.on("POST", "/notify", lambda request: asyncio.sleep(30))
    async with serve(_app(tmp_path, crm, APPCONNECT_DRAIN_TIMEOUT=0.2)) as (_client, rt):
        client = rt.http.client("https://plugin.example")
        task = rt.spawn(client.post("/notify"), name="async plugin p1 notification")
        await crm.wait_for_requests(1)
        caplog.set_level(logging.ERROR, logger="appconnect")
    assert task.cancelled()
    assert "async plugin p1 notification" in caplog.text and "cancelled" in caplog.text


async def test_work_started_by_background_work_is_waited_for_too(tmp_path: Path) -> None:
    done: list[str] = []
    async with serve(_app(tmp_path, FakeCrm())) as (_client, rt):

        async def second() -> None:
            await asyncio.sleep(0.1)
            done.append("second")

        async def first() -> None:
            await asyncio.sleep(0.1)
            rt.spawn(second(), name="second")
            done.append("first")

        rt.spawn(first(), name="first")
    assert done == ["first", "second"]
