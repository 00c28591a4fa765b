"""The spec's complete example config (§11, "Nimbus CRM"), end to end over HTTP.

Login, contact look-up and creation, call logging (create, read, update, disposition), SMS
logging (create, then append), licence status and logout, against a CRM mocked at the HTTP
transport. Every CRM request is asserted exactly: method, URL, headers, body.
"""

from __future__ import annotations

from typing import Any

import httpx2
from tests.fakes import FakeCrm
from tests.proxy._proxy_helpers import example, proxy_app
from tests.support import bearer, serve

from appconnect import Settings
from appconnect.connectors.proxy import ProxyConfigs

API = "https://api.nimbuscrm.example/v2"
KEY = "nk_live_123"
SECRET = "s3cr3t"
VERSION_HEADER = "unified-crm-extension-version"


def nimbus_crm() -> FakeCrm:
    crm = FakeCrm()
    crm.on(
        "GET",
        "/v2/me",
        json={
            "user": {"id": "u_77", "fullName": "Nina Agent", "timezone": "America/New_York"},
            "workspace": {"id": "w_9", "name": "Main"},
            "welcomeText": "Welcome to Nimbus",
        },
    )
    people = [
        {
            "id": "p_881",
            "displayName": "Jane Doe",
            "phones": [{"number": "+16505550100"}],
            "kind": "person",
            "jobTitle": "CTO",
            "organization": {"name": "Acme"},
            "createdAt": "2024-01-01",
            "lastActivityAt": "2024-04-01",
            "appConnectOptions": {"deals": ["d_12"]},
        }
    ]
    crm.on("GET", "/v2/people/search", json={"data": people})
    crm.on("POST", "/v2/people", json={"data": {"id": "p_900", "displayName": "New Person"}})

    def activities(request: httpx2.Request) -> httpx2.Response:
        body = request.content
        return httpx2.Response(
            201, json={"data": {"id": 9001 if b'"type":"call"' in body else "m_5"}}
        )

    crm.on("POST", "/v2/activities", activities)
    crm.on(
        "GET",
        "/v2/activities/9001",
        json={"data": {"subject": "Inbound Call from Jane Doe", "agentNote": "n", "body": "b"}},
    )
    crm.on("PATCH", "/v2/activities/9001", json={"ok": True})
    crm.on("PUT", "/v2/activities/9001/links", json={"ok": True})
    crm.on("POST", "/v2/activities/m_5/entries", json={"ok": True})
    crm.on("GET", "/v1/seats/u_77", json={"active": True, "plan": "Pro", "note": "12 seats"})
    crm.on("POST", "/v2/sessions/revoke", httpx2.Response(204))
    return crm


# Headers every outbound request of the shared client carries, whatever the config says.
CLIENT_HEADERS = ("host", "content-length", "accept-encoding", "connection", "user-agent")


def headers_of(request: Any) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k not in CLIENT_HEADERS}


def default_headers(**extra: str) -> dict[str, str]:
    return {
        "accept": "application/json",
        "x-nimbus-integration": SECRET,
        "x-nimbus-workspace": "w_9",
        "authorization": f"Bearer {KEY}",
        VERSION_HEADER: "0.1.0",
        **extra,
    }


async def test_nimbus_example_runs_every_flow(settings: Settings) -> None:
    crm = nimbus_crm()
    configs = ProxyConfigs({"px_1": example("nimbus")}, secret_keys={"px_1": SECRET})
    async with serve(proxy_app(settings, crm, configs)) as (client, rt):
        # -- login (getUserInfo) ---------------------------------------------------------------
        login = await client.post(
            "/apiKeyLogin",
            json={
                "platform": "nimbus",
                "apiKey": KEY,
                "hostname": "app.nimbuscrm.example",
                "proxyId": "px_1",
                "additionalInfo": {"workspaceId": "w_9", "password": "never-stored"},
            },
        )
        assert login.status_code == 200, login.text
        assert login.json()["name"] == "Nina Agent"
        assert login.json()["returnMessage"] == {
            "message": "Welcome to Nimbus",
            "messageType": "success",
            "ttl": 1000,
        }
        token = login.json()["jwtToken"]
        [me] = crm.requests
        assert (me.method, me.url) == ("GET", f"{API}/me?workspace=w_9")
        # The workspace header resolves to nothing at login (the user is empty): not sent.
        assert headers_of(me) == {
            "accept": "application/json",
            "x-nimbus-integration": SECRET,
            "authorization": f"Bearer {KEY}",
            VERSION_HEADER: "0.1.0",
            "content-type": "application/json",
        }
        assert me.body == b"{}"
        user = await rt.users.get("u_77-nimbus")
        assert user is not None and user.access_token == KEY
        assert user.timezone_name == "America/New_York"
        assert user.platform_additional_info == {
            "workspaceId": "w_9",
            "workspaceName": "Main",
            "loginHost": "app.nimbuscrm.example",
            "proxyId": "px_1",
        }

        # -- contact look-up (findContact) -----------------------------------------------------
        found = await client.get("/contact?phoneNumber=%2B16505550100", headers=bearer(token))
        assert found.status_code == 200, found.text
        assert found.json()["contact"] == [
            {
                "id": "p_881",
                "name": "Jane Doe",
                "phone": "+16505550100",
                "type": "person",
                "title": "CTO",
                "company": "Acme",
                "createdDate": "2024-01-01",
                "mostRecentActivityDate": "2024-04-01",
                "additionalInfo": {"deals": ["d_12"]},
            }
        ]
        search = crm.requests[-1]
        assert (search.method, search.url) == (
            "GET",
            f"{API}/people/search?phone=%2B16505550100&raw=%2B16505550100&limit=25",
        )
        assert headers_of(search) == default_headers(**{"content-type": "application/json"})

        # -- contact search by name (findContactWithName) --------------------------------------
        named = await client.get("/custom/contact/search?name=Jane%20Doe", headers=bearer(token))
        assert named.status_code == 200, named.text
        assert named.json()["contact"][0]["id"] == "p_881"
        assert crm.requests[-1].url == f"{API}/people/search?q=Jane+Doe&limit=25"

        # -- contact creation (createContact) --------------------------------------------------
        created = await client.post(
            "/contact",
            json={
                "phoneNumber": "+16505550111",
                "newContactName": "New Person",
                "newContactType": "person",
                "additionalSubmission": {"stage": "lead"},
            },
            headers=bearer(token),
        )
        assert created.status_code == 200, created.text
        assert created.json()["contact"] == {"id": "p_900", "name": "New Person", "type": "Contact"}
        post = crm.requests[-1]
        assert (post.method, post.url) == ("POST", f"{API}/people")
        assert headers_of(post) == default_headers(**{"content-type": "application/json"})
        assert post.json() == {
            "displayName": "New Person",
            "kind": "person",
            "phones": [{"label": "work", "number": "+16505550111"}],
            "stageId": "lead",
        }

        # -- call log (createCallLog): the worked rendering of §11.1 ---------------------------
        logged = await client.post(
            "/callLog",
            json={
                "logInfo": {
                    "sessionId": "4517",
                    "telephonySessionId": "t-4517",
                    "direction": "Inbound",
                    "startTime": "2024-05-01T15:04:05.000Z",
                    "duration": 125,
                    "result": "Call connected",
                    "from": {"phoneNumber": "+16505550100"},
                    "to": {"phoneNumber": "+16505550199"},
                },
                "contactId": "p_881",
                "contactType": "person",
                "contactName": "Jane Doe",
                "note": "Agent notes",
                "additionalSubmission": {"deals": "d_12"},
            },
            headers=bearer(token),
        )
        assert logged.status_code == 200, logged.text
        assert logged.json()["logId"] == "9001"
        call = crm.requests[-1]
        assert (call.method, call.url) == ("POST", f"{API}/activities")
        assert headers_of(call) == default_headers(**{"content-type": "application/json"})
        sent = call.json()
        composed = sent.pop("body")
        assert composed.startswith("<b>Agent notes</b><br>Agent notes")  # text/html composition
        assert sent == {
            "type": "call",
            "personId": "p_881",
            "subject": "Inbound Call from Jane Doe",
            "startedAt": "2024-05-01T15:04:05.000Z",
            "endedAt": "2024-05-01T15:06:10.000Z",
            "durationSeconds": 125,
            "direction": "Inbound",
            "dealId": "d_12",
            "external": {
                "provider": "ringcentral",
                "sessionId": "4517",
                "loggedBy": "u_77",
                "automatic": False,
            },
        }

        # -- reading it back (getCallLog) ------------------------------------------------------
        details = await client.get(
            "/callLog?sessionIds=4517&requireDetails=true", headers=bearer(token)
        )
        assert details.status_code == 200, details.text
        assert crm.requests[-1].method == "GET"
        assert crm.requests[-1].url == f"{API}/activities/9001"
        assert details.json()["logs"][0]["logData"]["subject"] == "Inbound Call from Jane Doe"

        # -- update (updateCallLog) ------------------------------------------------------------
        updated = await client.patch(
            "/callLog",
            json={
                "sessionId": "4517",
                "recordingLink": "https://media.example/rec/1",
                "startTime": "2024-05-01T15:04:05.000Z",
                "duration": 130,
                "subject": "Inbound Call from Jane Doe",
                "note": "Edited",
            },
            headers=bearer(token),
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["successful"] is True
        patch = crm.requests[-1]
        assert (patch.method, patch.url) == ("PATCH", f"{API}/activities/9001")
        body = patch.json()
        assert body.pop("body").startswith("<b>Agent notes</b><br>Edited")
        assert body == {
            "subject": "Inbound Call from Jane Doe",
            "startedAt": "2024-05-01T15:04:05.000Z",
            "endedAt": "2024-05-01T15:06:15.000Z",
            "durationSeconds": 130,
            "recordingUrl": "https://media.example/rec/1",
        }

        # -- disposition (upsertCallDisposition) -----------------------------------------------
        disposed = await client.put(
            "/callDisposition",
            json={"sessionId": "4517", "dispositions": {"deals": "d_44"}},
            headers=bearer(token),
        )
        assert disposed.status_code == 200, disposed.text
        assert disposed.json()["successful"] is True
        links = crm.requests[-1]
        assert (links.method, links.url, links.json()) == (
            "PUT",
            f"{API}/activities/9001/links",
            {"dealId": "d_44"},
        )

        # -- SMS (createMessageLog, then updateMessageLog) -------------------------------------
        def sms(message_id: str, text: str) -> dict[str, Any]:
            return {
                "id": message_id,
                "type": "SMS",
                "direction": "Inbound",
                "from": {"phoneNumber": "+16505550100"},
                "to": [{"phoneNumber": "+16505550199"}],
                "subject": text,
                "creationTime": "2024-05-01T16:00:00Z",
            }

        def submission(message: dict[str, Any]) -> dict[str, Any]:
            return {
                "logInfo": {
                    "conversationId": "conv-1",
                    "conversationLogId": "conv-1-2024-05-01",
                    "correspondents": [{"phoneNumber": "+16505550100"}],
                    "messages": [message],
                },
                "contactId": "p_881",
                "contactType": "person",
                "contactName": "Jane Doe",
                "additionalSubmission": {"deals": "d_12"},
            }

        first = await client.post(
            "/messageLog", json=submission(sms("m1", "hi")), headers=bearer(token)
        )
        assert first.status_code == 200, first.text
        assert first.json()["successful"] is True
        message = crm.requests[-1]
        assert (message.method, message.url) == ("POST", f"{API}/activities")
        assert headers_of(message) == default_headers(**{"content-type": "application/json"})
        assert message.json() == {
            "type": "message",
            "personId": "p_881",
            "subject": "Messages with Jane Doe",
            "body": "Inbound SMS at 2024-05-01T16:00:00.000Z: hi",
            "occurredAt": "2024-05-01T16:00:00.000Z",
            "media": {},  # no media links: every member resolved to nothing and is left out
            "dealId": "d_12",
        }
        second = await client.post(
            "/messageLog", json=submission(sms("m2", "again")), headers=bearer(token)
        )
        assert second.status_code == 200, second.text
        entry = crm.requests[-1]
        assert (entry.method, entry.url) == ("POST", f"{API}/activities/m_5/entries")
        assert entry.json() == {"text": "Inbound SMS at 2024-05-01T16:00:00.000Z: again"}

        # -- licence (getLicenseStatus): operation auth replaces the config auth -----------------
        licence = await client.get("/licenseStatus", headers=bearer(token))
        assert licence.json() == {
            "isLicenseValid": True,
            "licenseStatus": "Pro",
            "licenseStatusDescription": "12 seats",
        }
        seat = crm.requests[-1]
        assert seat.url == "https://license.nimbuscrm.example/v1/seats/u_77"
        assert headers_of(seat) == {
            "accept": "application/json",
            "x-nimbus-integration": SECRET,
            "x-nimbus-workspace": "w_9",
            "x-license-key": SECRET,
            VERSION_HEADER: "0.1.0",
            "content-type": "application/json",
        }

        # -- logout (unAuthorize) --------------------------------------------------------------
        out = await client.post("/unAuthorize", headers=bearer(token))
        assert out.status_code == 200, out.text
        assert out.json() == {"messageType": "success", "message": "Logged out", "ttl": 1000}
        revoke = crm.requests[-1]
        assert (revoke.method, revoke.url, revoke.json()) == (
            "POST",
            f"{API}/sessions/revoke",
            {"reason": "app-connect-logout"},
        )
        assert revoke.headers["authorization"] == f"Bearer {KEY}"
        user = await rt.users.get("u_77-nimbus", fresh=True)
        assert user is not None and user.access_token == "" and user.refresh_token == ""
