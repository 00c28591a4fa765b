"""Start-up and shut-down: retried start-up, clean-up after a failed attempt, opaque 503s."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx2
import pytest

from appconnect import Connector, ConnectorRegistry, create_app
from appconnect.settings import Settings
from appconnect.store.db import Database


class Plain(Connector):
    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class FailingStartup(Plain):
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def startup(self, runtime: Any) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise RuntimeError("CRM metadata endpoint unreachable: errno 111 at 10.0.0.7")


def _app(db_url: str, connector: Connector, transport: Any = None) -> Any:
    registry = ConnectorRegistry()
    registry.register_connector("acme", connector)
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY="k" * 32, HASH_KEY="h")
    app = create_app(registry, settings=settings, http_transport=transport)
    app.state.appconnect.startup_backoff = (0.02, 0.05)
    return app


async def _alive(app: Any) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/isAlive")


async def _until_ready(app: Any) -> httpx2.Response:
    for _ in range(200):
        response = await _alive(app)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.02)
    raise AssertionError("never started")


@pytest.mark.parametrize("is_prod", [False, True])
async def test_unreachable_database_is_retried_and_503_carries_no_internals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, is_prod: bool
) -> None:
    missing = tmp_path / "not-yet"
    app = _app(f"sqlite:///{missing}/x.db", Plain())
    app.state.appconnect.settings.is_prod = is_prod  # 503 bodies are the same in every mode
    caplog.set_level(logging.ERROR, logger="appconnect")
    async with app.router.lifespan_context(app):
        response = await _alive(app)
        assert (response.status_code, response.json()) == (503, {"error": "Service unavailable"})
        assert response.headers["retry-after"] == "5"
        await asyncio.sleep(0.1)  # a few more attempts fail while the directory is missing
        missing.mkdir()
        response = await _until_ready(app)
        assert (response.status_code, response.text) == (200, "OK")
    attempts = [r for r in caplog.records if "start-up attempt" in r.getMessage()]
    assert len(attempts) >= 2
    numbers = [int(r.getMessage().split()[2]) for r in attempts]
    assert numbers == list(range(1, len(numbers) + 1))  # one line per failed attempt
    assert all(r.exc_info is None for r in attempts)


async def test_failing_connector_startup_releases_database_and_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed: list[str] = []
    original = Database.dispose

    async def dispose(self: Database) -> None:
        disposed.append("db")
        await original(self)

    monkeypatch.setattr(Database, "dispose", dispose)
    closed: list[str] = []

    class Transport(httpx2.MockTransport):
        async def aclose(self) -> None:
            closed.append("http")

    connector = FailingStartup(failures=2)
    app = _app(f"sqlite:///{tmp_path}/x.db", connector, Transport(lambda r: httpx2.Response(200)))
    async with app.router.lifespan_context(app):
        response = await _until_ready(app)
        assert response.status_code == 200
        assert connector.attempts == 3
        assert (disposed, closed) == (["db", "db"], ["http", "http"])  # one per failed attempt
    assert len(disposed) == 3 and len(closed) == 3  # and the running one at shut-down
