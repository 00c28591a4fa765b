"""System and metadata routes, and the session middleware they share."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import jwt
from tests.support import add_user, bearer, serve

from appconnect import Connector, ConnectorRegistry, create_app
from appconnect.settings import Settings

MANIFEST = {
    "serverUrl": "https://connector.example",
    "author": {"name": "Acme"},
    "version": "9.9.9",
    "platforms": {
        "acme": {
            "name": "acme",
            "auth": {"type": "oauth", "oauth": {"authUrl": "https://a/x", "clientId": "c"}},
            "serverSideLogging": {"url": "https://sscl.example"},
        }
    },
}


class Acme(Connector):
    auth_type = "oauth"

    async def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "c", "accessTokenUri": "https://crm.example/token"}

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def find_contact(self, **_: Any) -> dict[str, Any]:
        return {}


def make_app(settings: Settings) -> Any:
    registry = ConnectorRegistry()
    registry.register_connector("acme", Acme(), MANIFEST)
    registry.set_release_notes({"0.1.0": {"acme": [{"type": "Fix", "description": "x"}]}})
    return create_app(registry, settings=settings, manifest=MANIFEST)


async def test_is_alive_and_version(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, _):
        alive = await client.get("/isAlive")
        assert (alive.status_code, alive.text) == (200, "OK")
        assert alive.headers["content-type"].startswith("text/plain")
        assert (await client.get("/serverVersionInfo")).json() == {"version": "9.9.9"}


async def test_implemented_interfaces_awaits_auth_type(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, _):
        missing = await client.get("/implementedInterfaces")
        assert (missing.status_code, missing.text) == (400, "Please provide platform.")
        unknown = await client.get("/implementedInterfaces", params={"platform": "nope"})
        assert unknown.status_code == 400
        assert unknown.json() == {"error": "Connector not found for platform: nope"}
        flags = (await client.get("/implementedInterfaces", params={"platform": "acme"})).json()
        assert flags["getOauthInfo"] is True and "getBasicAuth" not in flags
        assert flags["findContact"] is True and flags["createContact"] is False
        assert flags["cacheCallNote"] is False


async def test_crm_manifest_overrides_apply_to_a_copy(make_settings: Any) -> None:
    settings = make_settings(
        OVERRIDE_APP_SERVER="https://mine.example",
        OVERRIDE_SERVER_SIDE_LOGGING_SERVER="https://sscl.mine",
    )
    async with serve(make_app(settings)) as (client, rt):
        served = (await client.get("/crmManifest", params={"platformName": "acme"})).json()
        assert served["serverUrl"] == "https://mine.example"
        assert served["platforms"]["acme"]["serverSideLogging"]["url"] == "https://sscl.mine"
        original = rt.registry.get_manifest("acme").data
        assert original["serverUrl"] == "https://connector.example"
        default = await client.get("/crmManifest")
        assert default.json()["version"] == "9.9.9"
        unknown = await client.get("/crmManifest", params={"platformName": "nope"})
        assert (unknown.status_code, unknown.text) == (400, "Platform not found")


async def test_release_notes_merge_core_globals(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, _):
        notes = (await client.get("/releaseNotes")).json()
        assert list(notes) == ["0.1.0"]
        assert notes["0.1.0"]["acme"] == [{"type": "Fix", "description": "x"}]
        assert notes["0.1.0"]["global"][0]["type"] == "New"


async def test_user_info_hash(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, _):
        body = (await client.get("/userInfoHash", params={"extensionId": "1"})).json()
        assert len(body["extensionId"]) == 64 and body["extensionId"] != body["accountId"]


async def test_hostname_needs_a_session_and_a_user(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, rt):
        assert (
            await client.get("/hostname")
        ).text == "Please go to Settings and authorize CRM platform"
        ghost = rt.sessions.issue("ghost", "acme")
        assert (await client.get("/hostname", headers=bearer(ghost))).text == "User not found"
        token = await add_user(rt, "u1", "acme", hostname="crm.example")
        assert (await client.get("/hostname", headers=bearer(token))).text == "crm.example"
        # legacy query-parameter token
        assert (await client.get("/hostname", params={"jwtToken": token})).text == "crm.example"


async def test_token_near_expiry_is_reissued_in_a_header(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, rt):
        fresh = rt.sessions.issue("u1", "acme")
        assert (
            "x-refreshed-jwt-token"
            not in (await client.get("/isAlive", headers=bearer(fresh))).headers
        )
        old = rt.sessions.issue("u1", "acme", now=time.time() - 8 * 86400)
        response = await client.get("/isAlive", headers=bearer(old))
        renewed = response.headers["x-refreshed-jwt-token"]
        claims = jwt.decode(renewed, "test-secret-key", algorithms=["HS256"])
        assert claims["id"] == "u1" and claims["platform"] == "acme"
        assert claims["exp"] - time.time() > 13 * 86400


async def test_bad_bearer_hides_query_token(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, rt):
        good = await add_user(rt, "u1", "acme", hostname="h")
        response = await client.get(
            "/hostname", params={"jwtToken": good}, headers=bearer("garbage")
        )
        assert response.text == "Please go to Settings and authorize CRM platform"


async def test_cors_preflight_and_exposed_header(settings: Settings) -> None:
    async with serve(make_app(settings)) as (client, _):
        preflight = await client.options(
            "/contact",
            headers={
                "Origin": "chrome-extension://abc",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,x-custom",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        simple = await client.get("/isAlive", headers={"Origin": "chrome-extension://abc"})
        assert "x-refreshed-jwt-token" in simple.headers["access-control-expose-headers"]


async def test_startup_failure_answers_503(tmp_path: Any) -> None:
    settings = Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x.db",
        APP_SERVER_SECRET_KEY="k",
        HASH_KEY="h",
    )
    app = make_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.get("/isAlive")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "Service unavailable"
