"""Plugin routes and the plugin steps of call logging, against in-process SDK plugin servers."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from examples.plugins.allcaps import all_caps
from sqlalchemy.exc import OperationalError
from tests.api._call_log_helpers import log_body
from tests.api._plugin_helpers import (
    ACCOUNT,
    ADMIN_TOKEN,
    PluginWorld,
    plugin_world,
    sdk_server,
)
from tests.fakes.plugins import HostRouter

from appconnect.plugin import Completion, Invocation, PluginServer
from appconnect.services.errors import INTERNAL_ERROR
from appconnect.services.plugins import records
from appconnect.store.models import CacheRow, utcnow


def caps_server(router: HostRouter) -> PluginServer:
    server = sdk_server("sync-all-caps", router)
    server.transform(all_caps)
    return server


def notes_server(router: HostRouter, note: str = "Plugin summary") -> PluginServer:
    server = sdk_server("async-notes", router)

    @server.background
    async def work(call: Invocation) -> Completion:
        return Completion(note=note, message="done")

    return server


@pytest.fixture
async def world(db_url: str) -> Any:
    router = HostRouter({})
    servers = {"caps": caps_server(router), "notes": notes_server(router)}
    async with plugin_world(db_url, servers, router) as w:
        yield w


CAPS_SETTINGS = {"plugin_sync-all-caps": {"value": {"config": {"ignoreLetters": {"value": "e"}}}}}


# -- registration --------------------------------------------------------------------------


async def test_register_stores_the_manifest_and_an_encrypted_credential(world: PluginWorld) -> None:
    plugin_id = await world.install("caps")
    [row] = await world.plugin_rows()
    assert (row.rc_account_id, row.platform_name, row.data_key) == (
        ACCOUNT,
        plugin_id,
        "pluginData",
    )
    assert row.data["endpointUrl"] == "http://caps.plugins.test/plugin/sync"
    stored = row.data["jwtToken"]
    assert stored.startswith("gcm1:")
    [plugin] = await records.installed(world.rt, ACCOUNT)
    # The decrypted credential is the one the plugin server issued for this account.
    identity, _ = world.servers["caps"].credentials.verify(f"Bearer {plugin.token}")
    assert identity.rc_account_id == ACCOUNT
    [request] = world.console.seen
    assert request.url.path == f"/public-api/connectors/{plugin_id}/manifest"
    assert request.url.params["type"] == "plugin"


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"rcAccountId": ACCOUNT}, {"X-RC-Access-Token": ADMIN_TOKEN}, 400,
         "pluginId and rcAccountId are required"),
        ({"pluginId": "sync-all-caps", "rcAccountId": ACCOUNT}, {}, 400,
         "Missing RingCentral access token"),
        ({"pluginId": "sync-all-caps", "rcAccountId": ACCOUNT},
         {"X-RC-Access-Token": "user-token"}, 403, "Admin validation failed"),
        ({"pluginId": "sync-all-caps", "rcAccountId": "other"},
         {"X-RC-Access-Token": ADMIN_TOKEN}, 403, "rcAccountId mismatch"),
        ({"pluginId": "unknown", "rcAccountId": ACCOUNT}, {"X-RC-Access-Token": ADMIN_TOKEN},
         400, "Request failed with status code 404"),
    ],
)  # fmt: skip
async def test_register_refusals(
    world: PluginWorld, body: dict[str, Any], headers: dict[str, str], status: int, message: str
) -> None:
    world.rc.user("user-token", ACCOUNT)
    world.publish("caps")
    response = await world.client.post("/plugin/register", json=body, headers=headers)
    assert response.status_code == status
    assert response.json() == {"successful": False, "returnMessage": message}
    assert await world.plugin_rows() == []


async def test_register_needs_a_credential_from_the_plugin(world: PluginWorld) -> None:
    plugin_id = world.publish("caps", userRegisterEndpointUrl="http://nowhere.test/register")
    response = await world.register(plugin_id)
    assert response.status_code == 400
    assert response.json()["successful"] is False
    assert await world.plugin_rows() == []


async def test_register_with_a_manifest_without_endpoint_fails(world: PluginWorld) -> None:
    plugin_id = world.publish("caps", endpointUrl=None)
    response = await world.register(plugin_id)
    assert response.json() == {
        "successful": False,
        "returnMessage": "Plugin endpoint URL not found for sync-all-caps",
    }


async def test_private_plugin_manifest_comes_from_the_owner_account(world: PluginWorld) -> None:
    plugin_id = world.publish("caps")
    response = await world.register(plugin_id, pluginAccess="private", ownerRcAccountId=42)
    assert response.json() == {"successful": True}
    [request] = world.console.seen
    assert dict(request.url.params) == {"access": "internal", "type": "plugin", "accountId": "42"}


async def test_a_registration_that_cannot_be_stored_is_reported(
    world: PluginWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*_: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error at /var/db"))

    monkeypatch.setattr(records, "save", fail)
    plugin_id = world.publish("caps")
    response = await world.register(plugin_id)
    assert response.status_code == 400
    assert response.json() == {"successful": False, "returnMessage": INTERNAL_ERROR}


async def test_unregister_forgets_the_plugin(world: PluginWorld) -> None:
    plugin_id = await world.install("caps")
    response = await world.client.delete(
        "/plugin/unregister",
        params={"pluginId": plugin_id, "rcAccountId": ACCOUNT, "rcAccessToken": ADMIN_TOKEN},
    )
    assert response.json() == {"successful": True}
    assert await world.plugin_rows() == []
    again = await world.client.delete(
        "/plugin/unregister",
        params={"pluginId": plugin_id, "rcAccountId": ACCOUNT},
        headers={"X-RC-Access-Token": f"Bearer {ADMIN_TOKEN}"},
    )
    assert again.json() == {"successful": True}
    denied = await world.client.delete(
        "/plugin/unregister", params={"pluginId": plugin_id, "rcAccountId": ACCOUNT}
    )
    assert denied.status_code == 400


# -- license status ------------------------------------------------------------------------


async def test_license_status(world: PluginWorld) -> None:
    headers = await world.login()
    params = {"rcAccountId": ACCOUNT, "pluginId": "sync-all-caps"}
    missing = await world.client.get("/plugin/licenseStatus", params=params, headers=headers)
    assert (missing.status_code, missing.content) == (200, b"")
    await world.install("caps")

    @world.servers["caps"].license
    async def license_of(identity: Any) -> dict[str, Any]:
        return {"licenseStatus": False, "licenseStatusDescription": identity.rc_account_id,
                "errorMessage": "Buy it"}  # fmt: skip

    found = await world.client.get("/plugin/licenseStatus", params=params, headers=headers)
    assert found.json() == {
        "licenseStatus": False, "licenseStatusDescription": ACCOUNT, "errorMessage": "Buy it"
    }  # fmt: skip
    other = await world.client.get(
        "/plugin/licenseStatus", params={**params, "rcAccountId": "other"}, headers=headers
    )
    assert (other.status_code, other.content) == (200, b"")
    no_auth = await world.client.get("/plugin/licenseStatus", params=params)
    assert (no_auth.status_code, no_auth.text) == (
        400, "Please go to Settings and authorize CRM platform"
    )  # fmt: skip
    no_params = await world.client.get("/plugin/licenseStatus", headers=headers)
    assert (no_params.status_code, no_params.text) == (400, "rcAccountId and pluginId are required")


async def test_license_failure_reads_as_unlicensed(world: PluginWorld) -> None:
    headers = await world.login()
    plugin_id = await world.install("caps", licenseStatusUrl="http://caps.plugins.test/nope")
    response = await world.client.get(
        "/plugin/licenseStatus",
        params={"rcAccountId": ACCOUNT, "pluginId": plugin_id},
        headers=headers,
    )
    assert response.json() == {
        "licenseStatus": False,
        "licenseStatusDescription": "Request failed with status code 404",
    }


# -- synchronous plugins -------------------------------------------------------------------


async def test_sync_plugin_transforms_the_note_before_the_crm_write(world: PluginWorld) -> None:
    await world.install("caps")
    headers = await world.login(settings=CAPS_SETTINGS)
    response = await world.client.post("/callLog", json=log_body(note="keep the quote"),
                                       headers=headers)  # fmt: skip
    assert response.json()["successful"] is True, response.text
    [activity] = world.crm.activities.values()
    assert activity["note"] == "KeeP THe QUOTe"
    assert activity["body"].startswith("- Note: KeeP THe QUOTe\n")


async def test_sync_plugin_without_saved_settings_gets_null_config(world: PluginWorld) -> None:
    seen: list[Any] = []

    @world.servers["caps"].transform
    async def record(call: Invocation) -> dict[str, Any]:
        seen.append((call.config, call.hashed_extension_id, call.identity.rc_account_id))
        return call.data

    await world.install("caps")
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(), headers=headers)
    assert response.json()["successful"] is True
    assert seen == [(None, "hashed-ext-1", ACCOUNT)]


async def test_admin_settings_override_the_users_plugin_config(world: PluginWorld) -> None:
    seen: list[Any] = []

    @world.servers["caps"].transform
    async def record(call: Invocation) -> dict[str, Any]:
        seen.append(call.config)
        return call.data

    await world.install("caps")
    user_config = {"ignoreLetters": {"value": "e"}, "extra": {"value": "mine"}}
    headers = await world.login(
        settings={"plugin_sync-all-caps": {"value": {"config": user_config}}}
    )
    admin_entry = {"customizable": True, "value": {"config": {
        "ignoreLetters": {"value": "xyz", "customizable": False}}}}  # fmt: skip
    saved = await world.client.post(
        "/admin/settings",
        json={"adminSettings": {"userSettings": {"plugin_sync-all-caps": admin_entry}}},
        headers={"X-RC-Access-Token": ADMIN_TOKEN},
    )
    assert saved.status_code == 200, saved.text
    await world.client.post("/callLog", json=log_body(), headers=headers)
    assert seen == [{
        "ignoreLetters": {"value": "xyz", "customizable": False},
        "extra": {"value": "mine", "customizable": True},
    }]  # fmt: skip


async def test_a_failing_sync_plugin_fails_the_log_and_writes_nothing(world: PluginWorld) -> None:
    @world.servers["caps"].transform
    async def broken(call: Invocation) -> dict[str, Any]:
        raise RuntimeError("boom")

    await world.install("caps")
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(), headers=headers)
    body = response.json()
    assert body["successful"] is False
    assert body["returnMessage"]["message"] == "Error creating call log"
    assert world.crm.activities == {}
    # The reservation was released: the same call can be logged once the plugin is fixed.
    world.servers["caps"].transform(all_caps)
    retry = await world.client.post("/callLog", json=log_body(), headers=headers)
    assert retry.json()["successful"] is True


async def test_a_slow_sync_plugin_times_out(db_url: str) -> None:
    router = HostRouter({})
    server = sdk_server("sync-all-caps", router)
    never = asyncio.Event()

    @server.transform
    async def hang(call: Invocation) -> dict[str, Any]:
        await never.wait()
        return call.data

    async with plugin_world(
        db_url, {"caps": server}, router, APPCONNECT_PLUGIN_TIMEOUT=0.2
    ) as world:
        await world.install("caps")
        headers = await world.login()
        response = await world.client.post("/callLog", json=log_body(), headers=headers)
        assert response.json()["returnMessage"]["message"] == "Error creating call log"
        assert world.crm.activities == {}
        never.set()


async def test_a_rejected_credential_reads_as_an_authorization_error(world: PluginWorld) -> None:
    plugin_id = await world.install("caps")
    await records.rotate_token(world.rt, ACCOUNT, plugin_id, "forged")
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(), headers=headers)
    assert response.json()["returnMessage"]["message"] == "Authorization error"


async def test_a_refreshed_credential_is_stored_and_the_manifest_kept(world: PluginWorld) -> None:
    server = world.servers["caps"]
    plugin_id = await world.install("caps")
    old = server.credentials.issue(ACCOUNT, now=(utcnow() - timedelta(days=10)).timestamp())
    await records.rotate_token(world.rt, ACCOUNT, plugin_id, old)
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(), headers=headers)
    assert response.json()["successful"] is True
    [plugin] = await records.installed(world.rt, ACCOUNT)
    assert plugin.token != old
    assert plugin.endpoint_url == "http://caps.plugins.test/plugin/sync"
    server.credentials.verify(f"Bearer {plugin.token}")


async def test_sync_plugin_runs_on_call_log_update(world: PluginWorld) -> None:
    await world.install("caps")
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(note="first"), headers=headers)
    response = await world.client.patch(
        "/callLog", json={"sessionId": "s-1", "note": "second try"}, headers=headers
    )
    assert response.json()["successful"] is True, response.text
    [activity] = world.crm.activities.values()
    assert activity["note"] == "SECOND TRY"
    assert activity["body"].count("SECOND TRY") == 1


# -- asynchronous call plugins -------------------------------------------------------------


async def test_async_plugin_note_is_appended_exactly_once(world: PluginWorld) -> None:
    await world.install("notes", is_async=True)
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(note="User note"),
                                       headers=headers)  # fmt: skip
    assert response.json()["successful"] is True
    await world.drain()  # the plugin's background job has called back
    [activity] = world.crm.activities.values()
    assert activity["note"] == "User note\n\nPlugin summary"
    assert activity["body"].startswith("- Note: User note\n\nPlugin summary\n- Summary:")
    assert activity["body"].count("Plugin summary") == 1
    assert await world.task_rows() == []  # completed tasks are deleted


async def test_async_note_reaches_a_log_with_an_extension_identity(world: PluginWorld) -> None:
    await world.install("notes", is_async=True)
    headers = await world.login()
    body = log_body(note="User note", extensionNumber="101")
    body["logInfo"]["rcExtensionId"] = "ext-raw-7"  # hashed with the server key, like SSCL
    response = await world.client.post("/callLog", json=body, headers=headers)
    assert response.json()["successful"] is True
    await world.drain()
    [activity] = world.crm.activities.values()
    assert activity["note"] == "User note\n\nPlugin summary"
    assert await world.task_rows() == []


async def test_async_plugin_gets_its_task_and_callback_url(world: PluginWorld) -> None:
    delivered: list[dict[str, Any]] = []

    @world.servers["notes"].background
    async def remember(call: Invocation) -> None:
        delivered.append({"url": call.callback_url, "id": call.async_task_id, "data": call.data})

    await world.install("notes", is_async=True)
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(note="User note"), headers=headers)
    await world.drain()  # the job returned None: it reported an empty note
    [job] = delivered
    assert job["data"]["note"] == "User note"
    assert job["url"] == f"http://app/plugin/async-callback/{job['id']}"
    [activity] = world.crm.activities.values()
    assert activity["note"] == "User note"


async def test_concurrent_duplicate_callbacks_append_once(world: PluginWorld) -> None:
    tasks: list[str] = []

    @world.servers["notes"].background
    async def hold(call: Invocation) -> None:
        tasks.append(call.callback_url or "")
        raise asyncio.CancelledError  # report nothing: the test reports instead

    await world.install("notes", is_async=True)
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(note="User note"), headers=headers)
    await world.drain()
    [url] = tasks
    report = {"successful": True, "note": "Plugin summary", "message": "ok"}
    first, second = await asyncio.gather(
        world.client.post(url, json=report), world.client.post(url, json=report)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 404]
    third = await world.client.post(url, json=report)
    assert third.json() == {"successful": False, "message": "Async task not found"}
    [activity] = world.crm.activities.values()
    assert activity["note"] == "User note\n\nPlugin summary"
    assert activity["body"].count("Plugin summary") == 1
    assert len(world.crm.calls("PUT")) == 1


async def test_two_async_plugins_reporting_together_both_add_their_note(db_url: str) -> None:
    router = HostRouter({})
    urls: list[str] = []

    def holding(plugin_id: str) -> PluginServer:
        server = sdk_server(plugin_id, router)

        @server.background
        async def hold(call: Invocation) -> None:
            urls.append(call.callback_url or "")
            raise asyncio.CancelledError  # the test reports instead

        return server

    servers = {"one": holding("plugin-one"), "two": holding("plugin-two")}
    async with plugin_world(db_url, servers, router) as world:
        await world.install("one", is_async=True)
        await world.install("two", is_async=True)
        headers = await world.login()
        await world.client.post("/callLog", json=log_body(note="User note"), headers=headers)
        await world.drain()
        assert len(urls) == 2
        read = world.connector.get_call_log

        async def slow_read(**kwargs: Any) -> Any:
            found = await read(**kwargs)
            await asyncio.sleep(0.05)  # let the other report read the same notes meanwhile
            return found

        world.connector.get_call_log = slow_read  # type: ignore[method-assign]
        answers = await asyncio.gather(
            *(world.client.post(url, json={"successful": True, "note": f"note {i}"})
              for i, url in enumerate(urls))
        )  # fmt: skip
        assert [a.status_code for a in answers] == [200, 200]
        [activity] = world.crm.activities.values()
        assert sorted(activity["note"].split("\n\n")) == ["User note", "note 0", "note 1"]


async def test_a_callback_and_a_concurrent_patch_of_the_same_log_both_survive(
    world: PluginWorld,
) -> None:
    """The callback's read-append-write and PATCH /callLog's re-compose take turns on the log's
    lease (services/log_locks.py): the plugin note and the PATCH's recording link both land."""
    urls: list[str] = []

    @world.servers["notes"].background
    async def hold(call: Invocation) -> None:
        urls.append(call.callback_url or "")
        raise asyncio.CancelledError  # report nothing: the test reports instead

    await world.install("notes", is_async=True)
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(note="User note"), headers=headers)
    await world.drain()
    [url] = urls
    read = world.connector.get_call_log
    readers: list[str] = []
    other_reader = asyncio.Event()
    overlapped: list[bool] = []

    async def overlapping_read(**kwargs: Any) -> Any:
        found = await read(**kwargs)
        readers.append("read")
        if len(readers) == 1:
            # Without the lease the second update reads the same old log now, and one of the
            # two writes is lost; with it, nobody else reads until this update has written.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(other_reader.wait(), 0.5)
            overlapped.append(other_reader.is_set())
        else:
            other_reader.set()
        return found

    world.connector.get_call_log = overlapping_read  # type: ignore[method-assign]
    patch = {"sessionId": "s-1", "recordingLink": "https://rec.example/r1"}
    answers = await asyncio.gather(
        world.client.post(url, json={"successful": True, "note": "Plugin summary"}),
        world.client.patch("/callLog", json=patch, headers=headers),
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].json()["successful"] is True
    assert overlapped == [False]  # the second update read the log only after the first wrote
    [activity] = world.crm.activities.values()
    assert activity["note"] == "User note\n\nPlugin summary"
    assert "Plugin summary" in activity["body"]
    assert "https://rec.example/r1" in activity["body"]


async def test_failure_report_marks_the_task_failed(world: PluginWorld) -> None:
    @world.servers["notes"].background
    async def fail(call: Invocation) -> None:
        raise RuntimeError("upload failed")

    await world.install("notes", is_async=True)
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(), headers=headers)
    await world.drain()
    [task] = await world.task_rows()
    assert task.status == "failed"
    assert task.data["message"] == "upload failed"
    assert task.cache_key == "asyncPluginTask-async-notes"
    assert task.data["operation"] == "createCallLog"
    assert task.data["sessionId"] == "s-1"
    assert world.crm.calls("PUT") == []
    # A failed task may still be completed within its week.
    done = await world.client.post(
        f"/plugin/async-callback/{task.id}", json={"successful": True, "note": "late"}
    )
    assert done.json() == {"successful": True}
    [activity] = world.crm.activities.values()
    assert activity["note"] == "Test note\n\nlate"


async def test_async_dispatch_failure_never_fails_the_log(world: PluginWorld) -> None:
    await world.install("notes", is_async=True, tokenSyncUrl=None)
    headers = await world.login()
    response = await world.client.post("/callLog", json=log_body(), headers=headers)
    assert response.json()["successful"] is True
    [task] = await world.task_rows()
    assert (task.status, task.data["message"]) == ("failed", "Plugin token sync URL is not set")


async def test_async_update_sends_the_payload_under_log_info(world: PluginWorld) -> None:
    seen: list[Any] = []

    @world.servers["notes"].background
    async def note(call: Invocation) -> str:
        seen.append(call.data)
        return "after update"

    headers = await world.login()
    await world.client.post("/callLog", json=log_body(note="first"), headers=headers)
    await world.install("notes", is_async=True)
    patch = {"sessionId": "s-1", "note": "second", "duration": 300}
    response = await world.client.patch("/callLog", json=patch, headers=headers)
    assert response.json()["successful"] is True
    await world.drain()
    assert seen == [{"logInfo": patch}]
    [activity] = world.crm.activities.values()
    assert activity["note"] == "second\n\nafter update"
    assert "- Duration: 5 minutes\n" in activity["body"]


# -- the callback route --------------------------------------------------------------------


async def test_callback_refusals(world: PluginWorld) -> None:
    bad = await world.client.post("/plugin/async-callback/x", json={"successful": "yes"})
    assert (bad.status_code, bad.json()) == (
        400, {"successful": False, "message": "successful is required"}
    )  # fmt: skip
    unknown = await world.client.post("/plugin/async-callback/x", json={"successful": True})
    assert (unknown.status_code, unknown.json()) == (
        404, {"successful": False, "message": "Async task not found"}
    )  # fmt: skip
    # Other cache rows are not tasks, whatever their id.
    async with world.rt.db.transaction() as session:
        session.add(CacheRow(id="other", status="pending", cache_key="mcp", data={}))
        session.add(CacheRow(
            id="old", status="pending", cache_key="asyncPluginTask-p",
            data={"type": "asyncPluginTask"}, expiry=utcnow() - timedelta(seconds=1),
        ))  # fmt: skip
    for task_id in ("other", "old"):
        response = await world.client.post(
            f"/plugin/async-callback/{task_id}", json={"successful": False}
        )
        assert response.status_code == 404
    assert [row.id for row in await world.task_rows()] == ["other"]  # the expired one is gone


async def test_expired_tasks_are_cleaned_up(world: PluginWorld) -> None:
    async with world.rt.db.transaction() as session:
        for i, days in enumerate((-8, 1)):
            session.add(CacheRow(
                id=f"t{i}", status="pending", cache_key="asyncPluginTask-p",
                data={"type": "asyncPluginTask"}, expiry=utcnow() + timedelta(days=days),
            ))  # fmt: skip
    assert await records.delete_expired_tasks(world.rt) == 1
    assert [row.id for row in await world.task_rows()] == ["t1"]


async def test_a_task_survives_a_restart(db_url: str) -> None:
    router = HostRouter({})
    reports: list[str] = []

    def server() -> PluginServer:
        s = sdk_server("async-notes", router)

        @s.background
        async def keep(call: Invocation) -> None:
            reports.append(call.callback_url or "")
            raise asyncio.CancelledError

        return s

    async with plugin_world(db_url, {"notes": server()}, router) as world:
        await world.install("notes", is_async=True)
        headers = await world.login()
        await world.client.post("/callLog", json=log_body(), headers=headers)
        await world.drain()
        activities = dict(world.crm.activities)
    async with plugin_world(db_url, {"notes": server()}, router) as world:
        world.crm.activities.update(activities)
        await world.login()
        response = await world.client.post(reports[0], json={"successful": True, "note": "N"})
        assert response.json() == {"successful": True}
        [activity] = world.crm.activities.values()
        assert activity["note"] == "Test note\n\nN"


# -- SMS and fax ---------------------------------------------------------------------------


def message_body(*types: str) -> dict[str, Any]:
    return {
        "logInfo": {
            "messages": [
                {"id": f"m{i}", "type": t, "direction": "Outbound", "subject": "hello there",
                 "creationTime": "2024-01-15T10:30:00Z", "from": {"phoneNumber": "+1"},
                 "to": [{"phoneNumber": "+2"}]}
                for i, t in enumerate(types)
            ],
            "correspondents": [{"phoneNumber": "+16505550122"}],
            "conversationId": "conv-1",
            "conversationLogId": "conv-log-1",
        },
        "contactId": "c-1",
        "contactName": "Grace",
    }  # fmt: skip


async def test_message_plugins_by_type(world: PluginWorld) -> None:
    sync_seen: list[Any] = []
    async_seen: list[Any] = []

    @world.servers["caps"].transform
    async def tag(call: Invocation) -> dict[str, Any]:
        sync_seen.append(call.data)
        return {**call.data, "contactName": "GRACE"}

    @world.servers["notes"].background
    async def notify(call: Invocation) -> None:
        async_seen.append((call.is_message, call.data))

    await world.install("caps", log_types=("sms",))
    await world.install("notes", is_async=True, log_types=("fax",))
    headers = await world.login()
    await world.client.post("/messageLog", json=message_body("SMS"), headers=headers)
    await world.drain()
    assert len(sync_seen) == 1 and async_seen == []
    voicemail = message_body("Voicemail")
    voicemail["logInfo"]["conversationLogId"] = "conv-log-2"
    await world.client.post("/messageLog", json=voicemail, headers=headers)
    fax = message_body("Fax")
    fax["logInfo"]["conversationLogId"] = "conv-log-3"
    await world.client.post("/messageLog", json=fax, headers=headers)
    for _ in range(50):  # the fire-and-forget post is not awaited by the log
        if async_seen:
            break
        await asyncio.sleep(0.02)
    await world.drain()
    assert len(sync_seen) == 1
    assert async_seen == [(True, {"logInfo": fax})]
    assert await world.task_rows() == []


async def test_message_log_fails_with_its_sync_plugin(world: PluginWorld) -> None:
    @world.servers["caps"].transform
    async def broken(call: Invocation) -> dict[str, Any]:
        raise RuntimeError("no")

    await world.install("caps", log_types=("sms",))
    headers = await world.login()
    response = await world.client.post("/messageLog", json=message_body("SMS"), headers=headers)
    assert response.json()["returnMessage"]["message"] == "Error creating message log"


async def test_plugin_credential_is_never_sent_to_the_crm(world: PluginWorld) -> None:
    await world.install("caps")
    headers = await world.login()
    await world.client.post("/callLog", json=log_body(), headers=headers)
    [plugin] = await records.installed(world.rt, ACCOUNT)
    for request in world.crm.requests:
        assert plugin.token not in (request.headers.get("authorization") or "")
    assert isinstance(world.crm.requests[0].headers, httpx2.Headers)
