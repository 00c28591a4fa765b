"""User settings over HTTP: save, read with admin overrides, the hook, preload, refresh info.

The CRM and RingCentral are mocked at the HTTP transport; the database is real (SQLite, and
PostgreSQL when ``APPCONNECT_TEST_POSTGRES_URL`` is set).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from tests.api._admin_helpers import FakeRingCentral, assert_text, rc
from tests.api._call_log_helpers import (
    API_KEY,
    HASH_KEY,
    PLATFORM,
    ActivityConnector,
    ActivityCrm,
    Harness,
    log_body,
    running_app,
)

from appconnect import ActionResult, PlatformUserInfo, ReturnMessage, UserInfoResult
from appconnect.security import hash_id

NOAUTH = "Please go to Settings and authorize CRM platform"
ACCOUNT = "acc-100"
HASHED_ACCOUNT = hash_id(ACCOUNT, HASH_KEY)


class SettingsConnector(ActivityConnector):
    """The activity CRM connector, with an API-key login so re-login can be tested."""

    async def get_user_info(self, *, api_key: str, **_: Any) -> UserInfoResult:
        return UserInfoResult(
            successful=True, platform_user_info=PlatformUserInfo(id="u1", name="Ann")
        )


class HookConnector(SettingsConnector):
    def __init__(self, accept: bool) -> None:
        super().__init__()
        self.accept = accept
        self.hook_calls: list[dict[str, Any]] = []

    async def on_update_user_settings(self, **kwargs: Any) -> ActionResult:
        self.hook_calls.append(kwargs)
        return ActionResult(successful=self.accept)


class RefreshConnector(SettingsConnector):
    def __init__(self, outcome: Any) -> None:
        super().__init__()
        self.outcome = outcome
        self.seen: list[dict[str, Any]] = []

    async def refresh_user_info(self, **kwargs: Any) -> ActionResult:
        self.seen.append(kwargs)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return ActionResult(
            successful=True, return_message=ReturnMessage(message="Refreshed", ttl=1000)
        )


@dataclass
class RcActivityCrm(ActivityCrm):
    rc: FakeRingCentral = field(default_factory=FakeRingCentral)

    @property
    def transport(self) -> httpx2.MockTransport:
        return self.rc.wrap(httpx2.MockTransport(self._handle))


@asynccontextmanager
async def app(db_url: str, connector: ActivityConnector | None = None) -> AsyncIterator[Harness]:
    crm = RcActivityCrm()
    crm.rc.caller("admin-token", ACCOUNT, 101, admin=True)
    crm.rc.caller("agent-token", ACCOUNT, 102)
    crm.rc.caller("other-admin", "acc-999", 901, admin=True)
    async with running_app(db_url, connector or SettingsConnector(), crm) as h:
        yield h


async def login(h: Harness) -> dict[str, str]:
    reply = await h.client.post(
        "/apiKeyLogin", json={"platform": PLATFORM, "apiKey": API_KEY}, headers=rc("agent-token")
    )
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['jwtToken']}"}


# -- refusals --------------------------------------------------------------------------------


async def test_settings_routes_refuse_missing_and_tampered_sessions(db_url: str) -> None:
    async with app(db_url) as h:
        auth = await login(h)
        tampered = {"Authorization": auth["Authorization"][:-3] + "xyz"}
        assert_text(await h.client.get("/user/settings"), 400, NOAUTH)
        assert_text(await h.client.get("/user/settings", headers=tampered), 400, NOAUTH)
        assert_text(await h.client.post("/user/settings", json={}), 400, NOAUTH)
        # A tampered bearer header counts as no token; a tampered legacy query token reaches
        # the route undecoded.
        assert_text(await h.client.post("/user/settings", json={}, headers=tampered), 400, NOAUTH)
        bad_query = "?jwtToken=" + tampered["Authorization"].removeprefix("Bearer ")
        assert_text(await h.client.get("/user/settings" + bad_query), 400, NOAUTH)
        assert_text(
            await h.client.post("/user/settings" + bad_query, json={}), 400, "Unknown platform"
        )
        assert_text(await h.client.post("/user/refreshInfo"), 400, NOAUTH)
        ghost = {"Authorization": f"Bearer {h.rt.sessions.issue('ghost', PLATFORM)}"}
        assert_text(await h.client.get("/user/settings", headers=ghost), 400, "User not found")
        assert_text(
            await h.client.post("/user/settings", json={}, headers=ghost), 400, "User not found"
        )
        bad = await h.client.post(
            "/user/settings", json={"userSettings": ["not", "a", "map"]}, headers=auth
        )
        assert bad.status_code == 400 and "userSettings" in bad.json()["error"]


# -- save, read, remove, survive re-login ----------------------------------------------------


async def test_saved_settings_are_read_back_removed_and_survive_relogin(db_url: str) -> None:
    async with app(db_url) as h:
        auth = await login(h)
        assert (await h.client.get("/user/settings", headers=auth)).json() == {}
        saved = await h.client.post(
            "/user/settings",
            json={
                "userSettings": {
                    "logDateFormat": {"value": "DD/MM/YYYY HH:mm"},
                    "addCallLogNote": {"value": False},
                    "autoLogCalls": {"value": True, "defaultValue": False},
                }
            },
            headers=auth,
        )
        stored = {
            "logDateFormat": {"value": "DD/MM/YYYY HH:mm"},
            "addCallLogNote": {"value": False},
            "autoLogCalls": {"value": True, "defaultValue": False},
        }
        assert saved.status_code == 200
        assert saved.json() == {"userSettings": stored}
        # A later save replaces whole entries and removes the listed (set) keys only.
        changed = await h.client.post(
            "/user/settings",
            json={
                "userSettings": {"autoLogCalls": {"value": False}},
                "settingKeysToRemove": ["addCallLogNote", "neverSet"],
            },
            headers=auth,
        )
        stored = {
            "logDateFormat": {"value": "DD/MM/YYYY HH:mm"},
            "autoLogCalls": {"value": False},
        }
        assert changed.json() == {"userSettings": stored}
        # Without admin settings GET answers the user's own entries unchanged.
        assert (await h.client.get("/user/settings", headers=auth)).json() == stored
        again = await login(h)
        assert (await h.client.get("/user/settings", headers=again)).json() == stored


async def test_concurrent_saves_of_different_keys_both_survive(db_url: str) -> None:
    import asyncio

    async with app(db_url) as h:
        auth = await login(h)
        await asyncio.gather(
            *(
                h.client.post(
                    "/user/settings", json={"userSettings": {f"k{i}": {"value": i}}}, headers=auth
                )
                for i in range(6)
            )
        )
        got = (await h.client.get("/user/settings", headers=auth)).json()
        assert got == {f"k{i}": {"value": i} for i in range(6)}


@pytest.mark.parametrize("accept", [True, False])
async def test_on_update_user_settings_hook_decides_whether_to_save(
    db_url: str, accept: bool
) -> None:
    connector = HookConnector(accept)
    async with app(db_url, connector) as h:
        auth = await login(h)
        await h.rt.users.get("u1")
        first = await h.client.post(
            "/user/settings", json={"userSettings": {"a": {"value": 1}}}, headers=auth
        )
        assert (first.status_code, first.json()) == (200, {})
        call = connector.hook_calls[0]
        assert call["user_settings"] == {"a": {"value": 1}}
        assert call["updated_settings"] == {"a": {"value": 1}}
        assert call["user"].id == "u1"
        expected = {"a": {"value": 1}} if accept else {}
        assert (await h.client.get("/user/settings", headers=auth)).json() == expected
        # "userSettings" absent: the hook is not handed one (absent is not null).
        await h.client.post("/user/settings", json={"settingKeysToRemove": ["a"]}, headers=auth)
        assert "user_settings" not in connector.hook_calls[1]
        assert connector.hook_calls[1]["updated_settings"] == {}
        await h.client.post("/user/settings", json={"userSettings": None}, headers=auth)
        assert connector.hook_calls[2]["user_settings"] is None


# -- admin settings reach the user -----------------------------------------------------------


async def test_admin_overrides_and_hides_user_settings_over_http(db_url: str) -> None:
    async with app(db_url) as h:
        auth = await login(h)
        await h.client.post(
            "/user/settings",
            json={
                "userSettings": {
                    "logDateFormat": {"value": "YYYY"},
                    "autoLogCalls": {"value": True},
                    "hidden": {"value": 1},
                    "own": {"value": "mine", "options": ["mine"]},
                }
            },
            headers=auth,
        )
        posted = await h.client.post(
            "/admin/settings",
            json={
                "adminSettings": {
                    "userSettings": {
                        "logDateFormat": {"value": "MM/DD", "customizable": False},
                        "autoLogCalls": {"value": False, "customizable": True},
                        "hidden": {"isRemoved": True},
                        "adminOnly": {"value": "x", "customizable": True},
                    }
                }
            },
            headers=rc("admin-token"),
        )
        assert_text(posted, 200, "Admin settings updated")
        merged = {
            "logDateFormat": {"value": "MM/DD", "customizable": False},
            "autoLogCalls": {"customizable": True, "value": True},
            "adminOnly": {"value": "x", "customizable": True},
            "own": {"customizable": True, "value": "mine", "options": ["mine"]},
        }
        # With the hashed account id or an RC token the admin settings apply; without, not.
        by_hash = await h.client.get(f"/user/settings?rcAccountId={HASHED_ACCOUNT}", headers=auth)
        assert by_hash.json() == merged
        by_token = await h.client.get("/user/settings", headers={**auth, **rc("agent-token")})
        assert by_token.json() == merged
        plain = await h.client.get("/user/settings", headers=auth)
        assert "hidden" in plain.json()
        # Naming another account does not pull its admin settings into this user's view.
        await h.client.post(
            "/admin/settings",
            json={"adminSettings": {"userSettings": {"own": {"isRemoved": True}}}},
            headers=rc("other-admin"),
        )
        foreign = hash_id("acc-999", HASH_KEY)
        crossed = await h.client.get(f"/user/settings?rcAccountId={foreign}", headers=auth)
        assert crossed.json() == merged


async def test_preload_settings(db_url: str) -> None:
    async with app(db_url) as h:
        assert_text(await h.client.get("/user/preloadSettings"), 400, "Cannot find rc user login")
        empty = await h.client.get(f"/user/preloadSettings?rcAccountId={HASHED_ACCOUNT}")
        assert (empty.status_code, empty.json()) == (200, {})
        settings = {"logDateFormat": {"value": "MM/DD", "customizable": False}}
        await h.client.post(
            "/admin/settings",
            json={"adminSettings": {"userSettings": settings}},
            headers=rc("admin-token"),
        )
        by_hash = await h.client.get(f"/user/preloadSettings?rcAccountId={HASHED_ACCOUNT}")
        assert by_hash.json() == {"userSettings": settings}
        by_token = await h.client.get("/user/preloadSettings", headers=rc("agent-token"))
        assert by_token.json() == {"userSettings": settings}
        # A new user (no settings of their own) sees the admin's entries.
        auth = await login(h)
        fresh = await h.client.get(f"/user/settings?rcAccountId={HASHED_ACCOUNT}", headers=auth)
        assert fresh.json() == settings
        refused = await h.client.get("/user/preloadSettings", headers=rc("unknown-token"))
        assert (refused.status_code, refused.json()) == (
            400,
            {"error": "Request failed with status code 401"},
        )


# -- settings reach the composer -------------------------------------------------------------

SECTIONS_OFF = {
    "logDateFormat": {"value": "DD.MM.YYYY HH:mm"},
    "addCallLogNote": {"value": False},
    "addCallLogResult": {"value": False},
    "addCallLogDuration": {"value": 0},
    "addCallSessionId": {"value": True},
}
COMPOSED = {
    "text/plain": "- Session Id: s-1\n- Summary: Test Call\n- Date/Time: 15.01.2024 10:30\n",
    "text/html": "<li><b>Session Id</b>: s-1</li><li><b>Summary</b>: Test Call</li>"
    "<li><b>Date/time</b>: 15.01.2024 10:30</li>",
    "text/markdown": "**Session Id**: s-1\n**Summary**: Test Call\n"
    "**Date/Time**: 15.01.2024 10:30\n",
}


@pytest.mark.parametrize("log_format", list(COMPOSED))
async def test_saved_settings_shape_the_composed_call_log(db_url: str, log_format: str) -> None:
    connector = SettingsConnector(log_format)
    async with app(db_url, connector) as h:
        auth = await login(h)
        saved = await h.client.post(
            "/user/settings", json={"userSettings": SECTIONS_OFF}, headers=auth
        )
        assert saved.status_code == 200
        logged = await h.client.post("/callLog", json=log_body("s-1"), headers=auth)
        assert logged.json()["successful"] is True, logged.text
        assert h.crm.activities["act-1"]["body"] == COMPOSED[log_format]
        # After a re-login the same settings still apply.
        again = await login(h)
        relogged = await h.client.post("/callLog", json=log_body("s-2"), headers=again)
        assert relogged.json()["successful"] is True
        expected = COMPOSED[log_format].replace("s-1", "s-2")
        assert h.crm.activities["act-2"]["body"] == expected


# -- refresh user info -----------------------------------------------------------------------


async def test_refresh_info_without_the_interface_is_a_success(db_url: str) -> None:
    async with app(db_url) as h:
        auth = await login(h)
        reply = await h.client.post("/user/refreshInfo", headers=auth)
        assert (reply.status_code, reply.json()) == (200, {"successful": True})


async def test_refresh_info_calls_the_connector_and_maps_errors(db_url: str) -> None:
    connector = RefreshConnector(None)
    async with app(db_url, connector) as h:
        auth = await login(h)
        reply = await h.client.post("/user/refreshInfo", headers=auth)
        assert reply.json() == {
            "successful": True,
            "returnMessage": {"message": "Refreshed", "messageType": "success", "ttl": 1000},
        }
        assert connector.seen[0]["auth_header"].startswith("Basic ")
        connector.outcome = RuntimeError("boom")
        failed = await h.client.post("/user/refreshInfo", headers=auth)
        body = failed.json()
        assert failed.status_code == 200
        assert body["successful"] is False
        assert body["returnMessage"]["message"] == "Error performing refreshUserInfo"
        ghost = {"Authorization": f"Bearer {h.rt.sessions.issue('ghost', PLATFORM)}"}
        missing = await h.client.post("/user/refreshInfo", headers=ghost)
        assert missing.json() == {
            "successful": False,
            "returnMessage": {"message": "User not found", "messageType": "warning", "ttl": 5000},
        }


RICH_CALL = {
    "aiNote": "AI says hi",
    "transcript": "T: hello",
    "ringSenseTranscript": "ace t",
    "ringSenseSummary": "ace s",
    "ringSenseAIScore": "7",
    "ringSenseBulletedSummary": "* b",
    "ringSenseLink": "https://rs.example/1",
}
# (setting, default): every section switch of the composer (log-composition.md §4).
TOGGLES = [
    ("addCallLogNote", True), ("addCallSessionId", False), ("addRingCentralUserName", False),
    ("addRingCentralNumber", False), ("addCallLogSubject", True),
    ("addCallLogContactNumber", False), ("addCallLogDateTime", True),
    ("addCallLogDuration", True), ("addCallLogResult", True), ("addCallLogRecording", True),
    ("addCallLogAiNote", True), ("addCallLogTranscript", True),
    ("addCallLogRingSenseRecordingTranscript", True), ("addCallLogRingSenseRecordingSummary", True),
    ("addCallLogRingSenseRecordingAIScore", True),
    ("addCallLogRingSenseRecordingBulletedSummary", True),
    ("addCallLogRingSenseRecordingLink", True), ("addCallLogLegs", True),
]  # fmt: skip
DEFAULT_BODY = (
    "- Note: Test note\n- Summary: Test Call\n- Date/Time: 2024-01-15 10:30:00 AM\n"
    "- Duration: 2 minutes\n- Result: Completed\n- Call recording link: https://rec.example/1\n"
    "\n- AI Note:\nAI says hi\n--- END\n\n- Transcript:\nT: hello\n--- END\n"
    "\n- ACE transcript:\nace t\n--- END\n\n- ACE summary:\nace s\n--- END\n- Call score: 7\n"
    "\n- ACE bulleted summary:\n* b\n--- END\n- ACE recording link: https://rs.example/1\n"
)
FLIPPED_BODY = (
    "- Session Id: s-1\n- RingCentral user name: John Doe\n"
    "- RingCentral number and extension: +1234567890 \n- Contact Number: +0987654321\n"
)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({}, DEFAULT_BODY), ({k: {"value": not on} for k, on in TOGGLES}, FLIPPED_BODY)],
    ids=["defaults", "every-toggle-flipped"],
)
async def test_every_section_toggle_reaches_the_composer(
    db_url: str, settings: dict[str, Any], expected: str
) -> None:
    async with app(db_url, SettingsConnector("text/plain")) as h:
        auth = await login(h)
        await h.client.post("/user/settings", json={"userSettings": settings}, headers=auth)
        call = log_body("s-1", **RICH_CALL)
        call["logInfo"]["recording"] = {"link": "https://rec.example/1"}
        logged = await h.client.post("/callLog", json=call, headers=auth)
        assert logged.json()["successful"] is True, logged.text
        assert h.crm.activities["act-1"]["body"] == expected
