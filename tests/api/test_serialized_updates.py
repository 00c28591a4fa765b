"""Serialized updates per CRM log: concurrent updates of one log take turns, nothing is lost.

Two apps on one database stand for two worker processes (each its own engine, caches and
in-process locks); requests alternate between them. The test connector updates its CRM the way
most real ones do, by reading the log and writing it back with the new message appended, and the
CRM is slow enough that unserialized updates overwrite each other. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson
from sqlalchemy import select

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.demo.models import DemoActivity
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.runtime import Runtime
from appconnect.settings import Settings
from appconnect.store.models import CallLogRow

from ._message_log_helpers import sms, submission

PLATFORM = "rmwcrm"
SECRET = "serialized-updates-secret-0123456789abcdef"
CONCURRENCY = 30


@dataclass
class LogCRM:
    """A CRM whose logs are plain text bodies: POST creates, GET reads, PUT replaces."""

    logs: dict[str, str] = field(default_factory=dict)
    in_flight: int = 0  # connector updates running right now (across both apps)
    most_in_flight: int = 0

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(0.005)  # a network round trip: lets other requests interleave
        log_id = request.url.path.removeprefix("/logs").strip("/")
        if request.method == "POST":
            new_id = f"log-{len(self.logs) + 1}"
            self.logs[new_id] = orjson.loads(request.content)["body"]
            return httpx2.Response(200, json={"id": new_id})
        if request.method == "GET":
            return httpx2.Response(200, json={"body": self.logs[log_id]})
        self.logs[log_id] = orjson.loads(request.content)["body"]
        return httpx2.Response(200, json={})


class ReadModifyWriteConnector(Connector):
    """Appends each message to the CRM log by GET + PUT, as a typical connector does."""

    platform = PLATFORM
    auth_type = "apiKey"
    base_url = "https://crm.test"

    def __init__(self, crm: LogCRM) -> None:
        self.crm = crm

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {"logId": None}

    async def update_call_log(self, **kwargs: Any) -> dict[str, Any]:
        async with self._update():
            await self._append(kwargs["existing_call_log"]["thirdPartyLogId"], kwargs["note"])
        return {}

    async def create_message_log(self, **kwargs: Any) -> dict[str, Any]:
        line = kwargs["message"]["id"]
        response = await self.http().post("/logs", json={"body": line})
        return {"logId": response.json()["id"]}

    async def update_message_log(self, **kwargs: Any) -> dict[str, Any]:
        async with self._update():
            log_id = kwargs["existing_message_log"]["thirdPartyLogId"]
            await self._append(log_id, kwargs["message"]["id"])
        return {}

    async def _append(self, log_id: str, line: str) -> None:
        current = (await self.http().get(f"/logs/{log_id}")).json()["body"]
        await self.http().put(f"/logs/{log_id}", json={"body": f"{current}\n{line}"})

    @asynccontextmanager
    async def _update(self) -> AsyncIterator[None]:
        self.crm.in_flight += 1
        self.crm.most_in_flight = max(self.crm.most_in_flight, self.crm.in_flight)
        try:
            yield
        finally:
            self.crm.in_flight -= 1


@dataclass
class Worker:
    rt: Runtime
    client: httpx2.AsyncClient
    token: str


@asynccontextmanager
async def two_workers(db_url: str, crm: LogCRM) -> AsyncIterator[list[Worker]]:
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY=SECRET, HASH_KEY="h")
    async with AsyncExitStack() as stack:
        workers = []
        for name in ("one", "two"):
            registry = ConnectorRegistry()
            registry.register(ReadModifyWriteConnector(crm))
            app = create_app(
                registry, settings=settings, http_transport=httpx2.MockTransport(crm.handle)
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            rt: Runtime = app.state.appconnect.runtime
            if not workers:
                await rt.users.upsert_login(
                    user_id="u-1", platform=PLATFORM, hostname="crm.test", access_token="key",
                    refresh_token=None, token_expiry=None, timezone_name=None,
                    timezone_offset=None, rc_account_id="acc", hashed_rc_extension_id=None,
                    platform_additional_info={},
                )  # fmt: skip
            client = await stack.enter_async_context(
                httpx2.AsyncClient(
                    transport=httpx2.ASGITransport(app=app), base_url=f"http://{name}"
                )
            )
            workers.append(Worker(rt, client, rt.sessions.issue("u-1", PLATFORM)))
        yield workers


def _auth(worker: Worker) -> dict[str, str]:
    return {"Authorization": f"Bearer {worker.token}"}


async def test_thirty_concurrent_messages_of_one_conversation_keep_thirty(db_url: str) -> None:
    crm = LogCRM()
    async with two_workers(db_url, crm) as workers:
        first = await workers[0].client.post(
            "/messageLog", json=submission([sms("m-0")]), headers=_auth(workers[0])
        )
        assert first.json()["logIds"] == ["m-0"]

        async def post(i: int) -> httpx2.Response:
            worker = workers[i % 2]
            body = submission([sms(f"m-{i}", f"text {i}")])
            return await worker.client.post("/messageLog", json=body, headers=_auth(worker))

        responses = await asyncio.gather(*(post(i) for i in range(1, CONCURRENCY + 1)))

        assert all(r.json()["successful"] for r in responses)
        assert sorted(r.json()["logIds"][0] for r in responses) == sorted(
            f"m-{i}" for i in range(1, CONCURRENCY + 1)
        )
        [body] = crm.logs.values()
        lines = body.split("\n")
        assert sorted(lines) == sorted(f"m-{i}" for i in range(CONCURRENCY + 1))  # 31 of 31
        assert crm.most_in_flight == 1


async def test_concurrent_call_log_updates_take_turns(db_url: str) -> None:
    crm = LogCRM()
    crm.logs["log-1"] = "created"
    async with two_workers(db_url, crm) as workers:
        async with workers[0].rt.db.transaction() as session:
            session.add(CallLogRow(id="t-1", session_id="s-1", platform=PLATFORM,
                                   third_party_log_id="log-1", user_id="u-1"))  # fmt: skip

        async def patch(i: int) -> httpx2.Response:
            worker = workers[i % 2]
            body = {"sessionId": "s-1", "note": f"note {i}"}
            return await worker.client.patch("/callLog", json=body, headers=_auth(worker))

        responses = await asyncio.gather(*(patch(i) for i in range(10)))

        assert all(r.json()["successful"] for r in responses)
        lines = crm.logs["log-1"].split("\n")
        assert sorted(lines) == sorted(["created", *(f"note {i}" for i in range(10))])
        assert crm.most_in_flight == 1


# -- the demo connector's own read-modify-write ------------------------------------------------


async def test_demo_connector_appends_every_concurrent_message(db_url: str) -> None:
    """The demo updates its activity row under a row lock, even when called concurrently
    without the framework's lease (two apps: two engines on one database)."""
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY=SECRET, HASH_KEY="h")
    async with AsyncExitStack() as stack:
        views = []
        for _ in range(2):
            app = create_app(settings=settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            rt: Runtime = app.state.appconnect.runtime
            views.append((rt, rt.registry.get_connector("demo")))
        rt, view = views[0]
        user = await rt.users.upsert_login(
            user_id="demo-1", platform="demo", hostname=None, access_token="k",
            refresh_token=None, token_expiry=None, timezone_name=None, timezone_offset=None,
            rc_account_id=None, hashed_rc_extension_id=None, platform_additional_info={},
        )  # fmt: skip
        created = await view.call(
            "createMessageLog", user=user, contact_info={"id": "c", "name": "C"},
            message={"id": "m-0", "subject": "m-0"},
        )  # fmt: skip
        existing = {"thirdPartyLogId": created.log_id}

        async def update(i: int) -> Any:
            _, worker_view = views[i % 2]
            message = {"id": f"m-{i}", "subject": f"m-{i}"}
            return await worker_view.call(
                "updateMessageLog", user=user, existing_message_log=existing, message=message
            )

        await asyncio.gather(*(update(i) for i in range(1, CONCURRENCY + 1)))

        async with rt.db.session() as session:
            body = await session.scalar(
                select(DemoActivity.body).where(DemoActivity.id == int(created.log_id))
            )
        assert body is not None
        found = sorted(line.rsplit(" ", 1)[-1] for line in body.split("\n"))
        assert found == sorted(f"m-{i}" for i in range(CONCURRENCY + 1))
