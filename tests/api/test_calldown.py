"""Call-down list routes over HTTP (spec §5): create, list, filter, patch, delete, isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from appconnect.app import create_app
from appconnect.runtime import Runtime
from appconnect.settings import Settings
from appconnect.store.models import CallDownListRow
from support import add_user, bearer, serve

NOAUTH = "Please go to Settings and authorize CRM platform"


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    async with serve(create_app(settings=make_settings())) as pair:
        yield pair


async def _create(client: httpx2.AsyncClient, token: str, **body: Any) -> str:
    response = await client.post("/calldown", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["successful"] is True
    return str(data["id"])


async def test_create_then_list_in_schedule_order(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api
    token = await add_user(rt, "u1-demo", "demo")
    later = await _create(
        client, token, contactId=12345, contactType="Lead", contactName="Jane",
        phoneNumber="+15551234567", scheduledAt="2026-07-02T15:00:00Z", note="call back",
    )  # fmt: skip
    sooner = await _create(client, token, contactId="7", scheduledAt="2026-07-02T13:00:00.000Z")
    unscheduled = await _create(client, token)
    assert len(later) == 32 and all(c in "0123456789abcdef" for c in later)

    response = await client.get("/calldown", headers=bearer(token))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["id"] for i in items] == [sooner, later, unscheduled]
    first, second, third = items
    assert set(first) == {
        "id", "userId", "contactId", "contactType", "status", "scheduledAt", "lastCallAt",
        "createdAt", "updatedAt",
    }  # fmt: skip
    assert first["scheduledAt"] == "2026-07-02T13:00:00.000Z"
    assert first["contactType"] == "contact" and first["status"] == "scheduled"
    assert second["contactId"] == "12345" and second["contactType"] == "Lead"
    assert second["userId"] == "u1-demo" and second["lastCallAt"] is None
    assert third["contactId"] is None and third["scheduledAt"] is None
    assert third["createdAt"].endswith("Z") and len(third["createdAt"]) == 24


async def test_status_filter_and_patch(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api
    token = await add_user(rt, "u1-demo", "demo")
    a = await _create(client, token, scheduledAt="2026-07-02T13:00:00Z")
    b = await _create(client, token, scheduledAt="2026-07-03T13:00:00Z")
    response = await client.patch(
        f"/calldown/{a}",
        json={"status": "called", "lastCallAt": "2026-07-02T14:00:00.000Z", "note": "done"},
        headers=bearer(token),
    )
    assert response.status_code == 200 and response.json() == {"successful": True}

    async def ids(status: str | None) -> list[str]:
        params = {"status": status} if status is not None else {}
        got = await client.get("/calldown", params=params, headers=bearer(token))
        return [i["id"] for i in got.json()["items"]]

    assert await ids("Called") == [a]
    for spelling in ("not called", "NOT_CALLED", "notcalled"):
        assert await ids(spelling) == [b]
    assert await ids("All") == [a, b]
    assert await ids(None) == [a, b]
    called = await client.get("/calldown", params={"status": "called"}, headers=bearer(token))
    assert called.json()["items"][0]["lastCallAt"] == "2026-07-02T14:00:00.000Z"


async def test_patch_and_delete_errors(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api
    token = await add_user(rt, "u1-demo", "demo")
    item = await _create(client, token)
    no_fields = await client.patch(f"/calldown/{item}", json={"foo": 1}, headers=bearer(token))
    assert no_fields.status_code == 400
    assert no_fields.json() == {"error": "No valid fields to update"}
    unknown = await client.patch("/calldown/nope", json={"status": "x"}, headers=bearer(token))
    assert unknown.status_code == 400 and unknown.json() == {"error": "Not found"}
    bad_date = await client.patch(
        f"/calldown/{item}", json={"scheduledAt": "tomorrow"}, headers=bearer(token)
    )
    assert bad_date.status_code == 400 and "scheduledAt" in bad_date.json()["error"]
    gone = await client.delete("/calldown/nope", headers=bearer(token))
    assert gone.status_code == 400 and gone.json() == {"error": "Not found"}
    deleted = await client.delete(f"/calldown/{item}", headers=bearer(token))
    assert deleted.status_code == 200 and deleted.json() == {"successful": True}
    again = await client.delete(f"/calldown/{item}", headers=bearer(token))
    assert again.json() == {"error": "Not found"}
    async with rt.db.session() as session:
        assert (await session.scalars(select(CallDownListRow))).all() == []


async def test_auth_errors(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api
    missing = await client.get("/calldown")
    assert missing.status_code == 400 and missing.text == NOAUTH
    bad_query = await client.get("/calldown", params={"jwtToken": "garbage"})
    assert bad_query.status_code == 400 and bad_query.json() == {"error": "Unauthorized"}
    for method in ("POST", "PATCH", "DELETE"):
        path = "/calldown" if method == "POST" else "/calldown/x"
        response = await client.request(method, path, params={"jwtToken": "garbage"}, json={})
        assert response.status_code == 400 and response.json() == {"error": "Unauthorized"}
    ghost = rt.sessions.issue("nobody", "demo")
    response = await client.post("/calldown", json={}, headers=bearer(ghost))
    assert response.status_code == 400 and response.json() == {"error": "User not found"}


async def test_one_user_never_sees_or_changes_anothers_items(
    api: tuple[httpx2.AsyncClient, Runtime],
) -> None:
    client, rt = api
    alice = await add_user(rt, "alice-demo", "demo")
    bob = await add_user(rt, "bob-demo", "demo")
    item = await _create(client, alice, contactId=1)
    assert (await client.get("/calldown", headers=bearer(bob))).json()["items"] == []
    patch = await client.patch(f"/calldown/{item}", json={"status": "called"}, headers=bearer(bob))
    assert patch.status_code == 400 and patch.json() == {"error": "Not found"}
    delete = await client.delete(f"/calldown/{item}", headers=bearer(bob))
    assert delete.status_code == 400 and delete.json() == {"error": "Not found"}
    # A token naming Alice's id with another platform is not Alice.
    forged_platform = rt.sessions.issue("alice-demo", "othercrm")
    assert (await client.get("/calldown", headers=bearer(forged_platform))).json()["items"] == []
    other = await client.delete(f"/calldown/{item}", headers=bearer(forged_platform))
    assert other.json() == {"error": "Not found"}
    mine = (await client.get("/calldown", headers=bearer(alice))).json()["items"]
    assert [(i["id"], i["status"]) for i in mine] == [(item, "scheduled")]
