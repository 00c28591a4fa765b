"""A connector server with plugins installed from in-process SDK plugin servers.

Everything runs over ASGI transports: the connector app reaches the fake CRM, the fake
RingCentral and Developer Console, and each plugin server (``<name>.plugins.test``) through a
:class:`~tests.fakes.plugins.HostRouter`; the plugin servers reach RingCentral and the
connector app (``http://app``, the callback base) the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import select
from tests.api._call_log_helpers import CRM_HOST, PLATFORM, ActivityConnector, ActivityCrm
from tests.fakes.plugins import (
    CONSOLE_HOST,
    RC_HOST,
    RC_SERVER,
    FakeDeveloperConsole,
    FakeRingCentral,
    HostRouter,
    plugin_entry,
)

from appconnect.app import create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.connectors.results import LogResult, ReturnMessage, UpdateLogResult
from appconnect.plugin import PluginServer
from appconnect.runtime import Runtime
from appconnect.settings import Settings
from appconnect.store.models import AccountDataRow, CacheRow

ACCOUNT = "rc-acc-1"
ADMIN_TOKEN = "admin-rc-token"
PLUGIN_SECRET = "plugin-server-secret-0123456789abcdef"
APP_BASE = "http://app"


class NotedConnector(ActivityConnector):
    """Keeps the agent note next to the composed body, so ``getCallLog`` can return it."""

    async def create_call_log(self, **kwargs: Any) -> LogResult:
        self._record("createCallLog", kwargs)
        response = await self.http().post(
            "/activities",
            json={"body": kwargs["composed_log_details"], "note": kwargs.get("note") or ""},
            headers={"Authorization": kwargs["auth_header"]},
        )
        response.raise_for_status()
        return LogResult(
            log_id=response.json()["id"], return_message=ReturnMessage(message="Logged")
        )

    async def update_call_log(self, **kwargs: Any) -> UpdateLogResult:
        self._record("updateCallLog", kwargs)
        log_id = kwargs["existing_call_log"]["thirdPartyLogId"]
        changes: dict[str, Any] = {"body": kwargs["composed_log_details"]}
        if kwargs.get("note") is not None:
            changes["note"] = kwargs["note"]
        response = await self.http().put(f"/activities/{log_id}", json=changes)
        response.raise_for_status()
        return UpdateLogResult(updated_note=kwargs.get("note"))


def sdk_server(plugin_id: str, router: HostRouter, **kwargs: Any) -> PluginServer:
    return PluginServer(
        plugin_id, secret=PLUGIN_SECRET, rc_server=RC_SERVER, http_transport=router, **kwargs
    )


@dataclass
class PluginWorld:
    client: httpx2.AsyncClient
    rt: Runtime
    crm: ActivityCrm
    connector: NotedConnector
    rc: FakeRingCentral
    console: FakeDeveloperConsole
    servers: dict[str, PluginServer]

    def publish(self, name: str, *, is_async: bool = False, **extra: Any) -> str:
        """Publish the manifest of plugin server ``name``; its plugin id is the server's."""
        server = self.servers[name]
        plugin_id = server.plugin_id or name
        base = f"http://{name}.plugins.test"
        self.console.publish(plugin_id, plugin_entry(base, is_async=is_async, **extra))
        return plugin_id

    async def register(self, plugin_id: str, **body: Any) -> httpx2.Response:
        return await self.client.post(
            "/plugin/register",
            json={"pluginId": plugin_id, "rcAccountId": ACCOUNT, **body},
            headers={"X-RC-Access-Token": ADMIN_TOKEN},
        )

    async def install(self, name: str, *, is_async: bool = False, **extra: Any) -> str:
        plugin_id = self.publish(name, is_async=is_async, **extra)
        response = await self.register(plugin_id)
        assert response.json() == {"successful": True}, response.text
        return plugin_id

    async def login(
        self, user_id: str = "u1", *, settings: dict[str, Any] | None = None
    ) -> dict[str, str]:
        user = await self.rt.users.upsert_login(
            user_id=user_id, platform=PLATFORM, hostname=CRM_HOST, access_token="crm-key",
            refresh_token=None, token_expiry=None, timezone_name=None, timezone_offset="+00:00",
            rc_account_id=ACCOUNT, hashed_rc_extension_id="hashed-ext-1",
            platform_additional_info={},
        )  # fmt: skip
        if settings:
            user.user_settings = settings
            await user.save()
        return {"Authorization": f"Bearer {self.rt.sessions.issue(user_id, PLATFORM)}"}

    async def plugin_rows(self) -> list[AccountDataRow]:
        async with self.rt.db.session() as session:
            return list((await session.scalars(select(AccountDataRow))).all())

    async def task_rows(self) -> list[CacheRow]:
        async with self.rt.db.session() as session:
            return list((await session.scalars(select(CacheRow))).all())

    async def drain(self) -> None:
        for server in self.servers.values():
            await server.drain()


@asynccontextmanager
async def plugin_world(
    db_url: str, servers: dict[str, PluginServer], sdk_router: HostRouter, **settings: Any
) -> AsyncIterator[PluginWorld]:
    """``servers`` must use ``sdk_router`` as their transport (it gains the app's route)."""
    rc, console, crm = FakeRingCentral(), FakeDeveloperConsole(), ActivityCrm()
    rc.admin(ADMIN_TOKEN, ACCOUNT)
    sdk_router.routes[RC_HOST] = rc.transport
    routes: dict[str, httpx2.AsyncBaseTransport] = {
        CRM_HOST: crm.transport,
        RC_HOST: rc.transport,
        CONSOLE_HOST: console.transport,
    }
    for name, server in servers.items():
        routes[f"{name}.plugins.test"] = httpx2.ASGITransport(app=server.app)
    connector = NotedConnector(log_format="text/plain")
    registry = ConnectorRegistry()
    registry.register_connector(PLATFORM, connector)
    values: dict[str, Any] = {
        "DATABASE_URL": db_url,
        "APP_SERVER_SECRET_KEY": "plugin-tests-secret-0123456789abcdef",
        "HASH_KEY": "test-hash-key",
        "APP_SERVER": APP_BASE,
        "APPCONNECT_USER_CACHE_TTL": 0,
    }
    values.update(settings)
    app = create_app(registry, settings=Settings(**values), http_transport=HostRouter(routes))
    async with app.router.lifespan_context(app):
        sdk_router.routes["app"] = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url=APP_BASE
        ) as client:
            world = PluginWorld(
                client, app.state.appconnect.runtime, crm, connector, rc, console, servers
            )
            try:
                yield world
            finally:
                await world.drain()
                for server in servers.values():
                    await server.aclose()
