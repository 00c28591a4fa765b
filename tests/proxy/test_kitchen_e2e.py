"""A second config that uses every operation with the other options of the spec, over HTTP.

Username/password login with an operation-level auth and an overriding API key, a custom API
key header, form and text bodies, list bodies, an absolute per-user URL, default mapping paths,
PUT/PATCH/DELETE, and the failure paths: CRM errors, a blocked address, a missing config.
"""

from __future__ import annotations

import base64
import json

import httpx2
import pytest
from tests.fakes import FakeCrm
from tests.proxy._proxy_helpers import example, proxy_app
from tests.support import bearer, serve

from appconnect import Settings
from appconnect.connectors.proxy import AddressGuard, ProxyConfigs

API = "https://kitchen.example/api"
TENANT_HOST = "acme.kitchen.example"


def kitchen_crm() -> FakeCrm:
    crm = FakeCrm()
    crm.on(
        "POST", "/api/session", json={"displayName": "Kit Chen", "token": "tok-1", "tenant": "t1"}
    )
    crm.on("GET", "/api/contacts", json=[{"id": 5, "name": "Jo", "phone": "+14155550100"}])
    crm.on("POST", "/api/contacts", json={"id": 6, "name": "Created"})
    crm.on("POST", "/calls", json={"callId": 77}, host=TENANT_HOST)
    crm.on("GET", "/api/calls/77", json={"subject": "S", "note": "N"})
    crm.on("PUT", "/api/calls/77", httpx2.Response(200, text="ok"))
    crm.on("POST", "/api/calls/77/disposition", httpx2.Response(204))
    crm.on("POST", "/api/messages", json={"id": "msg-1"})
    crm.on("PATCH", "/api/messages/msg-1", json={})
    crm.on("GET", "/api/users", json={"users": [{"uid": 1, "name": "A", "email": "a@x"}]})
    crm.on("GET", "/api/license", json={"isLicenseValid": False, "licenseStatus": "Expired"})
    crm.on("DELETE", "/api/session", httpx2.Response(204))
    return crm


async def login(client: httpx2.AsyncClient, proxy_id: str = "kitchen-1") -> httpx2.Response:
    return await client.post(
        "/apiKeyLogin",
        json={
            "platform": "kitchen",
            "apiKey": "unused",
            "hostname": TENANT_HOST,
            "proxyId": proxy_id,
            "additionalInfo": {"username": "kit", "password": "pw", "tenant": "t1"},
        },
    )


async def test_kitchen_config_runs_every_operation(settings: Settings) -> None:
    crm = kitchen_crm()
    configs = ProxyConfigs({"kitchen-1": example("kitchen")})
    async with serve(proxy_app(settings, crm, configs)) as (client, rt):
        answer = await login(client)
        assert answer.status_code == 200, answer.text
        assert answer.json()["returnMessage"]["message"] == "Connected to kitchen."
        token = answer.json()["jwtToken"]
        session = crm.requests[-1]
        assert session.url == f"{API}/session"
        assert session.headers["authorization"] == "Basic " + base64.b64encode(b"kit:pw").decode()
        assert "x-api-key" not in session.headers  # the operation's auth replaced the config's
        assert session.json() == {"tenant": "t1"}
        user = await rt.users.get("kit-kitchen")
        assert user is not None
        assert user.access_token == "tok-1"  # overridingApiKeyPath
        assert user.platform_additional_info == {
            "username": "kit",
            "tenant": "t1",
            "proxyId": "kitchen-1",
        }

        found = await client.get("/contact?phoneNumber=%2B14155550100", headers=bearer(token))
        assert found.json()["contact"] == [
            {
                "id": 5,
                "name": "Jo",
                "phone": "+14155550100",
                "type": "Contact",
                "title": "",
                "company": "",
                "additionalInfo": None,
            }
        ]
        look = crm.requests[-1]
        assert look.url == f"{API}/contacts?phone=(415)+555-0100&ext=false"
        assert look.headers["x-api-key"] == "tok-1"
        assert look.headers["x-tenant"] == "t1"

        named = await client.get("/custom/contact/search?name=Jo", headers=bearer(token))
        assert named.json()["successful"] is True
        assert crm.requests[-1].url == f"{API}/contacts?name=Jo"

        created = await client.post(
            "/contact",
            json={"phoneNumber": "+14155550111", "newContactName": "New One"},
            headers=bearer(token),
        )
        assert created.json()["contact"] == {"id": 6, "name": "Created", "type": "Contact"}
        form = crm.requests[-1]
        assert form.body == b"name=New+One&phone=%2B14155550111"
        assert form.headers["content-type"] == "application/x-www-form-urlencoded"

        logged = await client.post(
            "/callLog",
            json={
                "logInfo": {
                    "sessionId": "s-9",
                    "telephonySessionId": "t-9",
                    "direction": "Outbound",
                    "startTime": 1714575845000,
                    "duration": 60,
                    "result": "Completed",
                    "from": {"phoneNumber": "+14155550199"},
                    "to": {"phoneNumber": "+14155550100"},
                },
                "contactId": 5,
                "contactName": "Jo",
                "note": "hello",
            },
            headers=bearer(token),
        )
        assert logged.json().get("logId") == "77", (logged.text, crm.requests[-1].url)
        call = crm.requests[-1]
        assert call.url == f"https://{TENANT_HOST}/calls"
        sent = call.json()
        assert sent.pop("notes").startswith("- Note: hello\n")
        assert sent == {
            "session": "s-9",
            "tags": ["Outbound", "Completed", None],
            "contact": {"id": 5, "phone": "+14155550100"},
        }

        details = await client.get(
            "/callLog?sessionIds=s-9&requireDetails=true", headers=bearer(token)
        )
        assert details.json()["logs"][0]["logData"]["subject"] == "S"

        updated = await client.patch(
            "/callLog",
            json={"sessionId": "s-9", "note": "changed", "duration": 61},
            headers=bearer(token),
        )
        assert updated.json()["successful"] is True, updated.text
        put = crm.requests[-1]
        assert (put.method, put.url, put.body) == (
            "PUT",
            f"{API}/calls/77",
            b"note=changed&duration=61",
        )
        assert put.headers["content-type"] == "application/x-www-form-urlencoded"

        disposed = await client.put(
            "/callDisposition",
            json={"sessionId": "s-9", "dispositions": {"ids": [1, 2]}},
            headers=bearer(token),
        )
        assert disposed.json()["successful"] is True, disposed.text
        assert crm.requests[-1].json() == {"ids": [1, 2]}

        sms = {
            "id": "m1",
            "type": "SMS",
            "direction": "Outbound",
            "from": {"phoneNumber": "+14155550199"},
            "to": [{"phoneNumber": "+14155550100"}],
            "subject": "hello there",
            "creationTime": "2024-05-01T16:00:00Z",
        }
        body = {
            "logInfo": {
                "conversationId": "c",
                "conversationLogId": "c-1",
                "correspondents": [{"phoneNumber": "+14155550100"}],
                "messages": [sms],
            },
            "contactId": 5,
            "contactName": "Jo",
        }
        first = await client.post("/messageLog", json=body, headers=bearer(token))
        assert first.json()["successful"] is True, first.text
        assert crm.requests[-1].json() == {"text": "hello there", "contact": 5}
        body["logInfo"]["messages"] = [{**sms, "id": "m2", "subject": "more"}]
        await client.post("/messageLog", json=body, headers=bearer(token))
        assert (crm.requests[-1].method, crm.requests[-1].url) == ("PATCH", f"{API}/messages/msg-1")
        assert crm.requests[-1].json() == {"append": "more"}

        view = rt.registry.get_connector("kitchen")
        user = await rt.users.get("kit-kitchen")
        assert await view.call("getUserList", user=user, auth_header="") == [
            {"id": 1, "name": "A", "email": "a@x"}
        ]

        licence = await client.get("/licenseStatus", headers=bearer(token))
        assert licence.json() == {"isLicenseValid": False, "licenseStatus": "Expired"}

        out = await client.post("/unAuthorize", headers=bearer(token))
        assert out.json()["message"] == "Logged out"
        assert crm.requests[-1].method == "DELETE"
        assert crm.requests[-1].headers["x-api-key"] == "tok-1"


async def test_crm_errors_reach_the_client_as_the_reference_maps_them(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    crm = kitchen_crm()
    crm.on(
        "GET",
        "/api/contacts",
        httpx2.Response(401, json={"error": "expired"}, headers={"x-request-id": "r-1"}),
    )
    async with serve(proxy_app(settings, crm, ProxyConfigs({"kitchen-1": example("kitchen")}))) as (
        client,
        _,
    ):
        token = (await login(client)).json()["jwtToken"]
        caplog.clear()
        found = await client.get("/contact?phoneNumber=%2B14155550100", headers=bearer(token))
        assert found.json()["returnMessage"]["message"] == "Authorization error"
    [event] = [
        r.getMessage() for r in caplog.records if "PROXY_CONNECTOR_REQUEST_FAILED" in r.getMessage()
    ]
    fields = json.loads(event.split(" ", 1)[1])
    assert fields["statusCode"] == 401 and fields["targetHost"] == "kitchen.example"
    assert fields["upstreamRequestId"] == "r-1" and fields["proxyOperation"] == "findContact"
    assert fields["timeoutMs"] == 5000 and fields["connectorName"] == "kitchen"
    assert "4155550100" not in event and "tok-1" not in event  # no personal data, no tokens


async def test_a_login_without_a_known_config_is_refused(settings: Settings) -> None:
    crm = kitchen_crm()
    async with serve(proxy_app(settings, crm, ProxyConfigs({}))) as (client, _):
        answer = await login(client, proxy_id="nobody")
        assert answer.status_code == 400
        assert answer.json()["returnMessage"]["message"].startswith(
            "Could not load user information"
        )
    assert crm.requests == []


async def test_an_invalid_config_is_refused_not_fatal(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = example("kitchen")
    broken["operations"]["getUserInfo"]["body"] = 5
    crm = kitchen_crm()
    async with serve(proxy_app(settings, crm, ProxyConfigs({"kitchen-1": broken}))) as (client, _):
        answer = await login(client)
        assert answer.status_code == 400
        assert (await client.get("/isAlive")).status_code == 200
    assert crm.requests == []
    assert any("getUserInfo.body" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "192.168.0.9"]
)
async def test_configs_cannot_reach_private_addresses(settings: Settings, address: str) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    crm = kitchen_crm()
    configs = ProxyConfigs({"kitchen-1": example("kitchen")})
    app = proxy_app(settings, crm, configs, guard=AddressGuard(resolver=resolver))
    async with serve(app) as (client, _):
        answer = await login(client)
        assert answer.status_code == 400
        assert "non-public address" in answer.json()["error"]
    assert crm.requests == []


async def test_allowed_hosts_open_the_guard(settings: Settings) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["10.1.2.3"]

    crm = kitchen_crm()
    configs = ProxyConfigs({"kitchen-1": example("kitchen")})
    guard = AddressGuard(["10.0.0.0/8"], resolver=resolver)
    async with serve(proxy_app(settings, crm, configs, guard=guard)) as (client, _):
        assert (await login(client)).status_code == 200
    assert len(crm.requests) == 1


async def test_redirects_are_followed_without_credentials_to_other_hosts(
    settings: Settings,
) -> None:
    crm = kitchen_crm()
    crm.on(
        "GET",
        "/api/contacts",
        httpx2.Response(302, headers={"location": "https://mirror.example/contacts?x=1"}),
    )
    crm.on("GET", "/contacts", json=[{"id": 9, "name": "Mirrored"}], host="mirror.example")
    configs = ProxyConfigs({"kitchen-1": example("kitchen")})
    async with serve(proxy_app(settings, crm, configs)) as (client, _):
        token = (await login(client)).json()["jwtToken"]
        found = await client.get("/contact?phoneNumber=%2B14155550100", headers=bearer(token))
        assert found.json()["contact"][0]["id"] == 9
    first, second = crm.requests[-2:]
    assert first.headers["x-api-key"] == "tok-1"
    assert second.url == "https://mirror.example/contacts?x=1"
    assert "x-api-key" not in second.headers and "x-tenant" not in second.headers


async def test_a_redirect_to_a_private_address_is_refused(settings: Settings) -> None:
    crm = kitchen_crm()
    crm.on("GET", "/api/contacts", httpx2.Response(307, headers={"location": "http://127.0.0.1/x"}))
    configs = ProxyConfigs({"kitchen-1": example("kitchen")})
    async with serve(proxy_app(settings, crm, configs)) as (client, _):
        token = (await login(client)).json()["jwtToken"]
        found = await client.get("/contact?phoneNumber=%2B14155550100", headers=bearer(token))
        assert found.json()["successful"] is False
    assert [r.host for r in crm.requests] == ["kitchen.example", "kitchen.example"]
