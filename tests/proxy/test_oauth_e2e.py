"""A proxy connector with OAuth auth, end to end over HTTP (spec §3.3, §6, §11 "OAuth variant").

``/oauth-callback`` exchanges the code at the config's ``tokenUrl`` with its client credentials,
``getUserInfo`` runs with the new bearer token, look-ups send it, and an expired token is
refreshed exactly once (also when two look-ups need it together) before the CRM is called.
Every CRM request (token endpoint included) is asserted exactly.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx2
from tests.proxy._proxy_helpers import example, proxy_app
from tests.proxy.test_nimbus_e2e import API, SECRET, VERSION_HEADER, headers_of, nimbus_crm
from tests.support import bearer, serve

from appconnect import Settings
from appconnect.connectors.proxy import ProxyConfigs

TOKEN_URL = "https://app.nimbuscrm.example/oauth/token"
REDIRECT = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html"
CLIENT_BASIC = "Basic " + base64.b64encode(b"nimbus-client:nimbus-secret").decode()
USER_ID = "u_77-nimbus"
TOKEN_HEADERS = {
    "accept": "application/json, application/x-www-form-urlencoded",
    "content-type": "application/x-www-form-urlencoded",
    "authorization": CLIENT_BASIC,
    VERSION_HEADER: "0.1.0",  # the shared client sends it with every request
}


def oauth_config() -> dict[str, Any]:
    """The spec's example with its OAuth variant of ``auth`` (§11)."""
    config = example("nimbus")
    config["auth"] = {
        "type": "oauth",
        "clientId": "nimbus-client",
        "clientSecret": "nimbus-secret",
        "tokenUrl": TOKEN_URL,
        "redirectUri": REDIRECT,
    }
    return config


def oauth_crm() -> Any:
    crm = nimbus_crm()
    issued = {"authorization_code": ("at-1", "rt-1"), "refresh_token": ("at-2", "rt-2")}

    async def token(request: httpx2.Request) -> httpx2.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        access, refresh = issued[form["grant_type"]]
        await asyncio.sleep(0)  # let a concurrent request reach the refresh lock meanwhile
        body = {"access_token": access, "refresh_token": refresh, "expires_in": 3600}
        return httpx2.Response(200, json=body)

    crm.on("POST", "/oauth/token", token, host="app.nimbuscrm.example")
    return crm


def form_of(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def search_url(number: str) -> str:
    quoted = number.replace("+", "%2B")
    return f"{API}/people/search?phone={quoted}&raw={quoted}&limit=25"


def api_headers(token: str) -> dict[str, str]:
    return {
        "accept": "application/json",
        "x-nimbus-integration": SECRET,
        "x-nimbus-workspace": "w_9",
        "authorization": f"Bearer {token}",
        VERSION_HEADER: "0.1.0",
        "content-type": "application/json",
    }


async def test_oauth_login_lookup_and_one_refresh(settings: Settings) -> None:
    crm = oauth_crm()
    configs = ProxyConfigs({"px_1": oauth_config()}, secret_keys={"px_1": SECRET})
    async with serve(proxy_app(settings, crm, configs)) as (client, rt):
        # -- login: code exchange, then getUserInfo with the new token -------------------------
        callback = f"{REDIRECT}?code=abc&state=platform%3Dnimbus"
        login = await client.get(
            "/oauth-callback",
            params={
                "callbackUri": callback,
                "proxyId": "px_1",
                "hostname": "app.nimbuscrm.example",
            },
        )
        assert login.status_code == 200, login.text
        assert login.json()["name"] == "Nina Agent"
        token = login.json()["jwtToken"]
        exchange, me = crm.requests
        assert (exchange.method, exchange.url) == ("POST", TOKEN_URL)
        assert headers_of(exchange) == TOKEN_HEADERS
        assert form_of(exchange) == {
            "code": "abc",
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
        }
        assert (me.method, me.url) == ("GET", f"{API}/me")  # no workspace at login
        assert headers_of(me) == {
            "accept": "application/json",
            "x-nimbus-integration": SECRET,
            "authorization": "Bearer at-1",
            VERSION_HEADER: "0.1.0",
            "content-type": "application/json",
        }
        user = await rt.users.get(USER_ID)
        assert user is not None
        assert (user.access_token, user.refresh_token) == ("at-1", "rt-1")
        assert user.proxy_id == "px_1"

        # -- a look-up with a fresh token: no refresh ------------------------------------------
        found = await client.get("/contact?phoneNumber=%2B16505550100", headers=bearer(token))
        assert found.status_code == 200, found.text
        assert found.json()["contact"][0]["id"] == "p_881"
        [search] = crm.requests[2:]
        assert (search.method, search.url) == ("GET", search_url("+16505550100"))
        assert headers_of(search) == api_headers("at-1")

        # -- the token expires: two look-ups at once, one refresh ------------------------------
        user.token_expiry = datetime.now(UTC) - timedelta(minutes=1)
        await user.save()
        answers = await asyncio.gather(
            client.get("/contact?phoneNumber=%2B16505550101", headers=bearer(token)),
            client.get("/contact?phoneNumber=%2B16505550102", headers=bearer(token)),
        )
        assert [a.status_code for a in answers] == [200, 200]
        later = crm.requests[3:]
        refreshes = [r for r in later if r.url == TOKEN_URL]
        assert len(refreshes) == 1
        [refresh] = refreshes
        assert refresh.method == "POST" and headers_of(refresh) == TOKEN_HEADERS
        assert form_of(refresh) == {"refresh_token": "rt-1", "grant_type": "refresh_token"}
        assert later[0] is refresh  # the CRM saw the refresh before any call with the new token
        searches = sorted(later[1:], key=lambda r: r.url)
        assert [(r.method, r.url) for r in searches] == [
            ("GET", search_url("+16505550101")),
            ("GET", search_url("+16505550102")),
        ]
        assert all(headers_of(r) == api_headers("at-2") for r in searches)
        user = await rt.users.get(USER_ID, fresh=True)
        assert user is not None
        assert (user.access_token, user.refresh_token) == ("at-2", "rt-2")
        assert user.token_expiry is not None and user.token_expiry > datetime.now(UTC)

        # -- the refreshed token is used as it is -----------------------------------------------
        again = await client.get("/contact?phoneNumber=%2B16505550103", headers=bearer(token))
        assert again.status_code == 200
        assert [(r.method, r.url) for r in crm.requests[6:]] == [
            ("GET", search_url("+16505550103"))
        ]
        assert headers_of(crm.requests[-1]) == api_headers("at-2")
