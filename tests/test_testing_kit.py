"""The public testing kit (``appconnect.testing``) used as a connector author would use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from appconnect import (
    Connector,
    ContactMatch,
    FindContactResult,
    LogResult,
    PlatformUserInfo,
    UpdateLogResult,
    UserInfoResult,
)
from appconnect.testing import (
    FakeCrm,
    app_client,
    call_log_body,
    call_log_update_body,
    message_log_body,
    sms_message,
)

pytest_plugins = ["appconnect.testing.fixtures"]

CRM_URL = "https://api.kit.example"


class KitCRM(Connector):
    platform = "kitcrm"
    auth_type = "apiKey"
    base_url = CRM_URL

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, *, auth_header: str, **_: Any) -> UserInfoResult:
        me = (await self.http().get("/me", headers={"Authorization": auth_header})).json()
        return UserInfoResult(
            successful=True, platform_user_info=PlatformUserInfo(id=me["id"], name=me["name"])
        )

    async def find_contact(self, *, phone_number: str, **_: Any) -> FindContactResult:
        people = (await self.http().get("/people", params={"phone": phone_number})).json()
        return FindContactResult(matched_contact_info=[ContactMatch(**p) for p in people])

    async def create_call_log(self, *, composed_log_details: str, **_: Any) -> LogResult:
        created = await self.http().post("/activities", json={"body": composed_log_details})
        return LogResult(log_id=created.json()["id"])

    async def update_call_log(
        self, *, existing_call_log: dict[str, Any], composed_log_details: str, **_: Any
    ) -> UpdateLogResult:
        log_id = existing_call_log["thirdPartyLogId"]
        await self.http().patch(f"/activities/{log_id}", json={"body": composed_log_details})
        return UpdateLogResult()


async def test_login_find_log_and_edit_against_the_fake_crm(crm: FakeCrm, tmp_path: Path) -> None:
    crm.on("GET", "/me", json={"id": "7-kitcrm", "name": "Kit"})
    crm.on("GET", "/people", json=[{"id": 1, "name": "Ada Lovelace"}])
    crm.on("POST", "/activities", json={"id": "a-1"}, status=201)
    crm.on("PATCH", "/activities/a-1", json={})
    async with app_client(KitCRM(), crm=crm, tmp_path=tmp_path) as ac:
        assert ac.platform == "kitcrm"
        await ac.login(api_key="secret")
        assert ac.login_reply and ac.login_reply["name"] == "Kit"
        found = await ac.get("/contact", params={"phoneNumber": "+16505550100"})
        assert found.json()["contact"][0]["name"] == "Ada Lovelace"
        logged = await ac.post("/callLog", json=call_log_body("s-9", note="Hello"))
        assert logged.json() == {"successful": True, "logId": "a-1"}
        edited = await ac.patch("/callLog", json=call_log_update_body("s-9", note="Bye"))
        assert edited.json()["successful"] is True
        anonymous = await ac.get("/contact", params={"phoneNumber": "1"}, headers={})
        assert anonymous.status_code == 400
    (me,) = crm.calls("GET", "/me")
    assert me.headers["authorization"] == "Basic c2VjcmV0Og=="  # base64("secret:")
    assert "- Note: Hello" in crm.calls("POST", "/activities")[0].json()["body"]
    assert "- Note: Bye" in crm.calls("PATCH", "/activities/a-1")[0].json()["body"]


async def test_a_refused_login_fails_with_the_servers_answer(tmp_path: Path) -> None:
    crm = FakeCrm()
    crm.on("GET", "/me", httpx2.ConnectError)
    async with app_client(KitCRM(), crm=crm, tmp_path=tmp_path) as ac:
        with pytest.raises(AssertionError, match="login refused"):
            await ac.login()


async def test_the_demo_connector_logs_a_call_and_a_conversation(tmp_path: Path) -> None:
    async with app_client(tmp_path=tmp_path) as ac:
        assert ac.platform == "demo"
        await ac.login(api_key="demo")
        found = await ac.get("/contact", params={"phoneNumber": "+1 650-555-0100"})
        ada = found.json()["contact"][0]
        assert ada["name"] == "Ada Lovelace"
        logged = await ac.post("/callLog", json=call_log_body(contact_id=ada["id"]))
        assert logged.json()["successful"] is True
        inbound = sms_message("m-1", "Hi there")
        outbound = sms_message("m-2", "Hello", direction="Outbound")
        assert inbound["from"] == outbound["to"][0]
        body = message_log_body([inbound, outbound], contact_id=ada["id"])
        messages = await ac.post("/messageLog", json=body)
        assert messages.json()["successful"] is True, messages.text
        assert len(messages.json()["logIds"]) == 2


def test_app_client_needs_a_place_for_its_database() -> None:
    async def open_without_folder() -> None:
        async with app_client(KitCRM()):
            pass

    import asyncio

    with pytest.raises(TypeError, match="tmp_path"):
        asyncio.run(open_without_folder())
