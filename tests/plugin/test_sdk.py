"""The plugin SDK in-process: credentials, registration, both async variants, callbacks, OAuth."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import jwt
import orjson
import pytest
from examples.plugins.allcaps import shout
from tests.fakes.plugins import RC_SERVER, FakeRingCentral, HostRouter

from appconnect.plugin import Completion, CredentialError, Invocation, OAuthCallback, PluginServer

SECRET = "sdk-test-secret-0123456789abcdef"
ACCOUNT = "123456789"


class Callbacks:
    """An App Connect stand-in receiving callbacks; answers a scripted status sequence."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[Any] = []

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.received.append((request.url.path, orjson.loads(request.content), request.headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx2.Response(status, json={"successful": status == 200})


def make(callbacks: Callbacks | None = None, **kwargs: Any) -> tuple[PluginServer, FakeRingCentral]:
    rc = FakeRingCentral()
    rc.admin("admin-token", ACCOUNT)
    routes = {"platform.ringcentral.com": rc.transport}
    if callbacks is not None:
        routes["app.test"] = callbacks.transport
    server = PluginServer(
        "p1", secret=SECRET, rc_server=RC_SERVER, http_transport=HostRouter(routes), **kwargs
    )
    return server, rc


async def call(server: PluginServer, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=server.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://plugin") as client:
        return await client.request(method, path, **kwargs)


def bearer(server: PluginServer, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.credentials.issue(ACCOUNT, **kwargs)}"}


# -- credentials ---------------------------------------------------------------------------


def test_credentials_carry_the_account_and_plugin_and_last_two_weeks() -> None:
    server, _ = make()
    token = server.issue_credential(ACCOUNT)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["rcAccountId"] == ACCOUNT and claims["pluginId"] == "p1"
    assert claims["exp"] - claims["iat"] == 14 * 24 * 3600
    identity, fresh = server.credentials.verify(f"BEARER {token}")
    assert (identity.rc_account_id, identity.plugin_id, fresh) == (ACCOUNT, "p1", None)


def test_a_credential_in_its_last_week_is_renewed() -> None:
    server, _ = make()
    old = server.credentials.issue(ACCOUNT, now=time.time() - 8 * 24 * 3600)
    identity, fresh = server.credentials.verify(f"Bearer {old}")
    assert fresh is not None and fresh != old
    assert identity.claims["exp"] > jwt.decode(old, SECRET, algorithms=["HS256"])["exp"]
    expired = server.credentials.issue(ACCOUNT, now=time.time() - 15 * 24 * 3600)
    with pytest.raises(CredentialError) as info:
        server.credentials.verify(f"Bearer {expired}")
    assert (info.value.status, info.value.message) == (401, "Invalid bearer token")


def test_issuing_without_a_secret_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLUGIN_SERVER_SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_SERVER_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PLUGIN_SERVER_SECRET_KEY"):
        PluginServer("p1").issue_credential(ACCOUNT)
    monkeypatch.setenv("APP_SERVER_SECRET_KEY", SECRET)
    assert PluginServer("p1").issue_credential(ACCOUNT)


async def test_renewal_is_sent_on_token_sync_and_sync_invocation() -> None:
    server, _ = make()
    server.transform(_echo)
    old = bearer(server, now=time.time() - 10 * 24 * 3600)
    synced = await call(server, "POST", "/token/sync", json={}, headers=old)
    assert (synced.status_code, synced.text) == (200, "OK")
    assert server.credentials.verify(f"Bearer {synced.headers['x-refreshed-jwt-token']}")
    invoked = await call(server, "POST", "/plugin/sync", json={"data": {}}, headers=old)
    assert "x-refreshed-jwt-token" in invoked.headers
    current = await call(server, "POST", "/token/sync", json={}, headers=bearer(server))
    assert "x-refreshed-jwt-token" not in current.headers


async def _echo(call: Invocation) -> dict[str, Any]:
    return call.data


# -- registration --------------------------------------------------------------------------


async def test_registration_validates_the_token_with_ringcentral() -> None:
    server, rc = make()
    ok = await call(server, "POST", "/admin/register",
                    json={"rcAccessToken": "admin-token", "rcAccountId": ACCOUNT})  # fmt: skip
    assert ok.status_code == 200
    identity, _ = server.credentials.verify(f"Bearer {ok.json()['jwtToken']}")
    assert identity.rc_account_id == ACCOUNT
    assert rc.seen[-1].headers["authorization"] == "Bearer admin-token"
    other = await call(server, "POST", "/admin/register",
                       json={"rcAccessToken": "admin-token", "rcAccountId": "999"})  # fmt: skip
    assert (other.status_code, other.text) == (403, "rcAccountId mismatch")
    for body in ({"rcAccessToken": "nope", "rcAccountId": ACCOUNT}, {"rcAccountId": ACCOUNT}, {}):
        refused = await call(server, "POST", "/admin/register", json=body)
        assert (refused.status_code, refused.text) == (400, "Plugin registration failed")
    broken = await call(server, "POST", "/admin/register", content=b"{",
                        headers={"content-type": "application/json"})  # fmt: skip
    assert broken.status_code == 400


# -- invocation ----------------------------------------------------------------------------


async def test_sync_invocation_returns_the_bare_payload() -> None:
    server, _ = make()

    @server.transform
    async def upper(call: Invocation) -> dict[str, Any]:
        return {**call.data, "note": shout(call.data["note"], call.setting("keep", ""))}

    body = {"data": {"note": "abc", "logInfo": {"x": 1}}, "config": {"keep": {"value": "b"}},
            "hashedExtensionId": None}  # fmt: skip
    answer = await call(server, "POST", "/plugin/sync", json=body, headers=bearer(server))
    assert answer.json() == {"note": "AbC", "logInfo": {"x": 1}}
    no_config = {"data": {"note": "abc"}, "config": None}
    answer = await call(server, "POST", "/plugin/sync", json=no_config, headers=bearer(server))
    assert answer.json() == {"note": "ABC"}
    bad = await call(server, "POST", "/plugin/sync", json={"data": 1}, headers=bearer(server))
    assert bad.status_code == 400


async def test_a_failing_handler_answers_500_text() -> None:
    server, _ = make()

    @server.transform
    async def broken(call: Invocation) -> dict[str, Any]:
        raise KeyError("note")

    answer = await call(server, "POST", "/plugin/sync", json={"data": {}}, headers=bearer(server))
    assert (answer.status_code, answer.text) == (500, "Plugin request failed")


async def test_async_call_task_reports_its_note_to_the_callback() -> None:
    callbacks = Callbacks()
    server, _ = make(callbacks)
    seen: list[Invocation] = []

    @server.background
    async def work(call: Invocation) -> str:
        seen.append(call)
        return f"Done for {call.identity.rc_account_id}"

    body = {"data": {"note": "n"}, "config": None, "asyncTaskId": "t-1",
            "callbackUrl": "http://app.test/plugin/async-callback/t-1",
            "hashedExtensionId": "h"}  # fmt: skip
    answer = await call(server, "POST", "/plugin/async", json=body, headers=bearer(server))
    assert answer.json() == {"accepted": True, "asyncTaskId": "t-1"}
    await server.drain()
    [(path, report, headers)] = callbacks.received
    assert path == "/plugin/async-callback/t-1"
    assert report == {"successful": True, "message": "Async plugin completed",
                      "note": f"Done for {ACCOUNT}"}  # fmt: skip
    assert "authorization" not in headers
    assert seen[0].hashed_extension_id == "h" and not seen[0].is_message


async def test_async_failure_is_reported_and_5xx_is_retried_but_404_is_not() -> None:
    callbacks = Callbacks(500, 200)
    server, _ = make(callbacks, callback_attempts=3)

    @server.background
    async def work(call: Invocation) -> Completion:
        if call.data.get("fail"):
            raise RuntimeError("upload failed")
        return Completion(note="x", message="ok")

    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)
        await real_sleep(0)

    body = {"data": {"fail": True}, "asyncTaskId": "t", "callbackUrl": "http://app.test/cb"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("appconnect.plugin.server.asyncio.sleep", no_wait)
        await call(server, "POST", "/plugin/async", json=body, headers=bearer(server))
        await server.drain()
    assert [r[1] for r in callbacks.received] == [
        {"successful": False, "message": "upload failed", "note": ""}
    ] * 2
    assert len(sleeps) == 1
    callbacks.received.clear()
    callbacks.statuses = [404]
    await call(server, "POST", "/plugin/async", json={**body, "data": {}}, headers=bearer(server))
    await server.drain()
    assert len(callbacks.received) == 1


async def test_sms_fax_notifications_have_no_callback() -> None:
    callbacks = Callbacks()
    server, _ = make(callbacks)
    seen: list[Invocation] = []

    @server.background
    async def work(call: Invocation) -> str:
        seen.append(call)
        return "ignored"

    body = {"data": {"logInfo": {"logInfo": {"messages": []}}}, "config": None}
    answer = await call(server, "POST", "/plugin/async", json=body, headers=bearer(server))
    assert answer.json() == {"accepted": True}
    await server.drain()
    assert seen[0].is_message and callbacks.received == []
    half = {**body, "asyncTaskId": "t"}
    rejected = await call(server, "POST", "/plugin/async", json=half, headers=bearer(server))
    assert rejected.status_code == 400
    assert rejected.json() == {
        "accepted": False,
        "message": "asyncTaskId and callbackUrl are required",
    }


# -- license and browser endpoints ---------------------------------------------------------


async def test_license_and_browser_endpoints() -> None:
    server, _ = make()
    assert (await call(server, "GET", "/isAlive")).text == "OK"
    licensed = await call(server, "GET", "/license", headers=bearer(server))
    assert licensed.json()["licenseStatus"] is True
    assert (await call(server, "GET", "/authUrl?pluginId=p1")).status_code == 400
    assert (await call(server, "GET", "/checkAuth")).json() == {"successful": True}
    assert (await call(server, "POST", "/logout", json={})).json() == {"successful": True}
    callbacks: list[OAuthCallback] = []

    @server.oauth_callback
    async def done(callback: OAuthCallback) -> None:
        if callback.callback_params.get("state") != "s1":
            raise ValueError("bad state")
        callbacks.append(callback)

    # The client does not encode callbackUri: code/state arrive as separate parameters.
    flat = await call(
        server, "GET",
        "/oauth/callback?hashedExtensionId=h&callbackUri=https://ext/redirect.html?code=c1"
        "&state=s1&scope=a",
    )  # fmt: skip
    assert flat.status_code == 200
    assert callbacks[0].callback_params == {"code": "c1", "state": "s1", "scope": "a"}
    assert callbacks[0].hashed_extension_id == "h"
    encoded = await call(
        server,
        "GET",
        "/oauth/callback",
        params={"hashedExtensionId": "", "callbackUri": "https://ext/r.html?code=c2&state=s1"},
    )
    assert encoded.status_code == 200 and callbacks[1].callback_params["code"] == "c2"
    forged = await call(
        server,
        "GET",
        "/oauth/callback",
        params={"hashedExtensionId": "", "callbackUri": "https://ext/r.html?code=c3&state=evil"},
    )
    assert forged.status_code == 400
    preflight = await call(
        server,
        "OPTIONS",
        "/checkAuth",
        headers={"Origin": "chrome-extension://abc", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
