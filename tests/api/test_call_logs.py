"""Call-logging routes over HTTP (spec http-contact-logging.md §3), against a fake CRM."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from appconnect.api.responses import NOAUTH
from appconnect.connectors.results import LogResult, ReturnMessage
from appconnect.security.hashing import MISSING, hash_id
from appconnect.services.call_log_store import STALE_RESERVATION, CallLogStore
from appconnect.services.note_cache import note_key
from appconnect.store.models import CallLogRow, NoteCacheRow

from ._call_log_helpers import (
    AUTH_TEXT,
    CREATE_TEXT,
    HASH_KEY,
    HTML_921,
    MARKDOWN_921,
    PLAIN_921,
    PLATFORM,
    RATE_TEXT,
    SEQ_CREATE,
    SEQ_HTML,
    SEQ_PLAIN,
    SEQ_SETTINGS,
    SEQ_UPDATE_1,
    ActivityConnector,
    Harness,
    RevokedConnector,
    log_body,
    mapped,
    running_app,
    sqlite_url,
    warning,
)

CALL_LOGGED = {"message": "Call logged", "messageType": "success", "ttl": 3000}


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url) as harness:
        yield harness


async def _add_row(h: Harness, session_id: str, *, ext: str = "", hashed: str = "",
                   log_id: str | None = "legacy-1", row_id: str = "tel-x") -> None:
    async with h.rt.db.transaction() as session:
        session.add(CallLogRow(
            id=row_id, session_id=session_id, extension_number=ext, hashed_extension_id=hashed,
            platform=PLATFORM, third_party_log_id=log_id, user_id="u1", contact_id="c-9",
        ))


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/callLog?sessionIds=s-1"), ("POST", "/callLog"), ("PATCH", "/callLog"),
     ("POST", "/callLog/cacheNote"), ("PUT", "/callDisposition")],
)
async def test_routes_without_token_ask_to_authorize(h: Harness, method: str, path: str) -> None:
    response = await h.client.request(method, path, json={})
    assert response.status_code == 400
    assert response.text == NOAUTH
    assert response.headers["content-type"].startswith("text/html")


async def test_invalid_query_token(h: Harness) -> None:
    bad = "jwtToken=not-a-jwt"
    response = await h.client.put(f"/callDisposition?{bad}", json={"sessionId": "s-1"})
    assert (response.status_code, response.text) == (400, "Invalid JWT token")
    response = await h.client.post(f"/callLog?{bad}", json=log_body())
    assert (response.status_code, response.text) == (400, NOAUTH)
    response = await h.client.post(f"/callLog/cacheNote?{bad}", json={"sessionId": "s"})
    assert (response.status_code, response.text) == (400, NOAUTH)


async def test_legacy_query_token_is_accepted(h: Harness) -> None:
    auth = await h.login()
    token = auth["Authorization"].split(" ", 1)[1]
    response = await h.client.post(f"/callLog?jwtToken={token}", json=log_body())
    assert response.json()["successful"] is True


# -- POST /callLog --------------------------------------------------------------------------


async def test_create_composes_plain_text_and_links_the_call(h: Harness) -> None:
    auth = await h.login()
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.status_code == 200
    assert response.json() == {"successful": True, "logId": "act-1", "returnMessage": CALL_LOGGED}
    [create] = h.crm.calls("POST")
    assert create.body == {"subject": "Test Call", "body": PLAIN_921, "contactId": "c-1"}
    assert create.headers["authorization"].startswith("Basic ")
    [row] = await h.link_rows()
    assert (row.id, row.session_id, row.extension_number, row.hashed_extension_id) == (
        "tel-s-1", "s-1", "", "")
    assert (row.platform, row.third_party_log_id, row.user_id, row.contact_id) == (
        PLATFORM, "act-1", "u1", "c-1")


async def test_create_passes_every_argument(h: Harness) -> None:
    auth = await h.login()
    body = log_body(aiNote="AI", transcript="T", additionalSubmission={"matters": "m-1"},
                    ringSenseAIScore=91, ringSenseLink="https://rs/1")
    body["logInfo"]["voicemail"] = {"link": "https://vm/1", "messageId": "vm-7"}
    await h.client.post("/callLog", json=body, headers=auth)
    [kwargs] = h.connector.received["createCallLog"]
    assert kwargs["contact_info"] == {
        "id": "c-1", "phoneNumber": "+0987654321", "type": "Contact", "name": "Jane Smith"}
    assert kwargs["call_log"] == body["logInfo"]
    assert kwargs["note"] == "Test note"
    assert (kwargs["ai_note"], kwargs["transcript"]) == ("AI", "T")
    assert kwargs["additional_submission"] == {"matters": "m-1"}
    assert (kwargs["voicemail_link"], kwargs["voicemail_message_id"]) == ("https://vm/1", "vm-7")
    assert (kwargs["ring_sense_ai_score"], kwargs["ring_sense_link"]) == (91, "https://rs/1")
    assert "ring_sense_summary" not in kwargs  # the body did not carry it
    assert kwargs["hashed_account_id"] == hash_id("acc-1", HASH_KEY)
    assert kwargs["is_from_sscl"] is False
    assert kwargs["proxy_config"] is None
    assert kwargs["auth_header"].startswith("Basic ")
    assert "- Voicemail recording link: https://vm/1\n" in kwargs["composed_log_details"]
    assert "- AI Note:\nAI\n--- END\n" in kwargs["composed_log_details"]


async def test_create_reads_account_header_and_sscl_agent(h: Harness) -> None:
    auth = await h.login()
    headers = {**auth, "rc-account-id": "hashed-acc", "User-Agent": "SSCL"}
    await h.client.post("/callLog", json=log_body(), headers=headers)
    [kwargs] = h.connector.received["createCallLog"]
    assert (kwargs["hashed_account_id"], kwargs["is_from_sscl"]) == ("hashed-acc", True)


@pytest.mark.parametrize(
    ("log_format", "expected"),
    [("text/plain", PLAIN_921), ("text/html", HTML_921), ("text/markdown", MARKDOWN_921),
     ("custom", "")],
)
async def test_create_body_per_log_format(tmp_path: Path, log_format: str, expected: str) -> None:
    async with running_app(sqlite_url(tmp_path), ActivityConnector(log_format)) as h:
        auth = await h.login()
        response = await h.client.post("/callLog", json=log_body(), headers=auth)
        assert response.json()["successful"] is True
        assert h.crm.calls("POST")[0].body["body"] == expected


async def test_duplicate_create_is_refused_without_crm_call(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body(), headers=auth)
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json() == warning("Existing log for session s-1", ttl=3000)
    assert len(h.crm.calls("POST")) == 1
    assert len(await h.link_rows()) == 1


async def test_server_side_identity_blocks_browser_duplicate(h: Harness) -> None:
    auth = await h.login()
    sscl = log_body(rcExtensionId="400200000001")
    assert (await h.client.post("/callLog", json=sscl, headers=auth)).json()["successful"]
    [row] = await h.link_rows()
    hashed = hash_id("400200000001", HASH_KEY)
    assert (row.extension_number, row.hashed_extension_id) == ("", hashed)
    browser = log_body(extensionNumber="101", hashedExtensionId=hashed)
    response = await h.client.post("/callLog", json=browser, headers=auth)
    assert response.json() == warning("Existing log for session s-1", ttl=3000)


async def test_other_extension_of_same_session_gets_its_own_log(h: Harness) -> None:
    auth = await h.login()
    first = log_body(extensionNumber="101")
    second = log_body()
    second["logInfo"]["extensionNumber"] = 102  # logInfo fallback; numbers become strings
    assert (await h.client.post("/callLog", json=first, headers=auth)).json()["successful"]
    assert (await h.client.post("/callLog", json=second, headers=auth)).json()["successful"]
    rows = sorted((r.extension_number, r.third_party_log_id) for r in await h.link_rows())
    assert rows == [("101", "act-1"), ("102", "act-2")]


async def test_legacy_row_blocks_hashed_and_anonymous_creates(h: Harness) -> None:
    auth = await h.login()
    await _add_row(h, "s-1")
    for body in (log_body(hashedExtensionId="h1"), log_body()):
        response = await h.client.post("/callLog", json=body, headers=auth)
        assert response.json() == warning("Existing log for session s-1", ttl=3000)
    assert h.crm.calls() == []


@pytest.mark.parametrize("access_token", [None, ""])
async def test_create_without_usable_user(h: Harness, access_token: str | None) -> None:
    auth = await h.login(access_token=access_token)
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json() == warning("User not found")
    assert h.crm.calls() == [] and await h.link_rows() == []


@pytest.mark.parametrize("contact_id", ["", 0, None])
async def test_create_without_contact(h: Harness, contact_id: Any) -> None:
    auth = await h.login()
    response = await h.client.post("/callLog", json=log_body(contact_id=contact_id), headers=auth)
    assert response.json() == warning("Contact not found for number +0987654321")
    assert h.crm.calls() == [] and await h.link_rows() == []


@pytest.mark.parametrize(
    ("failure", "expected"),
    [(401, mapped("Authorization error", AUTH_TEXT, "1")),
     (403, mapped("Authorization error", AUTH_TEXT, "1")),
     (429, mapped("Rate limit exceeded", RATE_TEXT, "1")),
     (404, mapped("Error creating call log", CREATE_TEXT, 1)),
     (409, mapped("Error creating call log", CREATE_TEXT, 1)),
     (500, mapped("Error creating call log", CREATE_TEXT, 1)),
     (httpx2.ReadTimeout, mapped("Error creating call log", CREATE_TEXT, 1))],
)
async def test_create_crm_errors_leave_no_link(h: Harness, failure: Any, expected: Any) -> None:
    auth = await h.login()
    h.crm.fail_with("POST", failure)
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert (response.status_code, response.json()) == (200, expected)
    assert len(h.crm.calls("POST")) == 1
    assert await h.link_rows() == []
    h.crm.failures.clear()  # the call can be logged once the CRM recovers
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json()["successful"] is True


class _Refusing(ActivityConnector):
    async def create_call_log(self, **kwargs: Any) -> LogResult:
        return LogResult(return_message=ReturnMessage(message="No access", message_type="danger"))


async def test_create_refused_by_connector_leaves_no_link(tmp_path: Path) -> None:
    async with running_app(sqlite_url(tmp_path), _Refusing()) as h:
        auth = await h.login()
        response = await h.client.post("/callLog", json=log_body(), headers=auth)
        assert response.json() == {"successful": False, "returnMessage": {
            "message": "No access", "messageType": "danger", "ttl": 3000}}
        assert await h.link_rows() == []


async def test_revoked_session_is_401(tmp_path: Path) -> None:
    async with running_app(sqlite_url(tmp_path), RevokedConnector()) as h:
        auth = await h.login()
        await _add_row(h, "s-2", log_id="act-9")
        revoked = {"successful": False, "returnMessage": {
            "message": "User session expired. Please connect again.", "messageType": "warning",
            "ttl": 5000}, "errorCode": "CRM_SESSION_REVOKED"}
        for response in (
            await h.client.post("/callLog", json=log_body(), headers=auth),
            await h.client.get("/callLog?sessionIds=s-2&requireDetails=true", headers=auth),
            await h.client.patch("/callLog", json={"sessionId": "s-2"}, headers=auth),
            await h.client.put("/callDisposition", json={"sessionId": "s-2"}, headers=auth),
        ):
            assert (response.status_code, response.json()) == (401, revoked)
        assert [r.session_id for r in await h.link_rows()] == ["s-2"]
        assert h.crm.calls() == []


@pytest.mark.parametrize(
    "body", [{}, {"logInfo": {"id": "1"}}, {"logInfo": {"sessionId": "s"}}]
)
async def test_create_without_call_identity_is_a_business_failure(
    h: Harness, body: dict[str, Any]
) -> None:
    """The reference's handler fails on the missing key: 200, successful false, a warning."""
    auth = await h.login()
    response = await h.client.post("/callLog", json=body, headers=auth)
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    reply = response.json()
    assert set(reply) == {"successful", "returnMessage"} and reply["successful"] is False
    assert reply["returnMessage"]["messageType"] == "warning"
    assert "required" in reply["returnMessage"]["message"]
    assert h.crm.calls() == [] and await h.link_rows() == []


async def test_update_and_disposition_without_session_id_are_business_failures(
    h: Harness,
) -> None:
    auth = await h.login()
    for response in (
        await h.client.patch("/callLog", json={"note": "n"}, headers=auth),
        await h.client.patch("/callLog", json={"sessionId": ""}, headers=auth),
        await h.client.put("/callDisposition", json={"dispositions": {}}, headers=auth),
    ):
        assert response.status_code == 200
        assert response.json() == warning("sessionId is required")
    assert h.crm.calls() == []


@pytest.mark.parametrize(
    ("body", "error"),
    [({"logInfo": "x"}, "logInfo: Input should be an object"),
     ({"logInfo": {"sessionId": "s", "id": "1"}, "note": 5},
      "note: Input should be a valid string"),
     ([1], "request body must be a JSON object")],
)
async def test_create_with_mistyped_fields_is_400(h: Harness, body: Any, error: str) -> None:
    auth = await h.login()
    response = await h.client.post("/callLog", json=body, headers=auth)
    assert (response.status_code, response.json()) == (400, {"error": error})
    assert h.crm.calls() == [] and await h.link_rows() == []


async def test_malformed_json_is_400(h: Harness) -> None:
    auth = await h.login()
    response = await h.client.post(
        "/callLog", content=b"{nope", headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 400 and "error" in response.json()


async def test_database_failure_on_reservation(h: Harness, monkeypatch: Any) -> None:
    auth = await h.login()

    async def broken(*_: Any, **__: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(CallLogStore, "reserve", broken)
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json() == warning("Database operation failed")
    assert h.crm.calls() == []


# -- note cache -----------------------------------------------------------------------------


async def _cached_notes(h: Harness) -> list[tuple[str, str, int]]:
    async with h.rt.db.session() as session:
        rows = (await session.scalars(select(NoteCacheRow))).all()
        return [(r.session_id, r.note, r.ttl) for r in rows]


async def test_cache_note_saves_and_overwrites(h: Harness) -> None:
    auth = await h.login()
    before = int(time.time())
    response = await h.client.post(
        "/callLog/cacheNote", json={"sessionId": "s-1", "note": "first"}, headers=auth
    )
    assert response.json() == {"successful": True, "returnMessage": "Note cache saved"}
    await h.client.post("/callLog/cacheNote", json={"sessionId": "s-1", "note": "second"},
                        headers=auth)
    [(session_id, note, ttl)] = await _cached_notes(h)
    # The row is keyed by the owner (user, platform) as well as the session: see test_isolation.
    assert (session_id, note) == (note_key("s-1", "u1", PLATFORM), "second")
    assert before + 3600 <= ttl <= int(time.time()) + 3600


async def test_cache_note_without_session_fails(h: Harness) -> None:
    auth = await h.login()
    response = await h.client.post("/callLog/cacheNote", json={"note": "x"}, headers=auth)
    assert response.json() == mapped(
        "Error performing saveNoteCache",
        "Please check if your account has the necessary permissions.", 1)


@pytest.mark.parametrize(
    ("use_cache", "agent", "expired", "expected_note"),
    [("true", "SSCL", False, "cached note"), ("true", "browser", False, "Test note"),
     (None, "SSCL", False, "Test note"), ("true", "SSCL", True, "Test note")],
)
async def test_server_side_create_uses_cached_note(
    tmp_path: Path, use_cache: str | None, agent: str, expired: bool, expected_note: str
) -> None:
    extra = {"USE_CACHE": use_cache} if use_cache else {}
    async with running_app(sqlite_url(tmp_path), **extra) as h:
        auth = await h.login()
        await h.client.post("/callLog/cacheNote", json={"sessionId": "s-1", "note": "cached note"},
                            headers=auth)
        if expired:
            async with h.rt.db.transaction() as session:
                await session.execute(update(NoteCacheRow).values(ttl=int(time.time()) - 1))
        await h.client.post("/callLog", json=log_body(), headers={**auth, "User-Agent": agent})
        assert h.connector.received["createCallLog"][0]["note"] == expected_note
        assert h.crm.calls("POST")[0].body["body"].startswith(f"- Note: {expected_note}\n")


# -- GET /callLog ---------------------------------------------------------------------------


async def test_lookup_without_details(h: Harness) -> None:
    auth = await h.login()
    await _add_row(h, "s-1", log_id="act-1")
    await _add_row(h, "s-3", log_id="act-3")
    ids = "s-1,s-2,s-3,s-4,s-5,s-3"
    response = await h.client.get(f"/callLog?sessionIds={ids}", headers=auth)
    assert response.json() == {"successful": True, "logs": [
        {"sessionId": "s-1", "matched": True, "logId": "act-1"},
        {"sessionId": "s-2", "matched": False},
        {"sessionId": "s-3", "matched": True, "logId": "act-3"},
        {"sessionId": "s-4", "matched": False},
        {"sessionId": "s-5", "matched": False},
    ]}
    assert h.crm.calls() == []


async def test_lookup_respects_identity(h: Harness) -> None:
    auth = await h.login()
    await _add_row(h, "s-1", hashed="h1", log_id="act-1")
    await _add_row(h, "s-2", ext="101", log_id="act-2")
    query = "/callLog?sessionIds=s-1,s-2"
    logs = (await h.client.get(f"{query}&hashedExtensionId=h2", headers=auth)).json()["logs"]
    assert [entry["matched"] for entry in logs] == [False, False]
    logs = (await h.client.get(f"{query}&hashedExtensionId=h1&extensionNumber=101",
                               headers=auth)).json()["logs"]
    assert [entry["matched"] for entry in logs] == [True, True]
    logs = (await h.client.get(f"{query}&extensionNumber=102", headers=auth)).json()["logs"]
    assert [entry["matched"] for entry in logs] == [False, False]


async def test_lookup_with_details(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body(), headers=auth)
    await _add_row(h, "0", log_id="act-0")
    response = await h.client.get("/callLog?sessionIds=s-1,0,,s-9&requireDetails=true",
                                  headers=auth)
    activity = h.crm.activities["act-1"]
    assert response.json() == {"successful": True, "logs": [
        {"sessionId": "s-1", "matched": True, "logId": "act-1", "logData": {
            "subject": "Test Call", "note": "", "fullBody": PLAIN_921,
            "fullLogResponse": activity}},
        {"sessionId": "0", "matched": False},
        {"sessionId": "", "matched": False},
        {"sessionId": "s-9", "matched": False},
    ]}
    [kwargs] = h.connector.received["getCallLog"]
    assert (kwargs["telephony_session_id"], kwargs["call_log_id"], kwargs["contact_id"]) == (
        "tel-s-1", "act-1", "c-1")
    response = await h.client.get("/callLog?sessionIds=s-9&requireDetails=true", headers=auth)
    assert response.json() == {"successful": True, "logs": [
        {"sessionId": "s-9", "matched": False}], "returnMessage": None}


async def test_lookup_failures(h: Harness) -> None:
    stranger = {"Authorization": f"Bearer {h.rt.sessions.issue('nobody', PLATFORM)}"}
    response = await h.client.get("/callLog?sessionIds=s-1", headers=stranger)
    assert response.json() == {"successful": False}
    auth = await h.login()
    assert (await h.client.get("/callLog", headers=auth)).json() == {"successful": False}
    await _add_row(h, "s-1", log_id="act-404")
    response = await h.client.get("/callLog?sessionIds=s-1&requireDetails=true", headers=auth)
    assert response.json() == mapped(  # the CRM answered 404: not an authorization problem
        "Error getting call log", "Please check if your account has permission to READ logs.", 1)
    h.crm.fail_with("GET", 500)
    response = await h.client.get("/callLog?sessionIds=s-1&requireDetails=true", headers=auth)
    assert response.json() == mapped(
        "Error getting call log", "Please check if your account has permission to READ logs.", 1)


async def test_pending_reservation_is_not_a_log(h: Harness) -> None:
    auth = await h.login()
    await _add_row(h, "s-1", log_id=None)
    logs = (await h.client.get("/callLog?sessionIds=s-1", headers=auth)).json()["logs"]
    assert logs == [{"sessionId": "s-1", "matched": False}]
    response = await h.client.patch("/callLog", json={"sessionId": "s-1", "note": "x"},
                                    headers=auth)
    assert response.json() == {"successful": False}
    response = await h.client.put("/callDisposition", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == warning("Cannot find log", ttl=3000)
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json() == warning("Existing log for session s-1", ttl=3000)
    assert h.crm.calls() == []


async def test_abandoned_reservation_is_swept(h: Harness) -> None:
    """A reservation whose request died (no CRM id after 10 minutes) stops blocking the call."""
    auth = await h.login()
    await _add_row(h, "s-1", log_id=None, row_id="tel-s-1")
    async with h.rt.db.transaction() as session:
        await session.execute(update(CallLogRow).values(
            created_at=datetime.now(UTC) - STALE_RESERVATION - timedelta(seconds=1)))
    response = await h.client.post("/callLog", json=log_body(), headers=auth)
    assert response.json()["successful"] is True
    [row] = await h.link_rows()
    assert (row.id, row.third_party_log_id) == ("tel-s-1", "act-1")


# -- PATCH /callLog -------------------------------------------------------------------------

@pytest.mark.parametrize(("log_format", "expected"), [("text/plain", SEQ_PLAIN),
                                                      ("text/html", SEQ_HTML)])
async def test_update_recomposes_the_crm_body(
    tmp_path: Path, log_format: str, expected: dict[str, str]
) -> None:
    async with running_app(sqlite_url(tmp_path), ActivityConnector(log_format)) as h:
        auth = await h.login(settings=SEQ_SETTINGS, timezone_offset="-05:00")
        await h.client.post("/callLog", json=SEQ_CREATE, headers=auth)
        assert h.crm.activities["act-1"]["body"] == expected["create"]
        response = await h.client.patch("/callLog", json=SEQ_UPDATE_1, headers=auth)
        assert response.json() == {
            "successful": True, "logId": "act-1", "updatedNote": "Edited note\nsecond line",
            "returnMessage": {"message": "Call log updated", "messageType": "success",
                              "ttl": 3000}}
        assert [(r.method, r.path) for r in h.crm.calls()[1:]] == [
            ("GET", "/activities/act-1"), ("PUT", "/activities/act-1")]
        assert h.crm.calls("PUT")[0].body == {"body": expected["update"]}


async def test_update_after_recording_adds_the_section_once(h: Harness) -> None:
    auth = await h.login(settings=SEQ_SETTINGS, timezone_offset="-05:00")
    create = {**SEQ_CREATE, "logInfo": {**SEQ_CREATE["logInfo"], "recording": None}}
    await h.client.post("/callLog", json=create, headers=auth)
    assert "recording" not in h.crm.activities["act-1"]["body"]
    for _ in range(2):
        await h.client.patch("/callLog", json=SEQ_UPDATE_1, headers=auth)
    assert h.crm.activities["act-1"]["body"] == SEQ_PLAIN["update"]
    update_2 = {**SEQ_UPDATE_1, "note": "Edited note again", "aiNote": "Summary A\n\n",
                "transcript": "T1"}
    await h.client.patch("/callLog", json=update_2, headers=auth)
    body = h.crm.activities["act-1"]["body"]
    assert body == SEQ_PLAIN["update"].replace("Edited note\nsecond line", "Edited note again") + (
        "\n- AI Note:\nSummary A\n--- END\n\n- Transcript:\nT1\n--- END\n")
    assert body.count("- Call recording link:") == 1


async def test_update_passes_every_argument(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body(extensionNumber="101"), headers=auth)
    patch = {"sessionId": "s-1", "extensionNumber": "101", "note": "n", "legs": None,
             "recordingDownloadLink": "https://dl", "additionalSubmission": {"a": 1},
             "ringSenseSummary": "S"}
    await h.client.patch("/callLog", json=patch, headers=auth)
    [kwargs] = h.connector.received["updateCallLog"]
    existing = kwargs["existing_call_log"]
    assert {k: existing[k] for k in ("id", "sessionId", "extensionNumber", "hashedExtensionId",
                                     "platform", "thirdPartyLogId", "userId", "contactId")} == {
        "id": "tel-s-1", "sessionId": "s-1", "extensionNumber": "101", "hashedExtensionId": "",
        "platform": PLATFORM, "thirdPartyLogId": "act-1", "userId": "u1", "contactId": "c-1"}
    assert existing["createdAt"].endswith("Z")
    assert kwargs["legs"] == [] and "duration" not in kwargs  # absent, not null
    assert kwargs["recording_download_link"] == "https://dl"
    assert kwargs["additional_submission"] == {"a": 1}
    assert kwargs["ring_sense_summary"] == "S"
    assert kwargs["existing_call_log_details"] == h.crm.activities["act-1"] | {
        "body": PLAIN_921}  # the details are fetched before the PUT
    assert kwargs["hashed_account_id"] == hash_id(MISSING, HASH_KEY)
    assert kwargs["is_from_sscl"] is False
    sscl = {**auth, "rc-account-id": "hdr", "User-Agent": "SSCL"}
    await h.client.patch("/callLog", json={**patch, "accountId": "acc-1"}, headers=sscl)
    second = h.connector.received["updateCallLog"][1]
    assert (second["hashed_account_id"], second["is_from_sscl"]) == ("hdr", True)


async def test_update_with_custom_format_skips_get(tmp_path: Path) -> None:
    async with running_app(sqlite_url(tmp_path), ActivityConnector("custom")) as h:
        auth = await h.login()
        await h.client.post("/callLog", json=log_body(), headers=auth)
        response = await h.client.patch("/callLog", json={"sessionId": "s-1", "note": "n"},
                                        headers=auth)
        assert response.json()["successful"] is True
        assert h.crm.calls("GET") == []
        [kwargs] = h.connector.received["updateCallLog"]
        assert (kwargs["composed_log_details"], kwargs["existing_call_log_details"]) == ("", None)


async def test_update_when_fetching_the_body_fails(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body(), headers=auth)
    h.crm.fail_with("GET", 500)
    response = await h.client.patch("/callLog", json={"sessionId": "s-1", "note": "only"},
                                    headers=auth)
    assert response.json()["successful"] is True
    assert h.crm.calls("PUT")[0].body == {"body": "- Note: only\n"}
    assert h.connector.received["updateCallLog"][0]["existing_call_log_details"] is None


async def test_update_failures(h: Harness) -> None:
    auth = await h.login()
    response = await h.client.patch("/callLog", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == {"successful": False}
    await h.client.post("/callLog", json=log_body(), headers=auth)
    h.crm.fail_with("PUT", 500)
    response = await h.client.patch("/callLog", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == mapped(
        "Error updating call log", "Please check if the log entity still exists on testcrm and "
        "your account has permission to EDIT logs.", 1)
    await h.rt.users.delete("u1")
    response = await h.client.patch("/callLog", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == {"successful": False}


# -- PUT /callDisposition -------------------------------------------------------------------


async def test_disposition(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body(hashedExtensionId="h1"), headers=auth)
    body = {"sessionId": "s-1", "hashedExtensionId": "h1", "dispositions": {"outcome": "Won"},
            "additionalSubmission": {"ignored": True}}
    response = await h.client.put("/callDisposition", json=body, headers=auth)
    assert response.json() == {"successful": True, "returnMessage": {
        "message": "Disposition saved", "messageType": "success", "ttl": 3000}}
    assert h.crm.calls("PATCH")[0].body == {"dispositions": {"outcome": "Won"}}
    [kwargs] = h.connector.received["upsertCallDisposition"]
    assert kwargs["existing_call_log"]["thirdPartyLogId"] == "act-1"
    assert "additional_submission" not in kwargs or kwargs["additional_submission"] is None


async def test_disposition_failures(h: Harness) -> None:
    auth = await h.login()
    response = await h.client.put("/callDisposition", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == warning("Cannot find log", ttl=3000)
    await h.client.post("/callLog", json=log_body(), headers=auth)
    h.crm.fail_with("PATCH", 500)
    response = await h.client.put("/callDisposition", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == mapped(
        "Error performing upsertCallDisposition",
        "Please check if your account has the necessary permissions.", 1)
    await h.rt.users.delete("u1")
    response = await h.client.put("/callDisposition", json={"sessionId": "s-1"}, headers=auth)
    assert response.json() == warning("Cannot find user", ttl=3000)
