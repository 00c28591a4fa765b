"""Proxy connectors get what the runtime gives code connectors: secrets encrypted at rest, the
account-wide contact-match cache and the look-up's phone-number fix-up."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from tests.proxy._proxy_helpers import example, proxy_app
from tests.proxy.test_nimbus_e2e import API, KEY, SECRET, nimbus_crm
from tests.support import bearer, serve

from appconnect import Settings
from appconnect.connectors.proxy import ProxyConfigs
from appconnect.runtime import Runtime

USER_ID = "u_77-nimbus"


def nimbus_configs() -> ProxyConfigs:
    return ProxyConfigs({"px_1": example("nimbus")}, secret_keys={"px_1": SECRET})


def login_body(**additional: Any) -> dict[str, Any]:
    """An API-key login as the client sends it: every auth-page field in additionalInfo too."""
    return {
        "platform": "nimbus",
        "apiKey": KEY,
        "hostname": "app.nimbuscrm.example",
        "proxyId": "px_1",
        "additionalInfo": {"apiKey": KEY, "workspaceId": "w_9", **additional},
    }


async def raw_user_row(rt: Runtime) -> dict[str, Any]:
    async with rt.db.session() as session:
        query = text('SELECT * FROM users WHERE id = :id')
        row = (await session.execute(query, {"id": USER_ID})).mappings().one()
    return dict(row)


def stored_info(row: dict[str, Any]) -> dict[str, Any]:
    info = row["platformAdditionalInfo"]
    loaded: dict[str, Any] = json.loads(info) if isinstance(info, str) else info
    return loaded


async def test_the_login_api_key_is_never_stored_in_plain_text(settings: Settings) -> None:
    async with serve(proxy_app(settings, nimbus_crm(), nimbus_configs())) as (client, rt):
        login = await client.post("/apiKeyLogin", json=login_body(apiToken="tok-2"))
        assert login.status_code == 200, login.text

        row = await raw_user_row(rt)
        assert KEY not in str(row) and "tok-2" not in str(row)
        info = stored_info(row)
        assert info["apiKey"].startswith("gcm1:") and info["apiToken"].startswith("gcm1:")
        assert info["workspaceId"] == "w_9" and info["proxyId"] == "px_1"  # the rest stays plain
        assert row["accessToken"].startswith("gcm1:")

        # In memory (what connectors and templates see) the values are the plain ones.
        rt.users.forget(USER_ID)
        user = await rt.users.get(USER_ID)
        assert user is not None
        assert user.platform_additional_info["apiKey"] == KEY
        assert user.platform_additional_info["apiToken"] == "tok-2"

        # A second login merges over the stored info: the key is read back and sealed again.
        again = await client.post("/apiKeyLogin", json=login_body())
        assert again.status_code == 200, again.text
        row = await raw_user_row(rt)
        assert KEY not in str(row) and "tok-2" not in str(row)
        rt.users.forget(USER_ID)
        user = await rt.users.get(USER_ID)
        assert user is not None and user.platform_additional_info["apiToken"] == "tok-2"

        # And the user's requests still carry the key the CRM expects.
        token = login.json()["jwtToken"]
        found = await client.get("/contact?phoneNumber=%2B16505550100", headers=bearer(token))
        assert found.status_code == 200, found.text


async def test_a_reference_row_with_a_plain_key_is_read_and_sealed_on_save(
    settings: Settings,
) -> None:
    async with serve(proxy_app(settings, nimbus_crm(), nimbus_configs())) as (client, rt):
        assert (await client.post("/apiKeyLogin", json=login_body())).status_code == 200
        plain = json.dumps({"apiKey": KEY, "proxyId": "px_1", "workspaceId": "w_9"})
        async with rt.db.transaction() as session:
            await session.execute(
                text('UPDATE users SET "platformAdditionalInfo" = :info WHERE id = :id'),
                {"info": plain, "id": USER_ID},
            )
        rt.users.forget(USER_ID)
        user = await rt.users.get(USER_ID)
        assert user is not None and user.platform_additional_info["apiKey"] == KEY
        await user.save()
        assert stored_info(await raw_user_row(rt))["apiKey"].startswith("gcm1:")


async def test_proxy_look_ups_use_the_account_contact_cache(settings: Settings) -> None:
    crm = nimbus_crm()
    async with serve(proxy_app(settings, crm, nimbus_configs())) as (client, rt):
        login = await client.post("/apiKeyLogin", json=login_body())
        token = login.json()["jwtToken"]
        user = await rt.users.get(USER_ID)
        assert user is not None
        await user.update(rc_account_id="rc-acc-1")  # the cache is per RingCentral account
        before = len(crm.requests)

        # An unescaped "+" arrives as a space; the runtime restores it before the connector.
        first = await client.get("/contact?phoneNumber= 16505550100", headers=bearer(token))
        assert first.status_code == 200, first.text
        assert first.json()["contact"][0]["id"] == "p_881"
        [search] = crm.requests[before:]
        assert search.url == (
            f"{API}/people/search?phone=%2B16505550100&raw=%2B16505550100&limit=25"
        )

        assert first.json()["returnMessage"]["message"] == "Found 1 contacts"
        second = await client.get("/contact?phoneNumber=%2B16505550100", headers=bearer(token))
        # The cache's answer, as for code connectors: no message from the connector.
        assert second.json() == {
            "successful": True,
            "returnMessage": None,
            "contact": first.json()["contact"],
        }
        assert len(crm.requests) == before + 1  # answered from the cache: no CRM request

        refreshed = await client.get(
            "/contact?phoneNumber=%2B16505550100&isForceRefreshAccountData=true",
            headers=bearer(token),
        )
        assert refreshed.json()["contact"][0]["id"] == "p_881"
        assert len(crm.requests) == before + 2  # a forced refresh asks the CRM again
