"""Managed authentication over HTTP: admin-stored API-key fields and managed OAuth settings.

RingCentral (identity, admin role) is mocked at the HTTP transport; the database is real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from sqlalchemy import text
from tests.api._admin_helpers import FakeRingCentral, assert_text, rc
from tests.support import add_user, bearer, serve

from appconnect import (
    Connector,
    ConnectorRegistry,
    PlatformUserInfo,
    ReturnMessage,
    UserInfoResult,
    create_app,
)
from appconnect.runtime import Runtime
from appconnect.services import account_data, managed_auth
from appconnect.settings import Settings

NOAUTH = "Please go to Settings and authorize CRM platform"
ORG_SECRET = "org-api-key-0123456789-secret"
FIELDS = [
    {"const": "apiKey", "required": True, "managed": True, "managedScope": "account"},
    {"const": "tenant", "required": True, "managed": True, "managedScope": "user"},
    {"const": "region", "managed": True, "managedScope": "user", "managedFieldType": "dynamic"},
    {"const": "site", "managed": True, "managedScope": "account", "managedFieldType": "input"},
    {"const": "note"},
]
MANIFEST = {
    "author": {"name": "Tests"},
    "platforms": {
        "mancrm": {
            "name": "mancrm",
            "auth": {"type": "apiKey", "apiKey": {"page": {"content": FIELDS}}},
        }
    },
}


class ManagedCRM(Connector):
    auth_type = "apiKey"

    def __init__(self) -> None:
        self.logins: list[dict[str, Any]] = []
        self.options: Any = [{"value": 1, "label": "One"}, {"value": "b", "label": "Bee"}]
        self.option_calls: list[dict[str, Any]] = []

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, *, api_key: Any, additional_info: Any, **_: Any) -> Any:
        self.logins.append({"api_key": api_key, "additional_info": additional_info})
        if api_key != ORG_SECRET:
            return UserInfoResult(
                successful=False, return_message=ReturnMessage(message="Bad key", ttl=1000)
            )
        return UserInfoResult(
            successful=True, platform_user_info=PlatformUserInfo(id="m1", name="Mia")
        )

    async def get_managed_auth_options(self, **kwargs: Any) -> Any:
        self.option_calls.append(kwargs)
        return self.options

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class Env:
    def __init__(self, client: httpx2.AsyncClient, rt: Runtime, connector: ManagedCRM) -> None:
        self.client, self.rt, self.connector = client, rt, connector

    async def admin(self, token: str = "admin-a", user_id: str = "m-admin") -> dict[str, str]:
        return {**bearer(await add_user(self.rt, user_id, "mancrm")), **rc(token)}

    async def raw(self, table: str) -> str:
        async with self.rt.db.session() as session:
            rows = (await session.execute(text(f'SELECT * FROM "{table}"'))).mappings().all()
        return str([dict(row) for row in rows])


@asynccontextmanager
async def env(settings: Settings) -> AsyncIterator[Env]:
    rc_api = FakeRingCentral()
    rc_api.caller("admin-a", "acc-A", 11, admin=True)
    rc_api.caller("agent-a", "acc-A", 12)
    rc_api.caller("admin-b", "acc-B", 21, admin=True)
    registry = ConnectorRegistry()
    connector = ManagedCRM()
    registry.register_connector("mancrm", connector, manifest=MANIFEST)
    app = create_app(registry, settings=settings, http_transport=rc_api.wrap())
    async with serve(app) as (client, rt):
        yield Env(client, rt, connector)


async def test_admin_stores_masked_encrypted_values_an_agent_logs_in_with(
    settings: Settings,
) -> None:
    async with env(settings) as e:
        admin = await e.admin()
        saved = await e.client.post(
            "/admin/managedAuth",
            json={"scope": "org", "values": {"apiKey": ORG_SECRET, "site": "", "note": None}},
            headers=admin,
        )
        assert_text(saved, 200, "Shared authentication updated")
        user_saved = await e.client.post(
            "/admin/managedAuth",
            json={
                "scope": "user",
                "rcExtensionId": "12",
                "rcUserName": "Agent A",
                "values": {"tenant": "tenant-123"},
            },
            headers=admin,
        )
        assert_text(user_saved, 200, "Shared authentication updated")
        view = await e.client.get("/admin/managedAuth", headers=admin)
        assert view.status_code == 200
        body = view.json()
        assert ORG_SECRET not in view.text and "tenant-123" not in view.text
        assert body["hasManagedAuth"] is True
        assert [f["const"] for f in body["fields"]] == ["apiKey", "tenant", "region", "site"]
        assert [f["const"] for f in body["orgFields"]] == ["apiKey", "site"]
        assert [f["const"] for f in body["userFields"]] == ["tenant", "region"]
        assert body["orgValues"] == {
            "apiKey": {"hasValue": True, "value": "********cret"},
            "site": {"hasValue": False, "value": ""},
        }
        assert body["userValues"] == [
            {
                "rcExtensionId": "12",
                "rcUserName": "Agent A",
                "fields": {
                    "tenant": {"hasValue": True, "value": "********"},
                    "region": {"hasValue": False, "value": ""},
                },
            }
        ]
        # No managed value is stored in plain text.
        raw = await e.raw("accountData")
        assert ORG_SECRET not in raw and "tenant-123" not in raw and "gcm1:" in raw
        # The agent logs in without typing anything: the stored values fill the form.
        login = await e.client.post(
            "/apiKeyLogin",
            json={"platform": "mancrm", "additionalInfo": {}},
            headers=rc("agent-a"),
        )
        assert login.status_code == 200, login.text
        assert e.connector.logins[-1]["api_key"] == ORG_SECRET
        assert e.connector.logins[-1]["additional_info"]["tenant"] == "tenant-123"


async def test_masked_values_posted_back_keep_the_secret_and_removal_works(
    settings: Settings,
) -> None:
    async with env(settings) as e:
        admin = await e.admin()
        org = {"scope": "org", "values": {"apiKey": ORG_SECRET, "site": "eu"}}
        await e.client.post("/admin/managedAuth", json=org, headers=admin)
        shown = (await e.client.get("/admin/managedAuth", headers=admin)).json()["orgValues"]
        echoed = {k: v["value"] for k, v in shown.items()}
        await e.client.post(
            "/admin/managedAuth", json={"scope": "org", "values": echoed}, headers=admin
        )
        stored = await managed_auth.stored_fields(e.rt, "acc-A", "mancrm", managed_auth.ORG_KEY)
        assert stored == {"apiKey": ORG_SECRET, "site": "eu"}
        await e.client.post(
            "/admin/managedAuth",
            json={"scope": "org", "values": {"site": ""}, "fieldsToRemove": ["site"]},
            headers=admin,
        )
        stored = await managed_auth.stored_fields(e.rt, "acc-A", "mancrm", managed_auth.ORG_KEY)
        assert stored == {"apiKey": ORG_SECRET}


async def test_managed_auth_refusals_and_account_isolation(settings: Settings) -> None:
    async with env(settings) as e:
        admin = await e.admin()
        await e.client.post(
            "/admin/managedAuth",
            json={"scope": "org", "values": {"apiKey": ORG_SECRET}},
            headers=admin,
        )
        assert_text(await e.client.get("/admin/managedAuth", headers=rc("admin-a")), 400, NOAUTH)
        assert_text(
            await e.client.post("/admin/managedAuth", json={}, headers=rc("admin-a")), 400, NOAUTH
        )
        agent = {**bearer(await add_user(e.rt, "m-agent", "mancrm")), **rc("agent-a")}
        assert_text(
            await e.client.get("/admin/managedAuth", headers=agent), 403, "Admin validation failed"
        )
        assert_text(
            await e.client.post(
                "/admin/managedAuth", json={"values": {"apiKey": "evil"}}, headers=agent
            ),
            403,
            "Admin validation failed",
        )
        missing_ext = await e.client.post(
            "/admin/managedAuth", json={"scope": "user", "values": {"tenant": "x"}}, headers=admin
        )
        assert (missing_ext.status_code, missing_ext.json()) == (
            400,
            {"error": "rcExtensionId is required for user managed auth values"},
        )
        # Account B's admin, with a session of account A's CRM user, sees and changes only B.
        other = {**bearer(await add_user(e.rt, "m-admin", "mancrm")), **rc("admin-b")}
        seen = (await e.client.get("/admin/managedAuth", headers=other)).json()
        assert seen["orgValues"]["apiKey"] == {"hasValue": False, "value": ""}
        await e.client.post(
            "/admin/managedAuth",
            json={"scope": "org", "values": {"apiKey": "b-key"}, "fieldsToRemove": []},
            headers=other,
        )
        stored = await managed_auth.stored_fields(e.rt, "acc-A", "mancrm", managed_auth.ORG_KEY)
        assert stored == {"apiKey": ORG_SECRET}


async def test_api_key_managed_auth_state(settings: Settings) -> None:
    async with env(settings) as e:
        path = "/apiKeyManagedAuthState"
        assert_text(await e.client.get(path, headers=rc("agent-a")), 400, "Missing platform name")
        assert_text(
            await e.client.get(f"{path}?platform=mancrm"), 400, "Missing RingCentral access token"
        )
        rejected = await e.client.get(f"{path}?platform=mancrm", headers=rc("bad"))
        assert rejected.json() == {"error": "Request failed with status code 401"}
        before = (await e.client.get(f"{path}?platform=mancrm", headers=rc("agent-a"))).json()
        assert before == {
            "hasManagedAuth": True,
            "allRequiredFieldsSatisfied": False,
            "visibleFieldConsts": ["apiKey", "tenant"],
            "missingRequiredFieldConsts": ["apiKey", "tenant"],
            "fallbackToManualAuth": False,
        }
        admin = await e.admin()
        await e.client.post(
            "/admin/managedAuth",
            json={"values": {"apiKey": ORG_SECRET}},
            headers=admin,
        )
        await e.client.post(
            "/admin/managedAuth",
            json={"scope": "user", "rcExtensionId": 12, "values": {"tenant": "t"}},
            headers=admin,
        )
        after = (await e.client.get(f"{path}?platform=mancrm", headers=rc("agent-a"))).json()
        assert after == {
            "hasManagedAuth": True,
            "allRequiredFieldsSatisfied": True,
            "visibleFieldConsts": [],
            "missingRequiredFieldConsts": [],
            "fallbackToManualAuth": False,
        }
        # A failed login with managed values switches the agent to manual entry.
        await managed_auth.mark_login_failure(e.rt, "acc-A", "mancrm", "12")
        failed = (await e.client.get(f"{path}?platform=mancrm", headers=rc("agent-a"))).json()
        assert failed == {
            "hasManagedAuth": True,
            "allRequiredFieldsSatisfied": False,
            "visibleFieldConsts": None,
            "missingRequiredFieldConsts": ["apiKey", "tenant"],
            "fallbackToManualAuth": True,
        }
        unmanaged = (await e.client.get(f"{path}?platform=other", headers=rc("agent-a"))).json()
        assert unmanaged["hasManagedAuth"] is False


async def test_managed_auth_options(settings: Settings) -> None:
    async with env(settings) as e:
        path = "/admin/managedAuth/options"
        body = {"fieldConst": "region"}
        assert_text(
            await e.client.post(path, json=body, headers=rc("admin-a")),
            400,
            "Missing platform name",
        )
        assert_text(
            await e.client.post(f"{path}?platform=mancrm", json={}, headers=rc("admin-a")),
            400,
            "Missing managed auth field",
        )
        assert_text(
            await e.client.post(f"{path}?platform=mancrm", json=body, headers=rc("agent-a")),
            403,
            "Admin validation failed",
        )
        not_dynamic = await e.client.post(
            f"{path}?platform=mancrm", json={"fieldConst": "tenant"}, headers=rc("admin-a")
        )
        assert not_dynamic.json() == {
            "error": 'Managed auth field "tenant" is not a dynamic user field'
        }
        admin = await e.admin()
        await e.client.post(
            "/admin/managedAuth", json={"values": {"apiKey": ORG_SECRET}}, headers=admin
        )
        options = await e.client.post(
            f"{path}?platform=mancrm",
            json={"fieldConst": "region", "accountValues": {"site": "us", "tenant": "ignored"}},
            headers=rc("admin-a"),
        )
        assert options.json() == [{"value": "1", "label": "One"}, {"value": "b", "label": "Bee"}]
        assert e.connector.option_calls[-1] == {
            "field_const": "region",
            "account_values": {"apiKey": ORG_SECRET, "site": "us"},
        }
        e.connector.options = [{"value": "ok", "label": "Ok"}, {"value": None, "label": "x"}]
        invalid = await e.client.post(f"{path}?platform=mancrm", json=body, headers=rc("admin-a"))
        assert invalid.json() == {
            "error": "getManagedAuthOptions returned an invalid option at index 1"
        }
        e.connector.options = {"not": "a list"}
        bad = await e.client.post(f"{path}?platform=mancrm", json=body, headers=rc("admin-a"))
        assert bad.json() == {"error": "getManagedAuthOptions must return an array"}


OAUTH_VALUES = {
    "clientId": "cid",
    "clientSecret": "oauth-client-secret-value",
    "accessTokenUri": "https://crm.example/token",
    "scopes": ["read", "write"],
    "hostname": "",
    "unknown": "dropped",
}


async def test_managed_oauth_cache_state_and_deletion(settings: Settings) -> None:
    async with env(settings) as e:
        state_path = "/oauthManagedAuthState?platform=mancrm"
        assert_text(
            await e.client.get("/oauthManagedAuthState", headers=rc("admin-a")),
            400,
            "Missing platform name",
        )
        assert_text(await e.client.get(state_path), 400, "Missing RingCentral access token")
        assert_text(
            await e.client.post(
                "/admin/managedOAuth/cache", json={"values": OAUTH_VALUES}, headers=rc("agent-a")
            ),
            403,
            "Admin validation failed",
        )
        cached = await e.client.post(
            "/admin/managedOAuth/cache", json={"values": OAUTH_VALUES}, headers=rc("admin-a")
        )
        assert cached.json() == {"successful": True}
        assert "oauth-client-secret-value" not in await e.raw("caches")
        pending = {k: v for k, v in OAUTH_VALUES.items() if k not in ("hostname", "unknown")}
        as_admin = (await e.client.get(state_path, headers=rc("admin-a"))).json()
        assert as_admin == {
            "isAdmin": True,
            "hasAccountOAuth": False,
            "hasPendingOAuth": True,
            "pendingValues": pending,
        }
        as_agent = (await e.client.get(state_path, headers=rc("agent-a"))).json()
        assert as_agent == {"isAdmin": False, "hasAccountOAuth": False, "hasPendingOAuth": False}
        other = (await e.client.get(state_path, headers=rc("admin-b"))).json()
        assert other["hasPendingOAuth"] is False
        # Once the values belong to the account, nobody is shown the client secret.
        await account_data.promote_pending_oauth(e.rt, "acc-A", "mancrm")
        promoted = (await e.client.get(state_path, headers=rc("admin-a"))).json()
        assert promoted == {
            "isAdmin": True,
            "hasAccountOAuth": True,
            "hasPendingOAuth": False,
            "oauthValues": {k: v for k, v in pending.items() if k != "clientSecret"},
        }
        assert "oauth-client-secret-value" not in await e.raw("accountData")
        # Deleting: the admin check comes before the platform check.
        assert_text(
            await e.client.delete("/admin/managedOAuth/account", headers=rc("agent-a")),
            403,
            "Admin validation failed",
        )
        assert_text(
            await e.client.delete("/admin/managedOAuth/account", headers=rc("admin-a")),
            400,
            "Missing platform name",
        )
        await e.client.post(
            "/admin/managedOAuth/cache", json={"values": OAUTH_VALUES}, headers=rc("admin-a")
        )
        dropped = await e.client.delete(
            "/admin/managedOAuth/account?platform=mancrm", headers=rc("admin-a")
        )
        assert dropped.json() == {"successful": True}
        gone = (await e.client.get(state_path, headers=rc("admin-a"))).json()
        assert gone == {"isAdmin": True, "hasAccountOAuth": False, "hasPendingOAuth": False}
        await e.client.post(
            "/admin/managedOAuth/cache", json={"values": OAUTH_VALUES}, headers=rc("admin-a")
        )
        assert (
            await e.client.delete("/admin/managedOAuth/cache", headers=rc("agent-a"))
        ).status_code == 403
        cleared = await e.client.delete("/admin/managedOAuth/cache", headers=rc("admin-a"))
        assert cleared.json() == {"successful": True}
        assert (await e.client.get(state_path, headers=rc("admin-a"))).json()[
            "hasPendingOAuth"
        ] is False


class ManagedOAuthCRM(ManagedCRM):
    """An OAuth connector whose own client settings must lose to the admin's managed ones."""

    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "own", "clientSecret": "own", "accessTokenUri": "https://own/t"}

    async def get_user_info(self, *, auth_header: str, **_: Any) -> Any:
        assert auth_header == "Bearer managed-at"
        return UserInfoResult(
            successful=True, platform_user_info=PlatformUserInfo(id="o1", name="Oli")
        )


async def test_cached_managed_oauth_values_drive_the_crm_login_then_belong_to_the_account(
    settings: Settings,
) -> None:
    import base64
    from urllib.parse import parse_qs

    seen: list[httpx2.Request] = []

    async def crm(request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        seen.append(request)
        return httpx2.Response(200, json={"access_token": "managed-at", "expires_in": 3600})

    rc_api = FakeRingCentral()
    rc_api.caller("admin-a", "acc-A", 11, admin=True)
    registry = ConnectorRegistry()
    registry.register_connector("ocrm", ManagedOAuthCRM())
    app = create_app(
        registry, settings=settings, http_transport=rc_api.wrap(httpx2.MockTransport(crm))
    )
    async with serve(app) as (client, rt):
        values = {
            "clientId": "managed-id",
            "clientSecret": "managed-secret",
            "accessTokenUri": "https://crm.example/token",
        }
        await client.post(
            "/admin/managedOAuth/cache", json={"values": values}, headers=rc("admin-a")
        )
        callback = "https://app.example/cb?code=c1&state=platform%3Docrm"
        login = await client.get(
            "/oauth-callback", params={"callbackUri": callback, "rcAccountId": "acc-A"}
        )
        assert login.status_code == 200, login.text
        assert login.json()["name"] == "Oli"
        assert str(seen[0].url) == "https://crm.example/token"
        assert (
            seen[0].headers["authorization"]
            == "Basic " + base64.b64encode(b"managed-id:managed-secret").decode()
        )
        assert parse_qs(seen[0].content.decode())["code"] == ["c1"]
        state = await client.get("/oauthManagedAuthState?platform=ocrm", headers=rc("admin-a"))
        assert state.json() == {
            "isAdmin": True,
            "hasAccountOAuth": True,
            "hasPendingOAuth": False,
            "oauthValues": {
                "clientId": "managed-id",
                "accessTokenUri": "https://crm.example/token",
            },
        }
        async with rt.db.session() as session:
            raw = str((await session.execute(text('SELECT * FROM "accountData"'))).all())
        assert "managed-secret" not in raw and "managed-id" not in raw
