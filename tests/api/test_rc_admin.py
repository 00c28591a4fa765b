"""RingCentral admin routes and ``GET /accountData`` over HTTP, RingCentral and CRM mocked."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx2
import orjson
from sqlalchemy import text
from tests.api._admin_helpers import RC_SERVER, FakeRingCentral, assert_text
from tests.support import add_user, bearer, serve

from appconnect import Connector, ConnectorRegistry, create_app
from appconnect.runtime import Runtime
from appconnect.services import admin_settings

RC_ENV = {
    "RINGCENTRAL_SERVER": RC_SERVER,
    "RINGCENTRAL_CLIENT_ID": "rc-client",
    "RINGCENTRAL_CLIENT_SECRET": "rc-secret",
    "APP_SERVER": "https://app.example",
}
TOKEN_PATH = "/restapi/oauth/token"
ANALYTICS_PATH = "/analytics/calls/v1/accounts/~/aggregation/fetch"


class DataCRM(Connector):
    """An API-key connector with two account-data keys; ``plan`` can be made to fail."""

    auth_type = "apiKey"

    def __init__(self) -> None:
        self.fetches = 0
        self.fail = False

        async def fetch_plan(*, user: Any, auth_header: str) -> dict[str, Any]:
            self.fetches += 1
            if self.fail:
                raise RuntimeError("CRM down")
            return {"plan": "pro", "n": self.fetches, "user": user.id, "auth": auth_header}

        self.account_data = {
            "plan": {"fetch": fetch_plan, "ttlMs": 60_000},
            "users": {"fetch": lambda **_: ["a", "b"]},
        }

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class RevokedCRM(DataCRM):
    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "c", "clientSecret": "s", "accessTokenUri": "https://crm.example/t"}

    async def check_and_refresh_access_token(self, *_: Any) -> None:
        return None


@asynccontextmanager
async def env(
    make_settings: Any, **overrides: Any
) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime, FakeRingCentral, DataCRM]]:
    rc_api = FakeRingCentral()
    registry = ConnectorRegistry()
    connector = DataCRM()
    registry.register_connector("datacrm", connector)
    registry.register_connector("revoked", RevokedCRM())
    app = create_app(registry, settings=make_settings(**overrides), http_transport=rc_api.wrap())
    async with serve(app) as (client, rt):
        yield client, rt, rc_api, connector


async def _user(rt: Runtime, user_id: str = "r1", platform: str = "datacrm") -> dict[str, str]:
    return bearer(await add_user(rt, user_id, platform, rc_account_id="acc-R"))


def _form(request: httpx2.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


# -- RingCentral admin OAuth -----------------------------------------------------------------


async def test_ringcentral_oauth_callback_refusals_and_unconfigured(make_settings: Any) -> None:
    async with env(make_settings) as (client, rt, rc_api, _):
        assert_text(await client.get("/ringcentral/oauth/callback?code=x"), 400, "Invalid request")
        ghost = bearer(rt.sessions.issue("ghost", "datacrm"))
        assert_text(
            await client.get("/ringcentral/oauth/callback?code=x", headers=ghost),
            400,
            "User not found",
        )
        auth = await _user(rt)
        done = await client.get("/ringcentral/oauth/callback?code=x", headers=auth)
        assert done.json() == {"successful": True}
        assert not rc_api.requests  # nothing is exchanged without the RINGCENTRAL_* settings


async def test_ringcentral_oauth_callback_stores_encrypted_admin_tokens(make_settings: Any) -> None:
    async with env(make_settings, **RC_ENV) as (client, rt, rc_api, _):
        rc_api.on(
            "POST",
            TOKEN_PATH,
            lambda _: {
                "access_token": "rc-admin-at",
                "refresh_token": "rc-admin-rt",
                "expires_in": 3600,
            },
        )
        auth = await _user(rt)
        done = await client.get("/ringcentral/oauth/callback?code=the-code", headers=auth)
        assert done.json() == {"successful": True}
        request = rc_api.calls(TOKEN_PATH)[0]
        assert _form(request) == {
            "code": ["the-code"],
            "grant_type": ["authorization_code"],
            "redirect_uri": ["https://app.example/ringcentral/oauth/callback"],
        }
        assert (
            request.headers["authorization"]
            == "Basic " + base64.b64encode(b"rc-client:rc-secret").decode()
        )
        async with rt.db.session() as session:
            row = (await session.execute(text('SELECT * FROM "adminConfigs"'))).mappings().one()
        assert "rc-admin-at" not in str(dict(row)) and "rc-admin-rt" not in str(dict(row))
        assert row["id"] == admin_settings.config_id(rt, "acc-R")
        # The admin settings route never returns them either.
        rc_api.caller("admin", "acc-R", 1, admin=True)
        got = await client.get("/admin/settings", headers={**auth, "X-RC-Access-Token": "admin"})
        assert "rc-admin" not in got.text
        rc_api.on("POST", TOKEN_PATH, lambda _: httpx2.Response(400, json={"error": "bad"}))
        failing = await client.get("/ringcentral/oauth/callback?code=x", headers=auth)
        assert (failing.status_code, failing.json()) == (
            400,
            {"error": "Request failed with status code 400"},
        )


# -- reports ---------------------------------------------------------------------------------

RECORDS = [
    {
        "info": {"name": "Sales"},
        "counters": {
            "callsByDirection": {"values": {"inbound": 3, "outbound": 1}},
            "callsByResponse": {"values": {"answered": 2}},
        },
        "timers": {"allCalls": {"values": 250}},
    },
    {
        "info": {"name": "Idle"},
        "counters": {
            "callsByDirection": {"values": {"inbound": 0, "outbound": 0}},
            "callsByResponse": {"values": {"answered": 0}},
        },
        "timers": {"allCalls": {"values": 0}},
    },
    {"info": {}, "counters": {}},
]


async def test_admin_report_uses_and_refreshes_the_admin_token(make_settings: Any) -> None:
    async with env(make_settings, **RC_ENV) as (client, rt, rc_api, _):
        assert_text(await client.get("/ringcentral/admin/report"), 400, "Invalid request")
        auth = await _user(rt)
        hashed = admin_settings.config_id(rt, "acc-R")
        past = datetime.now(UTC) - timedelta(minutes=1)
        await admin_settings.store_admin_tokens(rt, hashed, "old-at", "old-rt", past)
        rc_api.on(
            "POST",
            TOKEN_PATH,
            lambda _: {"access_token": "new-at", "refresh_token": "new-rt", "expires_in": 3600},
        )
        seen: list[httpx2.Request] = []

        def analytics(request: httpx2.Request) -> Any:
            seen.append(request)
            return {"data": {"records": RECORDS}}

        rc_api.on("POST", ANALYTICS_PATH, analytics)
        query = "timezone=UTC&timeFrom=2024-01-01T00:00:00Z&timeTo=2024-01-31T00:00:00Z"
        report = await client.get(
            f"/ringcentral/admin/report?{query}&groupBy=undefined", headers=auth
        )
        assert report.json() == {
            "callLogStats": [
                {
                    "name": "Sales",
                    "inboundCallCount": 3,
                    "outboundCallCount": 1,
                    "answeredCallCount": 2,
                    "answeredCallPercentage": "66.67%",
                    "totalTalkTime": "250.00",
                    "averageTalkTime": "62.50",
                },
                {
                    "name": "Idle",
                    "inboundCallCount": 0,
                    "outboundCallCount": 0,
                    "answeredCallCount": 0,
                    "answeredCallPercentage": "0%",
                    "totalTalkTime": 0,
                    "averageTalkTime": 0,
                },
            ],
            "itemKeys": ["Sales", "Idle"],
            "groupedBy": "Company",
            "groupKeys": [
                "Company", "CompanyNumbers", "Users", "Queues", "IVRs", "IVAs", "SharedLines",
                "UserGroups", "Sites", "Departments",
            ],
        }  # fmt: skip
        assert _form(rc_api.calls(TOKEN_PATH)[0])["refresh_token"] == ["old-rt"]
        assert seen[0].headers["authorization"] == "Bearer new-at"
        sent = orjson.loads(seen[0].content)
        assert sent["grouping"] == {"groupBy": "Company"}
        assert sent["timeSettings"]["timeRange"]["timeFrom"] == "2024-01-01T00:00:00Z"
        config = await admin_settings.get_config(rt, hashed)
        assert config is not None and config.admin_access_token == "new-at"
        # A second report uses the stored fresh token without refreshing.
        await client.get(f"/ringcentral/admin/report?{query}&groupBy=Users", headers=auth)
        assert len(rc_api.calls(TOKEN_PATH)) == 1
        assert orjson.loads(seen[1].content)["grouping"] == {"groupBy": "Users"}
        rc_api.on("POST", ANALYTICS_PATH, lambda _: httpx2.Response(500))
        failed = await client.get(f"/ringcentral/admin/report?{query}", headers=auth)
        assert (failed.status_code, failed.json()) == (200, {"callLogStats": {}})


async def test_reports_without_ringcentral_settings(make_settings: Any) -> None:
    async with env(make_settings) as (client, rt, _, _c):
        auth = await _user(rt)
        for path in ("/ringcentral/admin/report", "/ringcentral/admin/userReport"):
            reply = await client.get(path, headers=auth)
            assert (reply.status_code, reply.json()) == (200, {"callLogStats": {}})
            assert_text(await client.get(path), 400, "Invalid request")


async def test_user_report_pages_through_calls_and_messages(make_settings: Any) -> None:
    async with env(make_settings, **RC_ENV) as (client, rt, rc_api, _):
        auth = await _user(rt)
        hashed = admin_settings.config_id(rt, "acc-R")
        await admin_settings.store_admin_tokens(
            rt, hashed, "at", "rt", datetime.now(UTC) + timedelta(hours=1)
        )
        pages = {
            "1": {
                "records": [
                    {"direction": "Inbound", "result": "Accepted", "duration": 90},
                    {"direction": "Inbound", "result": "Missed", "duration": 0},
                    {"direction": "Outbound", "result": "Call connected", "duration": 200},
                ],
                "navigation": {"nextPage": {"uri": "next"}},
            },
            "2": {
                "records": [{"direction": "Inbound", "result": "Call connected", "duration": 40}]
            },
        }
        rc_api.on(
            "GET",
            "/restapi/v1.0/account/~/extension/55/call-log",
            lambda request: pages[request.url.params["page"]],
        )
        rc_api.on(
            "GET",
            "/restapi/v1.0/account/~/extension/55/message-store",
            lambda _: {"records": [{"direction": "Outbound"}, {"direction": "Inbound"},
                                   {"direction": "Outbound"}]},
        )  # fmt: skip
        reply = await client.get(
            "/ringcentral/admin/userReport?rcExtensionId=55&timeFrom=a&timeTo=b", headers=auth
        )
        assert reply.json() == {
            "callLogStats": {
                "inboundCallCount": 3,
                "outboundCallCount": 1,
                "answeredCallCount": 2,
                "answeredCallPercentage": "66.67%",
                "totalTalkTime": 6,  # 330 s = 5.5 min, rounded half up as JavaScript does
                "averageTalkTime": 2,  # 6 / 4 calls = 1.5
            },
            "smsLogStats": {"smsSentCount": 2, "smsReceivedCount": 1},
        }
        first = rc_api.calls("/restapi/v1.0/account/~/extension/55/call-log")[0]
        assert dict(first.url.params) == {
            "dateFrom": "a", "dateTo": "b", "view": "Simple", "perPage": "1000", "page": "1"
        }  # fmt: skip
        assert first.headers["authorization"] == "Bearer at"
        broken = await client.get("/ringcentral/admin/userReport?rcExtensionId=66", headers=auth)
        assert (broken.status_code, broken.text) == (200, "")
        sneaky = await client.get(
            "/ringcentral/admin/userReport?rcExtensionId=..%2F..%2Fx", headers=auth
        )
        assert (sneaky.status_code, sneaky.text) == (200, "")


# -- GET /accountData ------------------------------------------------------------------------


async def test_account_data_serves_fetches_and_caches(make_settings: Any) -> None:
    async with env(make_settings) as (client, rt, _, connector):
        assert_text(
            await client.get("/accountData?keys=plan"),
            400,
            "Please go to Settings and authorize CRM platform",
        )
        auth = await _user(rt)
        assert_text(await client.get("/accountData?keys= , ", headers=auth), 400, "Missing keys")
        unknown = await client.get("/accountData?keys=plan,nope,zip", headers=auth)
        assert (unknown.status_code, unknown.json()) == (
            400,
            {
                "successful": False,
                "returnMessage": {
                    "message": "Unknown account data key(s): nope, zip",
                    "messageType": "warning",
                    "ttl": 5000,
                },
            },
        )
        first = await client.get("/accountData?keys=plan, users", headers=auth)
        assert first.json() == {
            "successful": True,
            "data": {
                "plan": {"plan": "pro", "n": 1, "user": "r1", "auth": "Basic dG9rZW46"},
                "users": ["a", "b"],
            },
        }
        cached = await client.get("/accountData?keys=plan", headers=auth)
        assert cached.json()["data"]["plan"]["n"] == 1 and connector.fetches == 1
        forced = await client.get("/accountData?keys=plan&forceRefresh=true", headers=auth)
        assert forced.json()["data"]["plan"]["n"] == 2
        connector.fail = True
        stale = await client.get("/accountData?keys=plan&forceRefresh=true", headers=auth)
        assert stale.json()["data"]["plan"]["n"] == 2  # the stale row, since the fetch failed
        # Another account's user with the same platform does not see account R's rows.
        other = bearer(await add_user(rt, "r2", "datacrm", rc_account_id="acc-S"))
        failed = await client.get("/accountData?keys=plan", headers=other)
        assert (failed.status_code, failed.json()) == (400, {"error": "CRM down"})
        ghost = bearer(rt.sessions.issue("ghost", "datacrm"))
        missing = await client.get("/accountData?keys=plan", headers=ghost)
        assert (missing.status_code, missing.json()["returnMessage"]["message"]) == (
            200,
            "User not found",
        )


async def test_account_data_revoked_session(make_settings: Any) -> None:
    async with env(make_settings) as (client, rt, _, _c):
        auth = bearer(await add_user(rt, "v1", "revoked", rc_account_id="acc-R", refresh_token="r"))
        reply = await client.get("/accountData?keys=plan", headers=auth)
        assert (reply.status_code, reply.json()) == (
            401,
            {
                "successful": False,
                "returnMessage": {
                    "message": "User session expired. Please connect again.",
                    "messageType": "warning",
                    "ttl": 5000,
                },
                "errorCode": "CRM_SESSION_REVOKED",
            },
        )
