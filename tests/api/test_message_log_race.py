"""Exactly-once message logging under concurrent ``POST /messageLog`` requests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from appconnect.services import message_links
from appconnect.store.models import ConversationLogRow, MessageLogRow, utcnow

from ._message_log_helpers import (
    PLATFORM,
    USER_ID,
    FakeCRM,
    Harness,
    claim_key,
    database_kinds,
    database_url,
    running,
    sms,
    submission,
)

CONVERSATION_LOG_ID = "8031152018338945901-2026-07-14"


@pytest.fixture(params=database_kinds())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


def body() -> dict[str, object]:
    return submission([sms("m3", "third"), sms("m2", "second"), sms("m1", "first")])


async def _assert_linked_once(h: Harness, crm_id: str) -> None:
    rows = await h.message_rows()
    assert sorted(rows) == ["m1", "m2", "m3"]
    assert {row.third_party_log_id for row in rows.values()} == {crm_id}
    claims = await h.claim_rows()
    assert list(claims) == [CONVERSATION_LOG_ID]
    assert claims[CONVERSATION_LOG_ID].third_party_log_id == crm_id


async def test_twenty_identical_requests_create_one_crm_log(db_url: str) -> None:
    async with running(db_url, FakeCRM(delay=0.05)) as h:
        responses = await asyncio.gather(*(h.post(body()) for _ in range(20)))

        assert all(r.status_code == 200 and r.json()["successful"] for r in responses)
        assert len(h.crm.creates) == 1
        assert h.crm.creates[0].json["message"]["id"] == "m1"  # the oldest message creates
        assert len(h.crm.updates) == 2
        assert all(c.path == "/logs/crm-1" for c in h.crm.updates)
        assert Counter(c.json["message"]["id"] for c in h.crm.calls) == {"m1": 1, "m2": 1, "m3": 1}
        logged = Counter(i for r in responses for i in r.json()["logIds"])
        assert logged == {"m1": 1, "m2": 1, "m3": 1}
        await _assert_linked_once(h, "crm-1")


async def test_a_failed_create_hands_the_claim_to_a_waiting_request(db_url: str) -> None:
    async with running(db_url, FakeCRM(delay=0.05, create_status=[500])) as h:
        responses = await asyncio.gather(*(h.post(body()) for _ in range(10)))

        failed = [r for r in responses if not r.json()["successful"]]
        assert [r.json()["returnMessage"]["message"] for r in failed] == [
            "Error creating message log"
        ]
        assert len(h.crm.creates) == 2  # the failure, then one waiter's successful create
        assert Counter(c.json["message"]["id"] for c in h.crm.creates) == {"m1": 2}
        assert Counter(c.json["message"]["id"] for c in h.crm.updates) == {"m2": 1, "m3": 1}
        await _assert_linked_once(h, "crm-1")  # ids count successful creates


async def test_different_new_messages_of_one_conversation_share_one_log(db_url: str) -> None:
    async with running(db_url, FakeCRM(delay=0.05)) as h:
        bodies = [submission([sms(f"m{i}", f"text {i}")]) for i in range(1, 11)]

        responses = await asyncio.gather(*(h.post(b) for b in bodies))

        assert all(r.json()["successful"] for r in responses)
        assert len(h.crm.creates) == 1
        assert len(h.crm.updates) == 9
        rows = await h.message_rows()
        assert len(rows) == 10
        assert {row.third_party_log_id for row in rows.values()} == {"crm-1"}


async def test_a_stale_claim_of_a_dead_request_is_taken_over(db_url: str) -> None:
    async with running(db_url) as h:
        old = utcnow() - timedelta(hours=1)
        await h.add_rows(
            ConversationLogRow(conversation_log_id=claim_key(CONVERSATION_LOG_ID),
                               platform=PLATFORM, user_id=USER_ID, created_at=old, updated_at=old)
        )

        response = await h.post(body())

        assert response.json()["logIds"] == ["m1", "m2", "m3"]
        assert len(h.crm.creates) == 1
        await _assert_linked_once(h, "crm-1")
        assert (await h.claim_rows())[CONVERSATION_LOG_ID].user_id == USER_ID


async def test_waiting_for_a_live_claim_is_bounded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(message_links, "CLAIM_WAIT_SECONDS", 0.2)
    async with running(db_url) as h:
        await h.add_rows(
            ConversationLogRow(conversation_log_id=claim_key(CONVERSATION_LOG_ID),
                               platform=PLATFORM, user_id=USER_ID)
        )

        response = await h.post(body())

        assert response.json()["successful"] is False
        assert response.json()["returnMessage"]["message"] == "Error creating message log"
        assert h.crm.calls == []
        assert await h.message_rows() == {}


async def test_concurrent_shared_sms_requests_create_one_thread_log(db_url: str) -> None:
    async with running(db_url, FakeCRM(delay=0.05)) as h:
        shared = submission([sms("s1")], owner={"name": "Support Queue"})

        responses = await asyncio.gather(*(h.post(shared) for _ in range(8)))

        assert all(r.json()["successful"] for r in responses)
        assert len(h.crm.creates) == 1
        assert len(h.crm.updates) == 7
        assert sorted(i for r in responses for i in r.json()["logIds"]) == [CONVERSATION_LOG_ID]
        assert list(await h.message_rows()) == [CONVERSATION_LOG_ID]


async def test_an_oldest_message_held_elsewhere_lets_the_next_one_create(db_url: str) -> None:
    """Another request has reserved m1 (no CRM id yet): this one gives the claim back in the
    same transaction and creates the day's log with m2 instead; m1 stays with its owner."""
    async with running(db_url) as h:
        now = utcnow()
        await h.add_rows(
            MessageLogRow(id="m1", platform=PLATFORM, conversation_log_id=CONVERSATION_LOG_ID,
                          user_id="other", created_at=now, updated_at=now)
        )  # fmt: skip

        response = await h.post(submission([sms("m2", "second"), sms("m1", "first")]))

        assert response.json()["logIds"] == ["m2"]
        assert len(h.crm.creates) == 1 and not h.crm.updates
        rows = await h.message_rows()
        assert rows["m1"].third_party_log_id is None and rows["m2"].third_party_log_id == "crm-1"
        assert (await h.claim_rows())[CONVERSATION_LOG_ID].third_party_log_id == "crm-1"
