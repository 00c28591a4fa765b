"""Appointment routes over HTTP (spec §6).

Two servers: the embedded default (demo connector, SQLite and PostgreSQL) for the end-to-end
flow and isolation; a calendar connector over a fake CRM (``httpx2.MockTransport``) for request
validation, error mapping, response contracts and session revocation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.runtime import Runtime
from appconnect.settings import Settings
from fakes import CRM, BareConnector, FakeCrm
from support import add_user, bearer, serve

NOAUTH = "Please go to Settings and authorize CRM platform"
START = "2026-07-20T19:00:00.000Z"


# -- the embedded default: demo connector ------------------------------------------------------


@pytest.fixture
async def demo(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    async with serve(create_app(settings=make_settings())) as pair:
        yield pair


async def test_demo_appointments_end_to_end(demo: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = demo
    auth = bearer(await add_user(rt, "alice-demo", "demo"))
    payload = {
        "title": "  Strategy Call ",
        "summary": "Discuss case plan",
        "startTimeUtc": START,
        "durationMinutes": 30,
        "contacts": [{"id": "501", "type": "Contact"}, 502],
    }
    created = await client.post("/appointments", json={"payload": payload}, headers=auth)
    assert created.status_code == 200, created.text
    body = created.json()
    appointment_id = body["appointmentId"]
    assert body["successful"] is True and body["appointment"]["title"] == "Strategy Call"
    assert body["returnMessage"]["messageType"] == "success"
    legacy = await client.post(
        "/appointments",
        json={**payload, "title": "Later", "startTimeUtc": "2026-07-22T09:00:00+02:00"},
        headers=auth,
    )
    assert legacy.json()["successful"] is True

    listed = await client.get(
        "/appointments", params={"startDate": "2026-07-20", "endDate": "2026-07-20"}, headers=auth
    )
    assert listed.status_code == 200
    assert set(listed.json()) == {"successful", "appointments"}
    [only] = listed.json()["appointments"]
    assert only["id"] == appointment_id and only["startTimeUtc"] == START
    assert only["durationMinutes"] == 30 and only["status"] == "scheduled"
    assert only["contactId"] == "501" and [a["id"] for a in only["attendees"]] == ["501", "502"]
    wide = await client.get(
        "/appointments", params={"startDate": "2026-07-01", "endDate": "2026-07-31"}, headers=auth
    )
    later = wide.json()["appointments"][1]
    assert later["title"] == "Later" and later["startTimeUtc"] == "2026-07-22T07:00:00.000Z"

    patched = await client.patch(
        f"/appointments/{appointment_id}",
        json={"patch": {"startTimeUtc": "2026-07-21T10:00:00Z", "durationMinutes": 45}},
        headers=auth,
    )
    assert patched.status_code == 200
    assert patched.json()["appointmentId"] == appointment_id
    assert patched.json()["appointment"]["startTimeUtc"] == "2026-07-21T10:00:00.000Z"
    assert patched.json()["appointment"]["durationMinutes"] == 45
    renamed = await client.patch(
        f"/appointments/{appointment_id}", json={"title": "Renamed"}, headers=auth
    )
    assert renamed.json()["appointment"]["title"] == "Renamed"

    status = await client.post(
        f"/appointments/{appointment_id}/status", json={"status": " Tentative "}, headers=auth
    )
    assert status.json()["appointment"]["status"] == "tentative"
    refreshed = await client.get(f"/appointments/{appointment_id}/refresh", headers=auth)
    assert refreshed.json()["appointment"]["title"] == "Renamed"
    confirmed = await client.post(f"/appointments/{appointment_id}/confirm", headers=auth)
    assert confirmed.json() == {
        "successful": True,
        "appointmentId": appointment_id,
        "appointment": {**refreshed.json()["appointment"], "status": "confirmed"},
    }
    cancelled = await client.post(f"/appointments/{appointment_id}/cancel", headers=auth)
    assert cancelled.json() == {
        "successful": True,
        "appointmentId": appointment_id,
        "returnMessage": {
            "message": "Appointment cancelled successfully.",
            "messageType": "success",
            "ttl": 5000,
        },
    }
    gone = await client.get(f"/appointments/{appointment_id}/refresh", headers=auth)
    assert gone.json()["successful"] is False
    assert gone.json()["returnMessage"]["message"] == "Appointment not found"


async def test_demo_users_never_reach_each_others_appointments(
    demo: tuple[httpx2.AsyncClient, Runtime],
) -> None:
    client, rt = demo
    alice = bearer(await add_user(rt, "alice-demo", "demo"))
    bob = bearer(await add_user(rt, "bob-demo", "demo"))
    payload = {"title": "Private", "summary": "", "startTimeUtc": START, "durationMinutes": 15}
    created = await client.post("/appointments", json={"payload": payload}, headers=alice)
    appointment_id = created.json()["appointmentId"]
    window = {"startDate": "2026-07-01", "endDate": "2026-07-31"}
    listed = await client.get("/appointments", params=window, headers=bob)
    assert listed.json() == {"successful": True, "appointments": []}
    for method, suffix, body in (
        ("PATCH", "", {"patch": {"title": "Mine now"}}),
        ("POST", "/status", {"status": "cancelled"}),
        ("GET", "/refresh", None),
        ("POST", "/confirm", None),
        ("POST", "/cancel", None),
    ):
        response = await client.request(
            method, f"/appointments/{appointment_id}{suffix}", json=body, headers=bob
        )
        assert response.status_code == 200
        assert response.json()["successful"] is False, (method, suffix)
        assert response.json()["returnMessage"]["message"] == "Appointment not found"
    mine = await client.get(f"/appointments/{appointment_id}/refresh", headers=alice)
    assert mine.json()["appointment"]["title"] == "Private"
    assert mine.json()["appointment"]["status"] == "scheduled"


async def test_auth_and_unknown_user(demo: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = demo
    for method, path in (("GET", "/appointments"), ("POST", "/appointments/1/confirm")):
        response = await client.request(method, path)
        assert response.status_code == 400 and response.text == NOAUTH
    ghost = bearer(rt.sessions.issue("nobody", "demo"))
    response = await client.get("/appointments", headers=ghost)
    assert response.json() == {
        "successful": False,
        "returnMessage": {"message": "User not found", "messageType": "warning", "ttl": 5000},
    }


# -- a calendar connector over a fake CRM ------------------------------------------------------


class CalendarConnector(Connector):
    """Each interface forwards to the fake CRM and returns its JSON answer unchanged."""

    platform = "calcrm"
    auth_type = "apiKey"

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def _ask(self, name: str, auth_header: str, **args: Any) -> Any:
        self.seen.append((name, args))
        response = await self.http(CRM).post(
            f"/calendar/{name}", json=args, headers={"Authorization": auth_header}
        )
        response.raise_for_status()
        return response.json()

    async def list_appointments(self, auth_header: str, range: Any = None) -> Any:
        return await self._ask("list", auth_header, range=range)

    async def create_appointment(self, auth_header: str, payload: Any) -> Any:
        return await self._ask("create", auth_header, payload=payload)

    async def update_appointment(
        self, auth_header: str, appointment_id: str, patch_body: Any
    ) -> Any:
        return await self._ask("update", auth_header, id=appointment_id, patch=patch_body)

    async def refresh_appointment(self, auth_header: str, appointment_id: str) -> Any:
        return await self._ask("refresh", auth_header, id=appointment_id)

    async def confirm_appointment(self, auth_header: str, appointment_id: str) -> Any:
        return await self._ask("confirm", auth_header, id=appointment_id)

    async def cancel_appointment(self, auth_header: str, appointment_id: str) -> Any:
        return await self._ask("cancel", auth_header, id=appointment_id)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class Calendar:
    def __init__(self, client: httpx2.AsyncClient, rt: Runtime, crm: FakeCrm) -> None:
        self.client, self.rt, self.crm = client, rt, crm
        self.connector: CalendarConnector = rt.registry.get_original_connector("calcrm")
        self.auth: dict[str, str] = {}


@pytest.fixture
async def cal(db_url: str) -> AsyncIterator[Calendar]:
    crm = FakeCrm()
    registry = ConnectorRegistry()
    registry.register(CalendarConnector())
    registry.register(BareConnector())
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY="s", HASH_KEY="k")
    async with serve(create_app(registry, settings=settings, http_transport=crm.transport)) as (
        client,
        rt,
    ):
        calendar = Calendar(client, rt, crm)
        calendar.auth = bearer(await add_user(rt, "u1", "calcrm", access_token="key-1"))
        yield calendar


INVALID_CREATES: list[tuple[Any, list[Any]]] = [
    ({"payload": {}}, ["payload", "title"]),
    ({"payload": {"title": "  ", "summary": "", "startTimeUtc": START, "durationMinutes": 5}},
     ["payload", "title"]),
    ({"payload": {"title": "x", "startTimeUtc": START, "durationMinutes": 5}},
     ["payload", "summary"]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": "2026-02-30T10:00Z",
                  "durationMinutes": 5}}, ["payload", "startTimeUtc"]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": "2026-07-20 10:00",
                  "durationMinutes": 5}}, ["payload", "startTimeUtc"]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 0}},
     ["payload", "durationMinutes"]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 1.5}},
     ["payload", "durationMinutes"]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5,
                  "contacts": ["0"]}}, ["payload", "contacts", 0]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5,
                  "contacts": [{"id": 5, "name": "Bo"}]}}, ["payload", "contacts", 0]),
    ({"payload": {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5,
                  "location": "Zoom"}}, ["payload"]),
    ({"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5, "extra": 1}, []),
]  # fmt: skip


@pytest.mark.parametrize(("body", "path"), INVALID_CREATES)
async def test_invalid_create_is_refused_before_the_crm(
    cal: Calendar, body: Any, path: list[Any]
) -> None:
    response = await cal.client.post("/appointments", json=body, headers=cal.auth)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "Invalid appointment create request"
    assert path in [d["path"] for d in data["details"]]
    assert all(isinstance(d["message"], str) and d["message"] for d in data["details"])
    assert cal.crm.requests == []


INVALID_PATCHES = [
    {"patch": {}},
    {"patch": "bad"},
    {"patch": {"location": "Zoom"}},
    {"patch": {"status": "tentative"}},
    {"patch": {"startTimeUtc": START}},
    {"patch": {"durationMinutes": -1}},
    {"patch": {"durationMinutes": 30}},
    {"patch": {"title": ""}},
    {"patch": {"startTimeUtc": START, "startTime": START, "durationMinutes": 5}},
    {},
]


@pytest.mark.parametrize("body", INVALID_PATCHES)
async def test_invalid_patch_is_refused(cal: Calendar, body: Any) -> None:
    response = await cal.client.patch("/appointments/9", json=body, headers=cal.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid appointment patch request"
    assert response.json()["details"]
    assert cal.crm.requests == []


@pytest.mark.parametrize("body", [{}, {"status": "  "}, {"status": 3}, {"status": "x", "y": 1}])
async def test_invalid_status_is_refused(cal: Calendar, body: Any) -> None:
    response = await cal.client.post("/appointments/9/status", json=body, headers=cal.auth)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid appointment status request"
    assert cal.crm.requests == []


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"startDate": "2026-07-20"}, ["endDate"]),
        ({"endDate": "2026-07-20"}, ["startDate"]),
        ({"startDate": "2026-13-01", "endDate": "2026-12-01"}, ["startDate"]),
        ({"startDate": "2026-07-21", "endDate": "2026-07-20"}, ["endDate"]),
    ],
)
async def test_invalid_range_is_refused(
    cal: Calendar, params: dict[str, str], path: list[str]
) -> None:
    response = await cal.client.get("/appointments", params=params, headers=cal.auth)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "Invalid appointment date range"
    assert path in [d["path"] for d in data["details"]]
    if params == {"startDate": "2026-07-21", "endDate": "2026-07-20"}:
        assert data["details"][0]["message"] == "startDate must be on or before endDate."


async def test_connector_arguments_and_legacy_forms(cal: Calendar) -> None:
    cal.crm.on("POST", "/calendar/list", json={"appointments": []})
    cal.crm.on("POST", "/calendar/update", json={"appointment": {"id": 3003, "status": "X"}})
    await cal.client.get("/appointments", params={"range": "week", "mineOnly": "true"},
                         headers=cal.auth)  # fmt: skip
    await cal.client.get(
        "/appointments", params={"startDate": "2026-07-01", "endDate": "2026-07-31"},
        headers=cal.auth,
    )  # fmt: skip
    await cal.client.patch(
        "/appointments/3003",
        json={"startTime": "2026-07-20T10:00:00Z", "durationMinutes": 20, "title": " T "},
        headers=cal.auth,
    )
    status = await cal.client.post(
        "/appointments/3003/status", json={"status": "Tentative"}, headers=cal.auth
    )
    assert status.json() == {
        "successful": True,
        "appointmentId": "3003",
        "appointment": {"id": 3003, "status": "X"},
    }
    assert [args for _, args in cal.connector.seen] == [
        {"range": None},
        {"range": {"startDate": "2026-07-01", "endDate": "2026-07-31"}},
        {"id": "3003",
         "patch": {"startTime": "2026-07-20T10:00:00Z", "durationMinutes": 20, "title": "T"}},
        {"id": "3003", "patch": {"status": "tentative"}},
    ]  # fmt: skip
    assert cal.crm.calls()[0].headers["authorization"] == "Basic a2V5LTE6"


async def test_crm_errors_become_business_failures(cal: Calendar) -> None:
    payload = {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5}
    cal.crm.on("POST", "/calendar/create", status=429)
    limited = await cal.client.post("/appointments", json={"payload": payload}, headers=cal.auth)
    assert limited.status_code == 200
    assert limited.json()["returnMessage"]["message"] == "Rate limit exceeded"
    assert set(limited.json()) == {"successful", "returnMessage"}
    cal.crm.on("POST", "/calendar/create", status=500)
    failed = await cal.client.post("/appointments", json={"payload": payload}, headers=cal.auth)
    assert failed.json()["returnMessage"]["message"] == "Error creating appointment"
    cal.crm.on("POST", "/calendar/refresh", status=403)
    denied = await cal.client.get("/appointments/5/refresh", headers=cal.auth)
    assert denied.json()["returnMessage"]["message"] == "Authorization error"
    cal.crm.on("POST", "/calendar/cancel", status=502)
    other = await cal.client.post("/appointments/5/cancel", headers=cal.auth)
    assert other.json()["returnMessage"]["message"] == "Error performing cancelAppointment"
    cal.crm.on("POST", "/calendar/list", json={"successful": "yes", "appointments": []})
    odd = await cal.client.get("/appointments", headers=cal.auth)
    assert odd.json()["returnMessage"]["message"] == "Error performing listAppointments"
    refusal = {"message": "Calendar is read-only", "messageType": "warning", "ttl": 3000}
    cal.crm.on("POST", "/calendar/confirm", json={"successful": False, "returnMessage": refusal})
    refused = await cal.client.post("/appointments/5/confirm", headers=cal.auth)
    assert refused.json() == {"successful": False, "returnMessage": refusal}


async def test_missing_interface(cal: Calendar) -> None:
    auth = bearer(await add_user(cal.rt, "b1", "barecrm"))
    response = await cal.client.get("/appointments", headers=auth)
    assert response.status_code == 200
    assert response.json()["returnMessage"]["message"] == "Error performing listAppointments"


@pytest.mark.parametrize(
    ("method", "path", "crm_path", "reply"),
    [
        ("GET", "/appointments", "list", {"appointments": [{"title": "no id"}]}),
        ("GET", "/appointments", "list", {"appointments": "nope"}),
        ("GET", "/appointments", "list",
         {"appointments": [{"id": "1", "startTimeUtc": "yesterday"}]}),
        ("POST", "/appointments/1/confirm", "confirm", {}),
        ("GET", "/appointments/1/refresh", "refresh", {"returnMessage": {"message": "hi"}}),
        ("GET", "/appointments/1/refresh", "refresh", {"successful": False}),
    ],
)  # fmt: skip
async def test_contract_violations_answer_400(
    cal: Calendar, method: str, path: str, crm_path: str, reply: Any
) -> None:
    cal.crm.on("POST", f"/calendar/{crm_path}", json=reply)
    response = await cal.client.request(method, path, headers=cal.auth)
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and response.json()["error"]


async def test_create_reply_needs_an_appointment_id(cal: Calendar) -> None:
    payload = {"title": "x", "summary": "", "startTimeUtc": START, "durationMinutes": 5}
    cal.crm.on("POST", "/calendar/create", json={"appointment": {"id": 1}})
    response = await cal.client.post("/appointments", json={"payload": payload}, headers=cal.auth)
    assert response.status_code == 400 and "appointmentId" in response.json()["error"]
    cal.crm.on("POST", "/calendar/create", json={"appointmentId": 777, "appointment": None})
    response = await cal.client.post("/appointments", json={"payload": payload}, headers=cal.auth)
    assert response.json() == {"successful": True, "appointmentId": 777}


async def test_revoked_crm_session_answers_401(tmp_path: Path) -> None:
    from fakes import FakeOAuthConnector

    class OAuthCalendar(FakeOAuthConnector):
        async def list_appointments(self) -> dict[str, Any]:
            raise AssertionError("not reached: the session is revoked")

    crm = FakeCrm()
    crm.on("POST", "/oauth/token", json={"error": "invalid_grant"}, status=400)
    registry = ConnectorRegistry()
    registry.register(OAuthCalendar())
    settings = Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db", APP_SERVER_SECRET_KEY="s", HASH_KEY="k"
    )
    async with serve(create_app(registry, settings=settings, http_transport=crm.transport)) as (
        client,
        rt,
    ):
        token = await add_user(
            rt, "o1", "oauthcrm", access_token="old", refresh_token="r1",
            token_expiry=datetime.now(UTC) - timedelta(hours=1),
        )  # fmt: skip
        response = await client.get("/appointments", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["errorCode"] == "CRM_SESSION_REVOKED"
    assert (
        response.json()["returnMessage"]["message"] == "User session expired. Please connect again."
    )
