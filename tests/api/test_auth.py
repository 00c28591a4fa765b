"""Logins, sessions, token refresh and encryption at rest, over HTTP."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx2
import jwt as pyjwt
import pytest
from sqlalchemy import text
from tests.fakes import FakeCrm
from tests.support import add_user, bearer, serve

from appconnect import (
    Connector,
    ConnectorRegistry,
    LicenseStatus,
    PlatformUserInfo,
    ReturnMessage,
    UserInfoResult,
    create_app,
)
from appconnect.settings import Settings
from appconnect.store.users import User

TOKEN_URL = "https://crm.example/oauth/token"
REDIRECT = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html"


class KeyCRM(Connector):
    """API-key connector: any key but 'bad' is valid."""

    auth_type = "apiKey"

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, *, auth_header: str, api_key: str, **_: Any) -> Any:
        if api_key == "bad":
            return UserInfoResult(
                successful=False,
                return_message=ReturnMessage(message="Invalid key", message_type="warning"),
            )
        return UserInfoResult(
            successful=True,
            platform_user_info=PlatformUserInfo(id=f"{api_key}-keycrm", name="Key User"),
            return_message=ReturnMessage(message="Connected to KeyCRM."),
        )

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def unauthorize(self, *, user: User) -> dict[str, Any]:
        user.access_token = ""
        await user.save()
        return {
            "successful": True,
            "returnMessage": {"message": "Logged out", "messageType": "success", "ttl": 1000},
        }

    async def get_license_status(self, *, user_id: str) -> LicenseStatus:
        return LicenseStatus(is_license_valid=True, license_status="Basic")


class OAuthCRM(Connector):
    auth_type = "oauth"

    async def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {
            "clientId": "cid",
            "clientSecret": "csecret",
            "accessTokenUri": TOKEN_URL,
            "redirectUri": REDIRECT,
        }

    async def get_user_info(self, *, auth_header: str, hostname: str, **_: Any) -> dict[str, Any]:
        assert auth_header == "Bearer at-1"
        return {
            "successful": True,
            "platformUserInfo": {
                "id": "7-oauthcrm",
                "name": "Olive",
                "timezoneOffset": 60,
                "platformAdditionalInfo": {"region": "eu"},
            },
        }

    async def auth_validation(self, *, user: User | None) -> dict[str, Any]:
        return {"successful": user is not None}

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


def make_app(settings: Settings, crm: FakeCrm) -> Any:
    registry = ConnectorRegistry()
    registry.register_connector("keycrm", KeyCRM())
    registry.register_connector("oauthcrm", OAuthCRM())
    return create_app(registry, settings=settings, http_transport=crm.transport)


async def test_api_key_login_issues_a_jwt_that_works(settings: Settings) -> None:
    crm = FakeCrm()
    async with serve(make_app(settings, crm)) as (client, rt):
        login = await client.post(
            "/apiKeyLogin",
            json={"platform": "keycrm", "apiKey": "k1", "hostname": "h.example"},
            headers={"rc-extension-id": "hashed-ext"},
        )
        assert login.status_code == 200
        body = login.json()
        assert body["name"] == "Key User"
        assert body["returnMessage"]["message"] == "Connected to KeyCRM."
        claims = rt.sessions.verify(body["jwtToken"])
        assert claims is not None and claims["id"] == "k1-keycrm" and claims["platform"] == "keycrm"
        token = body["jwtToken"]
        assert (await client.get("/hostname", headers=bearer(token))).text == "h.example"
        license_ = await client.get("/licenseStatus", headers=bearer(token))
        assert license_.json() == {
            "isLicenseValid": True,
            "licenseStatus": "Basic",
            "licenseStatusDescription": "",
        }
        user = await rt.users.get("k1-keycrm")
        assert user is not None and user.hashed_rc_extension_id == "hashed-ext"
        assert user.platform_additional_info == {"proxyId": None}


async def test_api_key_login_failures(settings: Settings) -> None:
    async with serve(make_app(settings, FakeCrm())) as (client, _):
        missing = await client.post("/apiKeyLogin", json={"apiKey": "k"})
        assert (missing.status_code, missing.text) == (400, "Missing platform name")
        rejected = await client.post("/apiKeyLogin", json={"platform": "keycrm", "apiKey": "bad"})
        assert rejected.status_code == 400
        assert rejected.json()["returnMessage"]["message"] == "Invalid key"
        unknown = await client.post("/apiKeyLogin", json={"platform": "nope", "apiKey": "k"})
        assert unknown.status_code == 400
        assert unknown.json() == {"error": "Connector not found for platform: nope"}
        broken = await client.post(
            "/apiKeyLogin", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert broken.status_code == 400 and "error" in broken.json()


async def test_tampered_and_missing_tokens_are_refused(settings: Settings) -> None:
    async with serve(make_app(settings, FakeCrm())) as (client, _):
        token = (
            await client.post("/apiKeyLogin", json={"platform": "keycrm", "apiKey": "k1"})
        ).json()["jwtToken"]
        head, _payload, sig = token.split(".")
        forged = (
            base64.urlsafe_b64encode(b'{"id":"someone-else","platform":"keycrm"}')
            .rstrip(b"=")
            .decode()
        )
        tampered = f"{head}.{forged}.{sig}"
        # A bad bearer is treated as no session at all (reference §2.1)...
        response = await client.get("/licenseStatus", headers=bearer(tampered))
        assert response.json()["licenseStatus"] == "Invalid (Invalid user session)"
        response = await client.get("/hostname", headers=bearer(tampered))
        assert response.text == "Please go to Settings and authorize CRM platform"
        # ...while a bad legacy query token is reported as invalid.
        response = await client.get("/licenseStatus", params={"jwtToken": tampered})
        assert (response.status_code, response.text) == (400, "Invalid JWT token")
        response = await client.get("/authValidation", params={"jwtToken": tampered})
        assert (response.status_code, response.text) == (400, "Invalid JWT token")
        no_token = await client.get("/licenseStatus")
        assert no_token.json()["licenseStatus"] == "Invalid (Invalid user session)"
        # A genuine token without an id claim is "no user id", not "invalid" (reference table).
        no_id = pyjwt.encode(
            {"platform": "keycrm", "exp": int(time.time()) + 60}, "test-secret-key", "HS256"
        )
        response = await client.get("/licenseStatus", params={"jwtToken": no_id})
        assert (response.status_code, response.text) == (400, "No user ID")
        response = await client.put(
            "/callDisposition", params={"jwtToken": no_id}, json={"sessionId": "s"}
        )
        assert (response.status_code, response.text) == (
            400,
            "Please go to Settings and authorize CRM platform",
        )
        assert (
            await client.post("/unAuthorize")
        ).text == "Please go to Settings and authorize CRM platform"


async def test_logout_clears_the_credential(settings: Settings) -> None:
    async with serve(make_app(settings, FakeCrm())) as (client, rt):
        token = (
            await client.post("/apiKeyLogin", json={"platform": "keycrm", "apiKey": "k1"})
        ).json()["jwtToken"]
        response = await client.post("/unAuthorize", headers=bearer(token))
        assert response.json() == {"message": "Logged out", "messageType": "success", "ttl": 1000}
        user = await rt.users.get("k1-keycrm")
        assert user is not None and user.access_token == ""


async def test_credentials_are_encrypted_at_rest(settings: Settings) -> None:
    async with serve(make_app(settings, FakeCrm())) as (client, rt):
        await client.post("/apiKeyLogin", json={"platform": "keycrm", "apiKey": "super-secret-key"})
        async with rt.db.session() as session:
            raw = (
                await session.execute(
                    text('SELECT "accessToken" FROM users WHERE id = :id'),
                    {"id": "super-secret-key-keycrm"},
                )
            ).scalar_one()
        assert "super-secret-key" not in raw and raw.startswith("gcm1:")
        user = await rt.users.get("super-secret-key-keycrm")
        assert user is not None and user.access_token == "super-secret-key"


def token_endpoint(
    crm: FakeCrm, counter: list[dict[str, Any]], answer: dict[str, Any], status: int = 200
) -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        counter.append({"form": form, "auth": request.headers.get("authorization")})
        await asyncio.sleep(0.01)
        return httpx2.Response(status, json=answer)

    crm.on("POST", "/oauth/token", handler)


async def test_oauth_callback_exchanges_the_code_and_stores_tokens(settings: Settings) -> None:
    crm = FakeCrm()
    seen: list[dict[str, Any]] = []
    token_endpoint(crm, seen, {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600})
    async with serve(make_app(settings, crm)) as (client, rt):
        callback = f"{REDIRECT}?code=abc&state=platform%3Doauthcrm%26hostname%3Dcrm.example"
        response = await client.get(
            "/oauth-callback", params={"callbackUri": callback, "rcAccountId": "acc-1"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "Olive"
        assert rt.sessions.verify(body["jwtToken"])["id"] == "7-oauthcrm"  # type: ignore[index]
        assert seen[0]["form"] == {
            "code": "abc",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
        }
        assert seen[0]["auth"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
        user = await rt.users.get("7-oauthcrm")
        assert user is not None
        assert (user.access_token, user.refresh_token, user.hostname) == (
            "at-1",
            "rt-1",
            "crm.example",
        )
        assert user.rc_account_id == "acc-1" and user.timezone_offset == "60"
        assert user.platform_additional_info == {"region": "eu", "proxyId": None}
        assert user.token_expiry is not None and user.token_expiry > datetime.now(UTC)


async def test_oauth_callback_errors(settings: Settings) -> None:
    async with serve(make_app(settings, FakeCrm())) as (client, _):
        assert (await client.get("/oauth-callback")).text == "Missing callbackUri"
        no_platform = await client.get(
            "/oauth-callback", params={"callbackUri": f"{REDIRECT}?code=x"}
        )
        assert no_platform.text == "Missing platform name"
        wrong_path = await client.get(
            "/oauth-callback",
            params={"callbackUri": "https://evil.example/cb?code=x&state=platform%3Doauthcrm"},
        )
        assert wrong_path.status_code == 400
        assert wrong_path.json()["error"].startswith("Redirected path should match configured path")


async def oauth_user(rt: Any, expiry: datetime | None, refresh: str = "rt-old") -> str:
    return await add_user(
        rt, "7-oauthcrm", "oauthcrm", hostname="crm.example", access_token="at-old",
        refresh_token=refresh, token_expiry=expiry,
    )  # fmt: skip


@pytest.mark.parametrize("concurrency", [50])
async def test_expired_token_is_refreshed_exactly_once_under_concurrency(
    settings: Settings, concurrency: int
) -> None:
    crm = FakeCrm()
    seen: list[dict[str, Any]] = []
    token_endpoint(crm, seen, {"access_token": "at-new", "expires_in": 3600})
    async with serve(make_app(settings, crm)) as (client, rt):
        token = await oauth_user(rt, datetime.now(UTC) - timedelta(minutes=5))
        responses = await asyncio.gather(
            *(client.get("/authValidation", headers=bearer(token)) for _ in range(concurrency))
        )
        assert {r.status_code for r in responses} == {200}
        assert all(r.json() == {"successful": True} for r in responses)
        assert len(seen) == 1
        assert seen[0]["form"] == {"refresh_token": "rt-old", "grant_type": "refresh_token"}
        user = await rt.users.get("7-oauthcrm")
        assert user is not None and user.access_token == "at-new"
        assert user.refresh_token == "rt-old"  # provider did not rotate it: keep the old one


async def test_revoked_refresh_token_gives_no_user_not_a_500(settings: Settings) -> None:
    crm = FakeCrm()
    seen: list[dict[str, Any]] = []
    token_endpoint(crm, seen, {"error": "invalid_grant"}, status=400)
    async with serve(make_app(settings, crm)) as (client, rt):
        token = await oauth_user(rt, datetime.now(UTC) - timedelta(minutes=5))
        response = await client.get("/authValidation", headers=bearer(token))
        assert response.status_code == 200
        assert response.json() == {"successful": False}


async def test_token_endpoint_outage_is_a_400_error_not_a_500(settings: Settings) -> None:
    crm = FakeCrm()
    seen: list[dict[str, Any]] = []
    token_endpoint(crm, seen, {"message": "down"}, status=503)
    async with serve(make_app(settings, crm)) as (client, rt):
        token = await oauth_user(rt, datetime.now(UTC) - timedelta(minutes=5))
        response = await client.get("/authValidation", headers=bearer(token))
        assert response.status_code == 400 and "error" in response.json()


async def test_fresh_token_is_not_refreshed(settings: Settings) -> None:
    crm = FakeCrm()
    seen: list[dict[str, Any]] = []
    token_endpoint(crm, seen, {"access_token": "never"})
    async with serve(make_app(settings, crm)) as (client, rt):
        token = await oauth_user(rt, datetime.now(UTC) + timedelta(hours=1))
        assert (await client.get("/authValidation", headers=bearer(token))).json() == {
            "successful": True
        }
        token = await oauth_user(rt, None)  # no expiry stored: never refreshed (reference rule)
        assert (await client.get("/authValidation", headers=bearer(token))).json() == {
            "successful": True
        }
        assert seen == []
