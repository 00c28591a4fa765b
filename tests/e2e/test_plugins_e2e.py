"""End to end over real loopback HTTP: the connector server and two SDK plugin servers, each a
uvicorn server on its own free port. Only the outside world is faked (the CRM, RingCentral's
identity API, the Developer Console's manifests).

An admin installs an all-caps sync plugin and an async plugin; a call log goes through the sync
plugin (the CRM receives the transformed note); the async plugin calls back and the CRM log
gains its note exactly once, also when the callback is delivered again; the admin uninstalls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from examples.plugins.allcaps import all_caps
from examples.plugins.summary_note import summarize
from tests.api._call_log_helpers import CRM_HOST, PLATFORM, ActivityCrm, log_body
from tests.api._plugin_helpers import ACCOUNT, ADMIN_TOKEN, NotedConnector
from tests.fakes.plugins import (
    CONSOLE_HOST,
    RC_HOST,
    RC_SERVER,
    FakeDeveloperConsole,
    FakeRingCentral,
    HostRouter,
    plugin_entry,
)
from tests.plugin._servers import free_port, serving

from appconnect.app import create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.connectors.results import PlatformUserInfo, UserInfoResult
from appconnect.plugin import Invocation, PluginServer
from appconnect.settings import Settings

SECRET = "e2e-plugin-secret-0123456789abcdef"
USER_TOKEN = "agent-rc-token"


class E2EConnector(NotedConnector):
    async def get_user_info(self, **_: Any) -> UserInfoResult:
        return UserInfoResult(
            successful=True, platform_user_info=PlatformUserInfo(id="agent-1", name="Agent")
        )


@dataclass
class Stack:
    app_url: str
    caps_url: str
    notes_url: str
    crm: ActivityCrm
    console: FakeDeveloperConsole
    callbacks: list[str]


def _eventually(check: Callable[[], Any], what: str, limit: float = 20.0) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path: Any) -> Iterator[Stack]:
    rc, console, crm = FakeRingCentral(), FakeDeveloperConsole(), ActivityCrm()
    rc.admin(ADMIN_TOKEN, ACCOUNT)
    rc.user(USER_TOKEN, ACCOUNT)
    callbacks: list[str] = []

    def plugin(plugin_id: str) -> PluginServer:
        transport = HostRouter({RC_HOST: rc.transport}, default=httpx2.AsyncHTTPTransport())
        return PluginServer(plugin_id, secret=SECRET, rc_server=RC_SERVER, http_transport=transport)

    caps = plugin("sync-all-caps")
    caps.transform(all_caps)
    notes = plugin("async-summary-note")

    @notes.background
    async def noted(call: Invocation) -> Any:
        callbacks.append(call.callback_url or "")
        return await summarize(call)

    app_port = free_port()
    registry = ConnectorRegistry()
    registry.register_connector(PLATFORM, E2EConnector(log_format="text/plain"))
    transport = HostRouter(
        {CRM_HOST: crm.transport, RC_HOST: rc.transport, CONSOLE_HOST: console.transport},
        default=httpx2.AsyncHTTPTransport(),  # the plugin servers, over real sockets
    )
    app = create_app(
        registry,
        settings=Settings(
            DATABASE_URL=f"sqlite:///{tmp_path / 'e2e.db'}",
            APP_SERVER_SECRET_KEY="e2e-app-secret-0123456789abcdefgh",
            HASH_KEY="e2e-hash",
            APP_SERVER=f"http://127.0.0.1:{app_port}",
        ),
        http_transport=transport,
    )
    with (
        serving(caps.app) as caps_url,
        serving(notes.app) as notes_url,
        serving(app, port=app_port) as app_url,
    ):
        yield Stack(app_url, caps_url, notes_url, crm, console, callbacks)


def test_plugins_over_real_http(stack: Stack) -> None:
    admin = {"X-RC-Access-Token": ADMIN_TOKEN}
    stack.console.publish("sync-all-caps", plugin_entry(stack.caps_url))
    stack.console.publish("async-summary-note", plugin_entry(stack.notes_url, is_async=True))
    with httpx2.Client(base_url=stack.app_url, timeout=20) as client:
        for plugin_id in ("sync-all-caps", "async-summary-note"):
            installed = client.post(
                "/plugin/register",
                json={"pluginId": plugin_id, "rcAccountId": ACCOUNT},
                headers=admin,
            )
            assert installed.json() == {"successful": True}, installed.text

        # Signing in with the agent's RingCentral token records the user's account.
        login = client.post(
            "/apiKeyLogin",
            json={"platform": PLATFORM, "apiKey": "k"},
            headers={"X-RC-Access-Token": USER_TOKEN},
        )
        assert login.status_code == 200, login.text
        token = login.json()["jwtToken"]
        headers = {"Authorization": f"Bearer {token}"}
        saved = client.post(
            "/user/settings",
            json={"userSettings": {"plugin_sync-all-caps": {
                "value": {"config": {"ignoreLetters": {"value": "aeiou"}}}}}},
            headers=headers,
        )  # fmt: skip
        assert saved.status_code == 200, saved.text

        logged = client.post("/callLog", json=log_body(note="Send the quote"), headers=headers)
        assert logged.json()["successful"] is True, logged.text
        [activity] = stack.crm.activities.values()
        transformed = "SeND THe QuoTe"  # the user's config keeps the vowels
        assert activity["note"] == transformed

        expected = f"{transformed}\n\nReviewed by summary plugin (call of 120 s)"
        _eventually(lambda: activity.get("note") == expected, "the async plugin's note")
        assert activity["body"].count("Reviewed by summary plugin") == 1

        # The plugin (or a proxy) delivers the same report again: nothing changes.
        [callback_url] = stack.callbacks
        report = {"successful": True, "note": "Reviewed by summary plugin (call of 120 s)"}
        for _ in range(2):
            again = client.post(callback_url, json=report)
            assert (again.status_code, again.json()) == (
                404, {"successful": False, "message": "Async task not found"}
            )  # fmt: skip
        assert activity["note"] == expected
        assert activity["body"].count("Reviewed by summary plugin") == 1

        for plugin_id in ("sync-all-caps", "async-summary-note"):
            removed = client.delete(
                "/plugin/unregister",
                params={"pluginId": plugin_id, "rcAccountId": ACCOUNT},
                headers=admin,
            )
            assert removed.json() == {"successful": True}
        plain = client.post("/callLog", json=log_body("s-2", note="no plugins"), headers=headers)
        assert plain.json()["successful"] is True
        assert [a["note"] for a in stack.crm.activities.values()][-1] == "no plugins"
        assert len(stack.callbacks) == 1
