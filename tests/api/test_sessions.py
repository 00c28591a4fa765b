"""Sessions: logout refuses the old token on every route, in every worker; no token lives forever.

Over HTTP on SQLite and PostgreSQL (the ``db_url`` fixture). A second app on the same database
stands for a second worker process (its own engine, caches and signer).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import jwt as pyjwt
import pytest
from fastapi.routing import APIRoute

from appconnect.app import build_router, create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.settings import Settings
from appconnect.store.users import User

from ._call_log_helpers import (
    API_KEY,
    CRM_HOST,
    HASH_KEY,
    PLATFORM,
    ActivityConnector,
    ActivityCrm,
    Harness,
    log_body,
    running_app,
)

SECRET = "call-log-tests-secret-0123456789abcdef"  # the call-log harness's secret
# Routes that never look at a session (logins, public metadata, docs).
PUBLIC = {"/apiKeyLogin", "/oauth-callback", "/isAlive", "/crmManifest", "/releaseNotes",
          "/serverVersionInfo", "/userInfoHash", "/implementedInterfaces", "/docs",
          "/docs/oauth2-redirect", "/openapi.json"}  # fmt: skip
# MCP routes authenticate with a RingCentral token (or a widget token), never an App Connect
# session; the CRM session they use is checked when a tool runs (tests/api/test_mcp.py).
PUBLIC |= {"/mcp", "/mcp/widget-tool-call", "/.well-known/oauth-protected-resource",
           "/.well-known/oauth-authorization-server", "/.well-known/openai-apps-challenge",
           "/oauth/register", "/oauth/authorize_shim"}  # fmt: skip


class LogoutConnector(ActivityConnector):
    """The call-log test connector plus ``unAuthorize`` (which clears the CRM key, as most do)."""

    async def unauthorize(self, *, user: User) -> dict[str, Any]:
        self._record("unAuthorize", {"user": user})
        await user.update(access_token="")
        return {"returnMessage": {"message": "Logged out", "messageType": "success", "ttl": 1000}}


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url, LogoutConnector()) as harness:
        yield harness


def _session_routes() -> list[tuple[str, str]]:
    app_routes = [r for r in build_router().routes if isinstance(r, APIRoute)]
    found = [(method, r.path) for r in app_routes for method in sorted(r.methods)
             if r.path not in PUBLIC and method != "HEAD"]  # fmt: skip
    assert ("PUT", "/callDisposition") in found and ("POST", "/messageLog") in found
    return found


async def _as_without_token(h: Harness, token_headers: dict[str, str]) -> None:
    """Every session route answers the old token exactly as it answers no token at all."""
    for method, path in _session_routes():
        url = path.replace("{", "").replace("}", "")
        query = "?sessionIds=s-1&phoneNumber=%2B14155550100"
        body = log_body("s-1", note="after logout") | {"sessionId": "s-1", "dispositions": {}}
        with_token = await h.client.request(method, url + query, json=body, headers=token_headers)
        without = await h.client.request(method, url + query, json=body)
        assert (with_token.status_code, with_token.text) == (without.status_code, without.text), (
            method, path)  # fmt: skip


async def test_logout_refuses_the_old_token_on_every_route(h: Harness) -> None:
    auth = await h.login("alice")
    logged = await h.client.post("/callLog", json=log_body("s-1"), headers=auth)
    assert logged.json()["successful"] is True
    assert (await h.client.get("/hostname", headers=auth)).text == CRM_HOST

    out = await h.client.post("/unAuthorize", headers=auth)
    assert out.status_code == 200
    requests_before = len(h.crm.requests)

    await _as_without_token(h, auth)
    disposition = await h.client.put(
        "/callDisposition", json={"sessionId": "s-1", "dispositions": {"a": 1}}, headers=auth
    )
    assert disposition.status_code == 400  # the reference still disposes with a logged-out token
    # Nothing reached the CRM's activities (admin routes authenticate with a RingCentral token
    # instead and may call out with or without a session; they answered as without one).
    after = h.crm.requests[requests_before:]
    assert [r for r in after if r.path.startswith("/activities")] == []
    assert "upsertCallDisposition" not in h.connector.received

    # A new login works; the old token stays refused (also via the legacy query parameter).
    fresh = await h.login("alice")
    assert fresh != auth
    assert (await h.client.get("/hostname", headers=fresh)).text == CRM_HOST
    assert (await h.client.get("/hostname", headers=auth)).status_code == 400
    legacy_query = auth["Authorization"].removeprefix("Bearer ")
    assert (await h.client.get(f"/hostname?jwtToken={legacy_query}")).status_code == 400


async def test_logout_in_one_worker_refuses_the_token_in_another(db_url: str) -> None:
    crm = ActivityCrm()
    registry = ConnectorRegistry()
    registry.register_connector(PLATFORM, LogoutConnector())
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY=SECRET, HASH_KEY=HASH_KEY,
                        APPCONNECT_USER_CACHE_TTL=0)  # fmt: skip
    async with running_app(db_url, LogoutConnector(), crm, APPCONNECT_USER_CACHE_TTL=0) as one:
        other = create_app(registry, settings=settings, http_transport=crm.transport)
        async with other.router.lifespan_context(other):
            transport = httpx2.ASGITransport(app=other)
            async with httpx2.AsyncClient(transport=transport, base_url="http://two") as two:
                auth = await one.login("alice")
                assert (await two.get("/hostname", headers=auth)).text == CRM_HOST

                assert (await one.client.post("/unAuthorize", headers=auth)).status_code == 200

                refused = await two.put(
                    "/callDisposition", json={"sessionId": "s-1", "dispositions": {}},
                    headers=auth,
                )  # fmt: skip
                assert refused.status_code == 400
                assert (await two.get("/hostname", headers=auth)).status_code == 400


async def test_a_user_deleted_at_logout_and_back_does_not_revive_old_tokens(h: Harness) -> None:
    auth = await h.login("alice")
    assert (await h.client.post("/unAuthorize", headers=auth)).status_code == 200
    await h.rt.users.delete("alice")

    fresh = await h.login("alice")

    assert (await h.client.get("/hostname", headers=fresh)).text == CRM_HOST
    assert (await h.client.get("/hostname", headers=auth)).status_code == 400


async def test_a_token_without_exp_is_refused_over_http(h: Harness) -> None:
    await h.login("alice")
    forever = pyjwt.encode({"id": "alice", "platform": PLATFORM, "iat": int(time.time())},
                           SECRET, algorithm="HS256")  # fmt: skip
    response = await h.client.get("/hostname", headers={"Authorization": f"Bearer {forever}"})
    assert response.status_code == 400
    assert API_KEY not in response.text
