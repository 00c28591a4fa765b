"""Admin routes over HTTP: admin settings, user mapping, server-side logging settings.

RingCentral (identity and admin role) and the CRM are mocked at the HTTP transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from sqlalchemy import text
from tests.api._admin_helpers import FakeRingCentral, assert_text, rc
from tests.support import add_user, bearer, serve

from appconnect import ActionResult, Connector, ConnectorRegistry, ReturnMessage, create_app
from appconnect.runtime import Runtime
from appconnect.security import hash_id
from appconnect.settings import Settings
from appconnect.store.users import User

NOAUTH = "Please go to Settings and authorize CRM platform"
CRM = "https://crm.example"


class MappingCRM(Connector):
    """API-key connector with a user list, server-side logging settings and a failure switch."""

    auth_type = "apiKey"

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self.logging_settings: dict[str, Any] = {"apiUsername": "svc"}
        self.updates: list[dict[str, Any]] = []
        self.fail = False

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_list(self, *, user: User, auth_header: str, **_: Any) -> Any:
        response = await self.http(CRM).get("/users", headers={"Authorization": auth_header})
        response.raise_for_status()
        return response.json()

    async def get_server_logging_settings(self, *, user: User) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("CRM down")
        return {**self.logging_settings, "for": user.id}

    async def update_server_logging_settings(self, **kwargs: Any) -> ActionResult:
        if self.fail:
            raise RuntimeError("CRM down")
        self.updates.append(kwargs)
        return ActionResult(successful=True, return_message=ReturnMessage(message="Saved"))

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class BareCRM(MappingCRM):
    get_user_list = None  # type: ignore[assignment]
    get_server_logging_settings = None  # type: ignore[assignment]
    update_server_logging_settings = None  # type: ignore[assignment]


class RevokedCRM(MappingCRM):
    """An OAuth connector whose refresh step reports the grant as revoked."""

    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "c", "clientSecret": "s", "accessTokenUri": f"{CRM}/token"}

    async def check_and_refresh_access_token(self, *_: Any) -> None:
        return None


class Env:
    def __init__(self, client: httpx2.AsyncClient, rt: Runtime, rc_api: FakeRingCentral,
                 crm_users: list[dict[str, Any]], connector: MappingCRM) -> None:  # fmt: skip
        self.client, self.rt, self.rc, self.crm_users, self.connector = (
            client, rt, rc_api, crm_users, connector)  # fmt: skip

    async def user(
        self, user_id: str = "u1", platform: str = "mapcrm", **kw: Any
    ) -> dict[str, str]:
        return bearer(await add_user(self.rt, user_id, platform, **kw))


@asynccontextmanager
async def env(settings: Settings) -> AsyncIterator[Env]:
    rc_api = FakeRingCentral()
    rc_api.caller("admin-a", "acc-A", 11, admin=True)
    rc_api.caller("agent-a", "acc-A", 12)
    rc_api.caller("admin-b", "acc-B", 21, admin=True)
    crm_users: list[dict[str, Any]] = []

    def crm(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/users":
            if crm_users == ["FAIL"]:
                return httpx2.Response(503, json={"error": "unavailable"})
            return httpx2.Response(200, json=crm_users)
        return httpx2.Response(404)

    registry = ConnectorRegistry()
    connector = MappingCRM()
    registry.register_connector("mapcrm", connector)
    registry.register_connector("barecrm", BareCRM())
    registry.register_connector("revokedcrm", RevokedCRM())
    app = create_app(
        registry, settings=settings, http_transport=rc_api.wrap(httpx2.MockTransport(crm))
    )
    async with serve(app) as (client, rt):
        yield Env(client, rt, rc_api, crm_users, connector)


# -- admin settings --------------------------------------------------------------------------


async def test_admin_settings_require_a_ringcentral_admin(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        body = {"adminSettings": {"userSettings": {"a": {"value": 1}}}}
        assert_text(
            await e.client.post("/admin/settings", json=body, headers=rc("agent-a")),
            403,
            "Admin validation failed",
        )
        rejected = await e.client.post("/admin/settings", json=body, headers=rc("nobody"))
        assert (rejected.status_code, rejected.json()) == (
            400,
            {"error": "Request failed with status code 401"},
        )
        no_token = await e.client.post("/admin/settings", json=body)
        assert no_token.status_code == 400  # RingCentral refuses "Bearer None"
        assert_text(await e.client.get("/admin/settings", headers=rc("admin-a")), 400, NOAUTH)
        ghost = bearer(e.rt.sessions.issue("ghost", "mapcrm"))
        assert_text(
            await e.client.get("/admin/settings", headers={**ghost, **rc("admin-a")}),
            400,
            "User not found",
        )
        assert_text(
            await e.client.get("/admin/settings", headers={**auth, **rc("agent-a")}),
            403,
            "Admin validation failed",
        )
        # Nothing was written by the refused calls.
        empty = await e.client.get("/admin/settings", headers={**auth, **rc("admin-a")})
        assert (empty.status_code, empty.json()) == (
            200,
            {"customConnector": None, "userSettings": {}},
        )


async def test_admin_settings_round_trip_per_account_without_tokens(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        settings_a = {"logDateFormat": {"value": "MM/DD", "customizable": False}}
        posted = await e.client.post(
            "/admin/settings",
            json={
                "adminSettings": {
                    "userSettings": settings_a,
                    "customConnector": {"ignored": True},
                    "adminAccessToken": "smuggled",
                }
            },
            headers=rc("admin-a"),
        )
        assert_text(posted, 200, "Admin settings updated")
        got = (await e.client.get("/admin/settings", headers={**auth, **rc("admin-a")})).json()
        assert got["id"] == hash_id("acc-A", settings.hash_key)
        assert got["userSettings"] == settings_a
        assert got["userMappings"] == []
        assert not {"adminAccessToken", "adminRefreshToken", "adminTokenExpiry"} & set(got)
        assert "customConnector" not in got
        # A second shallow update keeps the columns it does not name.
        await e.client.post(
            "/admin/settings",
            json={"adminSettings": {"userMappings": [{"crmUserId": "1", "rcExtensionId": ["5"]}]}},
            headers=rc("admin-a"),
        )
        again = (await e.client.get("/admin/settings", headers={**auth, **rc("admin-a")})).json()
        assert again["userSettings"] == settings_a
        assert again["userMappings"] == [{"crmUserId": "1", "rcExtensionId": ["5"]}]
        # Account B's admin, even with account A's user session, sees only account B.
        other = await e.client.get("/admin/settings", headers={**auth, **rc("admin-b")})
        assert other.json() == {"customConnector": None, "userSettings": {}}
        await e.client.post(
            "/admin/settings",
            json={"adminSettings": {"userSettings": {}}},
            headers=rc("admin-b"),
        )
        still = (await e.client.get("/admin/settings", headers={**auth, **rc("admin-a")})).json()
        assert still["userSettings"] == settings_a


async def test_dev_pass_list_makes_an_extension_admin(make_settings: Any) -> None:
    async with env(make_settings(ADMIN_EXTENSION_ID_DEV_PASS_LIST="99, 12")) as e:
        posted = await e.client.post(
            "/admin/settings", json={"adminSettings": {}}, headers=rc("agent-a")
        )
        assert_text(posted, 200, "Admin settings updated")


async def test_identity_server_is_configurable(make_settings: Any) -> None:
    async with env(make_settings(APPCONNECT_RC_IDENTITY_SERVER="https://rc.sandbox.test")) as e:
        reply = await e.client.post(
            "/admin/settings", json={"adminSettings": {}}, headers=rc("admin-a")
        )
        # The fake answers only platform.ringcentral.com; the sandbox host got the check.
        assert reply.status_code == 400
        assert not e.rc.requests


# -- user mapping ----------------------------------------------------------------------------

EXTENSIONS = [
    {"id": 101, "name": "Ann Lee", "extensionNumber": "101", "email": "ann@x.com"},
    {"id": 102, "firstName": "Bob", "lastName": "Ray", "extensionNumber": 102},
    {"id": 103, "name": "Cy", "email": "cy@x.com"},
    {"id": 104, "name": "No Mail"},
]


def _rc_user(ext_id: int, name: str, number: Any, email: str) -> dict[str, Any]:
    return {"extensionId": ext_id, "name": name, "extensionNumber": number, "email": email}


async def test_user_mapping_matches_stores_and_reinitializes(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        e.crm_users[:] = [
            {"id": 1, "name": "Someone", "email": "ann@x.com"},  # by email
            {"id": 2, "name": "Bob Ray"},  # by "first last"
            {"id": 3, "name": "Cy"},  # by name
            {"id": 4, "name": "Zed"},  # no match (a missing email matches nothing)
        ]
        headers = {**auth, **rc("admin-a")}
        body = {"rcExtensionList": EXTENSIONS}
        reply = await e.client.post("/admin/userMapping", json=body, headers=headers)
        assert reply.status_code == 200
        assert reply.json() == [
            {"crmUser": {"id": 1, "name": "Someone", "email": "ann@x.com"},
             "rcUser": [_rc_user(101, "Ann Lee", "101", "ann@x.com")]},
            {"crmUser": {"id": 2, "name": "Bob Ray", "email": ""},
             "rcUser": [_rc_user(102, "Bob Ray", 102, "")]},
            {"crmUser": {"id": 3, "name": "Cy", "email": ""},
             "rcUser": [_rc_user(103, "Cy", "", "cy@x.com")]},
            {"crmUser": {"id": 4, "name": "Zed", "email": ""}, "rcUser": []},
        ]  # fmt: skip
        stored = (await e.client.get("/admin/settings", headers=headers)).json()["userMappings"]
        assert stored == [
            {"crmUserId": "1", "rcExtensionId": ["101"]},
            {"crmUserId": "2", "rcExtensionId": ["102"]},
            {"crmUserId": "3", "rcExtensionId": ["103"]},
        ]
        # The admin remaps user 1 to two extensions; a later mapping call keeps that.
        await e.client.post(
            "/admin/settings",
            json={"adminSettings": {"userMappings": [
                {"crmUserId": "1", "rcExtensionId": ["103", "104"]},
                {"crmUserId": "2", "rcExtensionId": "102"},  # legacy single string
            ]}},
            headers=rc("admin-a"),
        )  # fmt: skip
        again = (await e.client.post("/admin/userMapping", json=body, headers=headers)).json()
        assert again[0]["rcUser"] == [
            _rc_user(103, "Cy", "", "cy@x.com"),
            _rc_user(104, "No Mail", "", ""),
        ]
        assert again[1]["rcUser"] == [_rc_user(102, "Bob Ray", 102, "")]
        stored = (await e.client.get("/admin/settings", headers=headers)).json()["userMappings"]
        assert stored == [
            {"crmUserId": "1", "rcExtensionId": ["103", "104"]},
            {"crmUserId": "2", "rcExtensionId": ["102"]},
            {"crmUserId": "3", "rcExtensionId": ["103"]},
        ]
        # Reinitialize: every CRM user auto-matched afresh, stored mappings replaced.
        fresh = await e.client.post("/admin/reinitializeUserMapping", json=body, headers=headers)
        assert fresh.json()[0]["rcUser"] == [_rc_user(101, "Ann Lee", "101", "ann@x.com")]
        stored = (await e.client.get("/admin/settings", headers=headers)).json()["userMappings"]
        assert stored == [
            {"crmUserId": "1", "rcExtensionId": ["101"]},
            {"crmUserId": "2", "rcExtensionId": ["102"]},
            {"crmUserId": "3", "rcExtensionId": ["103"]},
        ]
        # Account B's admin cannot see or change account A's mappings.
        other = {**auth, **rc("admin-b")}
        await e.client.post("/admin/reinitializeUserMapping", json={"rcExtensionList": []},
                            headers=other)  # fmt: skip
        stored = (await e.client.get("/admin/settings", headers=headers)).json()["userMappings"]
        assert len(stored) == 3


async def test_user_mapping_refusals(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        body = {"rcExtensionList": EXTENSIONS}
        for path in ("/admin/userMapping", "/admin/reinitializeUserMapping"):
            assert_text(await e.client.post(path, json=body, headers=rc("admin-a")), 400, NOAUTH)
            assert_text(
                await e.client.post(path, json=body, headers={**auth, **rc("agent-a")}),
                403,
                "Admin validation failed",
            )
            ghost = bearer(e.rt.sessions.issue("ghost", "mapcrm"))
            assert_text(
                await e.client.post(path, json=body, headers={**ghost, **rc("admin-a")}),
                400,
                "User not found",
            )
            bad = await e.client.post(
                path,
                json={"rcExtensionList": [{"name": "no id"}]},
                headers={**auth, **rc("admin-a")},
            )
            assert bad.status_code == 400 and "rcExtensionList" in bad.json()["error"]
        bare = await e.user("u2", "barecrm")
        empty = await e.client.post(
            "/admin/userMapping", json=body, headers={**bare, **rc("admin-a")}
        )
        assert (empty.status_code, empty.json()) == (200, [])


async def test_user_mapping_crm_failure_is_an_exception_reply(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        e.crm_users.append("FAIL")  # type: ignore[arg-type]
        reply = await e.client.post(
            "/admin/userMapping", json={"rcExtensionList": []}, headers={**auth, **rc("admin-a")}
        )
        assert reply.status_code == 400
        assert "503" in reply.json()["error"]


# -- server-side logging settings ------------------------------------------------------------


async def test_server_logging_settings(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        assert_text(await e.client.get("/admin/serverLoggingSettings"), 400, NOAUTH)
        got = await e.client.get("/admin/serverLoggingSettings", headers=auth)
        assert got.json() == {"apiUsername": "svc", "for": "u1"}
        ghost = bearer(e.rt.sessions.issue("ghost", "mapcrm"))
        assert_text(
            await e.client.get("/admin/serverLoggingSettings", headers=ghost), 400, "User not found"
        )
        assert_text(
            await e.client.post("/admin/serverLoggingSettings", json={"additionalFieldValues": {}}),
            400,
            NOAUTH,
        )
        assert_text(
            await e.client.post("/admin/serverLoggingSettings", json={}, headers=auth),
            400,
            "Missing additionalFieldValues",
        )
        saved = await e.client.post(
            "/admin/serverLoggingSettings",
            json={"additionalFieldValues": {"apiUsername": "new"}},
            headers=auth,
        )
        assert saved.json() == {
            "successful": True,
            "returnMessage": {"message": "Saved", "messageType": "success", "ttl": 3000},
        }
        assert e.connector.updates[0]["additional_field_values"] == {"apiUsername": "new"}
        assert e.connector.updates[0]["user"].id == "u1"
        e.connector.fail = True
        failed = await e.client.post(
            "/admin/serverLoggingSettings", json={"additionalFieldValues": {}}, headers=auth
        )
        assert (failed.status_code, failed.json()) == (
            400,
            {
                "successful": False,
                "returnMessage": {
                    "message": "Server logging settings update failed",
                    "messageType": "warning",
                    "ttl": 5000,
                },
            },
        )
        broken = await e.client.get("/admin/serverLoggingSettings", headers=auth)
        assert (broken.status_code, broken.json()) == (400, {"error": "CRM down"})
        bare = await e.user("u2", "barecrm")
        assert (await e.client.get("/admin/serverLoggingSettings", headers=bare)).json() == {}
        none = await e.client.post(
            "/admin/serverLoggingSettings", json={"additionalFieldValues": {}}, headers=bare
        )
        assert none.json() == {}


async def test_admin_config_row_never_holds_tokens_in_plain_text(settings: Settings) -> None:
    from appconnect.services import admin_settings

    async with env(settings) as e:
        hashed = admin_settings.config_id(e.rt, "acc-A")
        await admin_settings.store_admin_tokens(e.rt, hashed, "rc-admin-access", "rc-refresh", None)
        async with e.rt.db.session() as session:
            row = (await session.execute(text('SELECT * FROM "adminConfigs"'))).mappings().one()
        assert "rc-admin-access" not in str(dict(row)) and "rc-refresh" not in str(dict(row))
        config = await admin_settings.get_config(e.rt, hashed)
        assert config is not None and config.admin_access_token == "rc-admin-access"


async def test_user_mapping_with_a_revoked_crm_session_is_401(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user("r1", "revokedcrm")
        for path in ("/admin/userMapping", "/admin/reinitializeUserMapping"):
            reply = await e.client.post(
                path, json={"rcExtensionList": EXTENSIONS}, headers={**auth, **rc("admin-a")}
            )
            assert (reply.status_code, reply.json()) == (
                401,
                {
                    "successful": False,
                    "returnMessage": {
                        "message": "User session expired. Please connect again.",
                        "messageType": "warning",
                        "ttl": 5000,
                    },
                    "isRevokeUserSession": True,
                    "errorCode": "CRM_SESSION_REVOKED",
                },
            )


async def test_tampered_sessions_on_admin_routes(settings: Settings) -> None:
    async with env(settings) as e:
        auth = await e.user()
        tampered = {"Authorization": auth["Authorization"][:-2] + "xx", **rc("admin-a")}
        for method, path, body in [
            ("GET", "/admin/settings", None),
            ("POST", "/admin/userMapping", {"rcExtensionList": []}),
            ("POST", "/admin/reinitializeUserMapping", {"rcExtensionList": []}),
            ("GET", "/admin/serverLoggingSettings", None),
            ("POST", "/admin/serverLoggingSettings", {"additionalFieldValues": {}}),
            ("GET", "/admin/managedAuth", None),
            ("POST", "/admin/managedAuth", {"values": {}}),
        ]:
            reply = await e.client.request(method, path, json=body, headers=tampered)
            assert_text(reply, 400, NOAUTH)
        # A legacy query token that does not decode reaches the route: no user by it.
        bad = "?jwtToken=" + auth["Authorization"].removeprefix("Bearer ")[:-2] + "xx"
        for path in ("/admin/settings", "/admin/userMapping", "/admin/managedAuth"):
            method = "GET" if path != "/admin/userMapping" else "POST"
            reply = await e.client.request(
                method, path + bad, json={"rcExtensionList": []}, headers=rc("admin-a")
            )
            assert_text(reply, 400, "User not found")
        reply = await e.client.get("/admin/serverLoggingSettings" + bad)
        assert_text(reply, 400, NOAUTH)
