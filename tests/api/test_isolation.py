"""Isolation: a user reaches only their own call logs, message logs and cached notes.

User B, holding B's own valid session, sends ids that belong to user A. Every look-up, update,
disposition and note is scoped to the caller (user id and platform), so A's ids behave as unknown
for B and A's records (link rows and CRM activities) are never read or touched. Over HTTP, on
SQLite and PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._call_log_helpers import Harness, log_body, running_app
from ._message_log_helpers import API_KEY, sms, submission
from ._message_log_helpers import PLATFORM as MESSAGE_PLATFORM
from ._message_log_helpers import running as running_messages


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url, USE_CACHE="true") as harness:
        yield harness


async def _a_and_b(h: Harness) -> tuple[dict[str, str], dict[str, str]]:
    """A logs session s-1 (extension 101, a note); returns (A's auth, B's auth)."""
    alice = await h.login("alice")
    bob = await h.login("bob")
    body = log_body("s-1", note="alice's private note", extensionNumber="101")
    created = await h.client.post("/callLog", json=body, headers=alice)
    assert created.json()["successful"] is True
    return alice, bob


async def test_b_cannot_read_a_call_log_or_its_note(h: Harness) -> None:
    alice, bob = await _a_and_b(h)
    crm_reads = len(h.crm.calls("GET"))

    for query in ("sessionIds=s-1", "sessionIds=s-1&requireDetails=true",
                  "sessionIds=s-1&extensionNumber=101&requireDetails=true"):  # fmt: skip
        response = await h.client.get(f"/callLog?{query}", headers=bob)
        assert response.json()["successful"] is True
        assert response.json()["logs"] == [{"sessionId": "s-1", "matched": False}]
        assert "alice" not in response.text
    assert len(h.crm.calls("GET")) == crm_reads  # A's CRM activity was never fetched for B

    mine = await h.client.get("/callLog?sessionIds=s-1&requireDetails=true", headers=alice)
    [entry] = mine.json()["logs"]
    assert entry["matched"] is True and "alice's private note" in entry["logData"]["fullBody"]


async def test_b_cannot_update_or_dispose_of_a_call_log(h: Harness) -> None:
    _alice, bob = await _a_and_b(h)
    [activity_id] = h.crm.activities
    before = dict(h.crm.activities[activity_id])
    writes = len(h.crm.calls("PUT")) + len(h.crm.calls("PATCH"))

    patch = await h.client.patch(
        "/callLog", json={"sessionId": "s-1", "note": "bob was here"}, headers=bob
    )
    assert patch.json() == {"successful": False}
    disposition = await h.client.put(
        "/callDisposition",
        json={"sessionId": "s-1", "dispositions": {"outcome": "bob"}},
        headers=bob,
    )
    assert disposition.json()["successful"] is False
    assert disposition.json()["returnMessage"]["message"] == "Cannot find log"

    assert h.crm.activities[activity_id] == before
    assert len(h.crm.calls("PUT")) + len(h.crm.calls("PATCH")) == writes
    assert "updateCallLog" not in h.connector.received
    assert "upsertCallDisposition" not in h.connector.received
    [row] = await h.link_rows()
    assert (row.user_id, row.third_party_log_id) == ("alice", activity_id)


async def test_b_logs_the_same_session_as_his_own(h: Harness) -> None:
    """A's log does not block B: B's own identity gets B's own link row and CRM activity."""
    alice, bob = await _a_and_b(h)

    body = log_body("s-1", note="bob's note", extensionNumber="102")
    response = await h.client.post("/callLog", json=body, headers=bob)

    assert response.json()["successful"] is True
    rows = {r.user_id: r for r in await h.link_rows()}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"].third_party_log_id != rows["bob"].third_party_log_id
    # Each user's look-up finds exactly their own log.
    for auth, owner in ((alice, "alice"), (bob, "bob")):
        found = await h.client.get("/callLog?sessionIds=s-1", headers=auth)
        assert found.json()["logs"][0]["logId"] == rows[owner].third_party_log_id


async def test_cached_notes_are_per_user(h: Harness) -> None:
    alice = await h.login("alice")
    bob = await h.login("bob")
    await h.client.post("/callLog/cacheNote", json={"sessionId": "s-1", "note": "alice's"},
                        headers=alice)  # fmt: skip
    # B overwriting "the" note of s-1 writes only B's own note.
    await h.client.post("/callLog/cacheNote", json={"sessionId": "s-1", "note": "bob's"},
                        headers=bob)  # fmt: skip

    sscl = {**alice, "User-Agent": "SSCL"}
    await h.client.post("/callLog", json=log_body("s-1", note="typed"), headers=sscl)

    assert h.connector.received["createCallLog"][0]["note"] == "alice's"


# -- message logs ---------------------------------------------------------------------------


async def _second_user(rt: Any, user_id: str) -> str:
    await rt.users.upsert_login(
        user_id=user_id, platform=MESSAGE_PLATFORM, hostname="crm.test", access_token=API_KEY,
        refresh_token=None, token_expiry=None, timezone_name=None, timezone_offset=None,
        rc_account_id="rc-account-1", hashed_rc_extension_id=None, platform_additional_info={},
    )  # fmt: skip
    return str(rt.sessions.issue(user_id, MESSAGE_PLATFORM))


async def test_b_message_in_a_conversation_goes_to_b_own_log(db_url: str) -> None:
    async with running_messages(db_url) as m:
        first = await m.post(submission([sms("a-1", "from alice's phone")]))
        assert first.json()["logIds"] == ["a-1"]
        bob = await _second_user(m.rt, "u-bob")

        response = await m.post(submission([sms("b-1", "bob's text")]), token=bob)

        assert response.json()["successful"] is True
        assert response.json()["logIds"] == ["b-1"]
        # B's message created B's own CRM log; A's log (crm-1) got no update from B.
        assert [c.json["message"]["id"] for c in m.crm.creates] == ["a-1", "b-1"]
        assert m.crm.updates == []
        assert m.crm.creates[1].json["userId"] == "u-bob"
        rows = await m.message_rows()
        assert (rows["a-1"].user_id, rows["a-1"].third_party_log_id) == ("u-1", "crm-1")
        assert (rows["b-1"].user_id, rows["b-1"].third_party_log_id) == ("u-bob", "crm-2")

        # A's next message still updates A's log, not B's.
        again = await m.post(submission([sms("a-2", "alice again")]))
        assert again.json()["logIds"] == ["a-2"]
        assert [c.path for c in m.crm.updates] == ["/logs/crm-1"]


async def test_b_cannot_take_over_a_message_id_of_a(db_url: str) -> None:
    """An id A already logged is never re-linked, updated or moved by B."""
    async with running_messages(db_url) as m:
        await m.post(submission([sms("a-1", "alice")]))
        bob = await _second_user(m.rt, "u-bob")

        response = await m.post(submission([sms("a-1", "forged")]), token=bob)

        assert response.json()["successful"] is True
        assert "a-1" not in response.json()["logIds"]
        assert len(m.crm.creates) == 1 and m.crm.updates == []
        row = (await m.message_rows())["a-1"]
        assert (row.user_id, row.third_party_log_id) == ("u-1", "crm-1")
