"""``POST /messageLog`` over HTTP, with the CRM mocked at the transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from appconnect.compose import compose_shared_sms
from appconnect.security.hashing import hash_id
from appconnect.services.contact_cache import store_contacts
from appconnect.store.models import MessageLogRow

from ._message_log_helpers import (
    API_KEY,
    CONTACT_NUMBER,
    HASH_KEY,
    OAUTH_PLATFORM,
    PLATFORM,
    RC_ACCOUNT_ID,
    USER_ID,
    FakeCRM,
    Harness,
    database_kinds,
    database_url,
    running,
    sms,
    submission,
)

BASIC = "Basic " + __import__("base64").b64encode(f"{API_KEY}:".encode()).decode()
NOAUTH = "Please go to Settings and authorize CRM platform"
MEDIA = "https://media.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store"


@pytest.fixture(params=database_kinds())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running(db_url) as harness:
        yield harness


def three_new() -> dict[str, Any]:
    # The client sends newest first.
    return submission([sms("m3", "third"), sms("m2", "second"), sms("m1", "first")])


# -- grouping: one CRM log per conversation-day ----------------------------------------------------


async def test_three_new_messages_create_once_then_update_oldest_first(h: Harness) -> None:
    response = await h.post(three_new(), headers={"rc-account-id": "hashed-acc"})

    assert response.status_code == 200
    assert response.json() == {
        "successful": True,
        "logIds": ["m1", "m2", "m3"],
        "returnMessage": {"message": "Message updated", "messageType": "success", "ttl": 3000},
    }
    calls = h.crm.calls
    assert [(c.method, c.path) for c in calls] == [
        ("POST", "/logs"),
        ("PATCH", "/logs/crm-1"),
        ("PATCH", "/logs/crm-1"),
    ]
    assert [c.json["message"]["subject"] for c in calls] == ["first", "second", "third"]
    assert all(c.authorization == BASIC for c in calls)
    create = calls[0].json
    assert create["contactInfo"] == {
        "id": "12345", "phoneNumber": CONTACT_NUMBER, "type": "Contact", "name": "Message Contact"
    }
    assert create["correspondents"] == []
    assert create["hashedAccountId"] == "hashed-acc"
    assert create["additionalSubmission"] == {"deals": "d-1"}
    assert "assigneeName" not in create and "ownerName" not in create  # absent in logInfo
    assert create["userId"] == USER_ID
    assert "existingMessageLog" not in create
    update = calls[1].json
    stamps = {update["existingMessageLog"].pop(k) for k in ("createdAt", "updatedAt")}
    assert all(isinstance(s, str) and s.endswith("Z") for s in stamps)
    assert update["existingMessageLog"] == {
        "id": "m1",
        "platform": PLATFORM,
        "conversationId": "8031152018338945901",
        "conversationLogId": "8031152018338945901-2026-07-14",
        "thirdPartyLogId": "crm-1",
        "userId": USER_ID,
    }
    assert "hashedAccountId" not in update and "correspondents" not in update

    rows = await h.message_rows()
    assert sorted(rows) == ["m1", "m2", "m3"]
    assert {r.third_party_log_id for r in rows.values()} == {"crm-1"}
    assert {r.conversation_log_id for r in rows.values()} == {"8031152018338945901-2026-07-14"}
    claims = await h.claim_rows()
    assert list(claims) == ["8031152018338945901-2026-07-14"]
    assert claims["8031152018338945901-2026-07-14"].third_party_log_id == "crm-1"


async def test_resubmitting_logged_messages_calls_nothing(h: Harness) -> None:
    await h.post(three_new())
    h.crm.calls.clear()

    response = await h.post(three_new())

    assert response.json() == {"successful": True, "returnMessage": None, "logIds": []}
    assert h.crm.calls == []


async def test_a_later_message_of_the_same_day_updates(h: Harness) -> None:
    await h.post(three_new())
    h.crm.calls.clear()

    response = await h.post(submission([sms("m4", "fourth"), sms("m3"), sms("m2"), sms("m1")]))

    assert response.json()["logIds"] == ["m4"]
    assert [(c.method, c.path, c.json["message"]["id"]) for c in h.crm.calls] == [
        ("PATCH", "/logs/crm-1", "m4")
    ]


async def test_next_day_creates_a_new_log(h: Harness) -> None:
    await h.post(three_new())
    h.crm.calls.clear()

    response = await h.post(submission([sms("n1")], day="2026-07-15"))

    assert response.json()["logIds"] == ["n1"]
    assert [(c.method, c.path) for c in h.crm.calls] == [("POST", "/logs")]
    assert (await h.message_rows())["n1"].third_party_log_id == "crm-2"
    assert len(await h.claim_rows()) == 2


async def test_numeric_message_ids_are_linked_as_strings(h: Harness) -> None:
    response = await h.post(submission([sms(6424569004)]))

    assert response.json()["logIds"] == ["6424569004"]
    assert h.crm.creates[0].json["message"]["id"] == 6424569004


async def test_hashed_account_id_falls_back_to_the_hashed_account(h: Harness) -> None:
    await h.post(submission([sms("m1")]))

    assert h.crm.creates[0].json["hashedAccountId"] == hash_id("178009004", HASH_KEY)


async def test_a_repeated_message_in_one_submission_is_logged_once(h: Harness) -> None:
    response = await h.post(submission([sms("m1"), sms("m1")]))

    assert response.json()["logIds"] == ["m1"]
    assert len(h.crm.calls) == 1


async def test_adopted_reference_rows_are_updated_not_recreated(h: Harness) -> None:
    await h.add_rows(
        MessageLogRow(
            id="legacy-1",
            platform=PLATFORM,
            conversation_id="8031152018338945901",
            conversation_log_id="8031152018338945901-2026-07-14",
            third_party_log_id="legacy-9",
            user_id=USER_ID,
        )
    )

    response = await h.post(submission([sms("m2"), sms("legacy-1")]))

    assert response.json()["logIds"] == ["m2"]
    assert [(c.method, c.path) for c in h.crm.calls] == [("PATCH", "/logs/legacy-9")]
    assert h.crm.calls[0].json["existingMessageLog"]["id"] == "legacy-1"
    assert await h.claim_rows() == {}


# -- group SMS -------------------------------------------------------------------------------------


def group_body() -> dict[str, Any]:
    return {
        "logInfo": {
            "conversationId": "conv-group-123",
            "conversationLogId": "conv-group-123-2026-07-14",
            "correspondents": [{"phoneNumber": "+1234567890"}, {"phoneNumber": "+0987654321"}],
            "messages": [
                {"id": "msg-group-2", "type": "SMS", "direction": "Outbound", "subject": "two"},
                {"id": "msg-group-1", "type": "SMS", "direction": "Outbound", "subject": "one"},
            ],
        },
        "contactId": "contact-456",
        "contactType": "Contact",
        "contactName": "Primary Contact",
        "additionalSubmission": {},
    }


async def test_group_sms_is_suffixed_per_contact_with_cached_correspondents(h: Harness) -> None:
    await store_contacts(h.rt, RC_ACCOUNT_ID, PLATFORM, "+1234567890",
                         [{"id": "contact-456", "name": "Primary Contact"}])
    await store_contacts(h.rt, RC_ACCOUNT_ID, PLATFORM, "+0987654321",
                         [{"id": "contact-789", "name": "Other Contact"}])

    response = await h.post(group_body())

    assert response.json() == {
        "successful": True,
        "logIds": ["msg-group-1-contact-456", "msg-group-2-contact-456"],
        "returnMessage": {"message": "Message updated", "messageType": "success", "ttl": 3000},
    }
    create, update = h.crm.calls
    assert create.json["correspondents"] == [[{"id": "contact-789", "name": "Other Contact"}]]
    assert create.json["message"]["id"] == "msg-group-1-contact-456"  # as the reference rewrites it
    assert update.json["message"]["id"] == "msg-group-2-contact-456"
    assert create.json["contactInfo"]["phoneNumber"] == "+1234567890"
    assert update.json["existingMessageLog"]["id"] == "msg-group-1-contact-456"
    assert update.json["existingMessageLog"]["conversationId"] == "conv-group-123-contact-456"
    rows = await h.message_rows()
    suffixed = "conv-group-123-2026-07-14-contact-456"
    assert rows["msg-group-1-contact-456"].conversation_log_id == suffixed
    assert list(await h.claim_rows()) == ["conv-group-123-2026-07-14-contact-456"]


async def test_group_sms_for_another_contact_is_a_separate_log(h: Harness) -> None:
    await h.post(group_body())
    other = group_body()
    other["contactId"] = "contact-789"
    h.crm.calls.clear()

    response = await h.post(other)

    assert response.json()["logIds"] == ["msg-group-1-contact-789", "msg-group-2-contact-789"]
    calls = [(c.method, c.path) for c in h.crm.calls]
    assert calls == [("POST", "/logs"), ("PATCH", "/logs/crm-2")]


# -- media -----------------------------------------------------------------------------------------


def _media_fields(call_json: dict[str, Any]) -> dict[str, Any]:
    keys = ("recordingLink", "faxDocLink", "faxDownloadLink", "imageLink", "imageDownloadLink",
            "imageContentType", "videoLink")
    return {k: call_json.get(k, "<absent>") for k in keys}


async def test_voicemail_passes_the_recording_link(h: Harness) -> None:
    voicemail = {
        "id": 6424569014, "type": "VoiceMail", "direction": "Inbound", "subject": "Voice message",
        "attachments": [{"id": 1, "uri": f"{MEDIA}/6424569014/content/1", "type": "AudioRecording",
                         "contentType": "audio/x-wav", "vmDuration": 25,
                         "link": "https://app.test/vm/6424569014"}],
    }
    await h.post(submission([voicemail], conversation="vm-6424569014"))

    assert _media_fields(h.crm.creates[0].json) == {
        "recordingLink": "https://app.test/vm/6424569014",
        "faxDocLink": None, "faxDownloadLink": None, "imageLink": None,
        "imageDownloadLink": None, "imageContentType": None, "videoLink": None,
    }


def fax(token: str | None, conversation: str) -> dict[str, Any]:
    message = {
        "id": conversation, "type": "Fax", "direction": "Inbound", "faxPageCount": 2,
        "attachments": [{"id": "6424569015", "uri": f"{MEDIA}/6424569015/content/6424569015",
                         "type": "RenderedDocument", "contentType": "application/pdf",
                         "link": "https://app.test/fax/6424569015"}],
    }
    extra = {"rcAccessToken": token} if token else {}
    return submission([message], conversation=conversation, **extra)


async def test_fax_links_need_the_access_token(h: Harness) -> None:
    await h.post(fax("rc-media-access-token", "fax-1"))
    await h.post(fax(None, "fax-2"))

    with_token, without = (c.json for c in h.crm.creates)
    assert _media_fields(with_token) == {
        "recordingLink": None,
        "faxDocLink": "https://app.test/fax/6424569015",
        "faxDownloadLink":
            f"{MEDIA}/6424569015/content/6424569015?access_token=rc-media-access-token",
        "imageLink": None, "imageDownloadLink": None, "imageContentType": None, "videoLink": None,
    }
    assert without["faxDocLink"] is None and without["faxDownloadLink"] is None
    assert "rcAccessToken" not in str(await h.message_rows())


def mms(message_id: str, token: str | None) -> dict[str, Any]:
    message = sms(message_id, "Inbound MMS with image and video", attachments=[
        {"id": 1, "uri": f"{MEDIA}/{message_id}/content/1", "type": "Text",
         "contentType": "text/plain"},
        {"id": "675981076016", "uri": f"{MEDIA}/{message_id}/content/675981076016",
         "type": "MmsAttachment", "contentType": "image/jpeg", "size": 461020},
        {"id": "675981076017", "uri": f"{MEDIA}/{message_id}/content/675981076017",
         "type": "MmsAttachment", "contentType": "video/mp4", "size": 1048576},
    ])
    return message


def reader(uri: str) -> str:
    encoded = uri.replace(":", "%3A").replace("/", "%2F")
    return f"https://ringcentral.github.io/ringcentral-media-reader/?media={encoded}"


async def test_mms_links_on_create_and_update(h: Harness) -> None:
    token = "rc-media-access-token"
    await h.post(submission([mms("mms-2", token), mms("mms-1", token)], rcAccessToken=token))

    create, update = (c.json for c in h.crm.calls)
    assert _media_fields(create) == {
        "recordingLink": None, "faxDocLink": None, "faxDownloadLink": None,
        "imageLink": reader(f"{MEDIA}/mms-1/content/675981076016"),
        "imageDownloadLink": f"{MEDIA}/mms-1/content/675981076016?access_token={token}",
        "imageContentType": "image/jpeg",
        "videoLink": reader(f"{MEDIA}/mms-1/content/675981076017"),
    }
    # Updates get the MMS links but no voicemail or fax fields.
    assert _media_fields(update) == {
        "recordingLink": "<absent>", "faxDocLink": "<absent>", "faxDownloadLink": "<absent>",
        "imageLink": reader(f"{MEDIA}/mms-2/content/675981076016"),
        "imageDownloadLink": f"{MEDIA}/mms-2/content/675981076016?access_token={token}",
        "imageContentType": "image/jpeg",
        "videoLink": reader(f"{MEDIA}/mms-2/content/675981076017"),
    }


async def test_mms_without_token_has_viewer_links_only(h: Harness) -> None:
    await h.post(submission([mms("mms-1", None)]))

    fields = _media_fields(h.crm.creates[0].json)
    assert fields["imageLink"] == reader(f"{MEDIA}/mms-1/content/675981076016")
    assert fields["videoLink"] == reader(f"{MEDIA}/mms-1/content/675981076017")
    assert fields["imageDownloadLink"] is None and fields["imageContentType"] is None


async def test_mms_attachment_without_content_type_fails(h: Harness) -> None:
    broken = sms("mms-1", attachments=[{"id": 1, "uri": "u", "type": "MmsAttachment"}])

    response = await h.post(submission([broken]))

    assert response.json()["returnMessage"]["message"] == "Error creating message log"
    assert h.crm.calls == [] and await h.message_rows() == {}


# -- shared SMS ------------------------------------------------------------------------------------


def shared_body() -> dict[str, Any]:
    return {
        "logInfo": {
            "conversationId": "shared-conversation",
            "conversationLogId": "shared-conversation-log",
            "creationTime": "2026-06-12T10:00:00.000Z",
            "owner": {"name": "Owner Agent", "extensionType": "User", "extensionId": "12345"},
            "assignee": {"name": "Assigned Agent"},
            "correspondents": [{"phoneNumber": "+15550000001"}],
            "messages": [{"id": "shared-message-1", "type": "SMS",
                          "lastModifiedTime": "2026-06-12T10:05:00.000Z"}],
            "entities": [
                {"recordType": "AliveMessage", "direction": "Inbound",
                 "from": {"name": "Agent One"}, "creationTime": "2026-06-12T10:00:00.000Z",
                 "subject": "Hello <you>"},
                {"recordType": "AliveNote", "creationTime": "2026-06-12T10:02:00.000Z",
                 "author": {"name": "Agent One"}, "text": "Customer prefers email"},
            ],
        },
        "contactId": "contact-shared",
        "contactName": "Shared Contact",
        "additionalSubmission": {},
    }


@pytest.mark.parametrize("log_format", ["text/html", "text/markdown", "custom"])
async def test_shared_sms_composes_the_thread_in_the_connector_format(
    db_url: str, log_format: str
) -> None:
    async with running(db_url, log_format=log_format, timezone_offset="+05:00") as h:
        body = shared_body()
        expected = compose_shared_sms(
            log_format=log_format, conversation=body["logInfo"], contact_name="Shared Contact",
            timezone_offset="+05:00",
        )

        first = await h.post(body)
        second = await h.post(body)

        assert first.json()["logIds"] == ["shared-conversation-log"]
        assert second.json() == {
            "successful": True,
            "logIds": [],
            "returnMessage": {"message": "Message updated", "messageType": "success", "ttl": 3000},
        }
        create, update = (c.json for c in h.crm.calls)
        assert create["sharedSmsLogContent"] == expected
        assert update["sharedSmsLogContent"] == expected
        assert "message" not in create and "correspondents" not in create
        assert create["contactInfo"] == {"id": "contact-shared", "phoneNumber": "+15550000001",
                                         "type": "", "name": "Shared Contact"}
        assert update["existingMessageLog"]["id"] == "shared-conversation-log"
        assert h.crm.calls[1].path == "/logs/crm-1"
        rows = await h.message_rows()
        assert list(rows) == ["shared-conversation-log"]
        assert rows["shared-conversation-log"].conversation_id == "shared-conversation"


# -- failures --------------------------------------------------------------------------------------


async def test_missing_or_invalid_token_is_noauth(h: Harness) -> None:
    missing = await h.client.post("/messageLog", json=three_new())
    invalid = await h.client.post("/messageLog?jwtToken=nope", json=three_new())

    for response in (missing, invalid):
        assert response.status_code == 400
        assert response.text == NOAUTH


async def test_malformed_json_is_a_400(h: Harness) -> None:
    response = await h.client.post(
        "/messageLog", content=b"{nope", headers={"Authorization": f"Bearer {h.token}",
                                                  "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "error" in response.json()


async def test_no_messages(h: Harness) -> None:
    response = await h.post(submission([]))

    assert response.json() == {
        "successful": False,
        "returnMessage": {"message": "No message to log.", "messageType": "warning", "ttl": 3000},
    }


async def test_unknown_user(h: Harness) -> None:
    response = await h.post(three_new(), token=h.rt.sessions.issue("nobody", PLATFORM))

    assert response.json() == {
        "successful": False,
        "returnMessage": {"message": "Contact not found", "messageType": "warning", "ttl": 5000},
    }


async def test_missing_contact_id(h: Harness) -> None:
    body = three_new() | {"contactId": ""}

    response = await h.post(body)

    assert response.json()["returnMessage"] == {
        "message": f"Contact not found for number {CONTACT_NUMBER}",
        "messageType": "warning",
        "ttl": 5000,
    }
    assert h.crm.calls == []


@pytest.mark.parametrize("body", [{}, {"logInfo": {"messages": [{"id": 1}]}}])
async def test_malformed_submission_is_an_error_creating_message_log(
    h: Harness, body: dict[str, Any]
) -> None:
    response = await h.post(body)

    assert response.status_code == 200
    assert response.json() == {
        "successful": False,
        "returnMessage": {
            "message": "Error creating message log",
            "messageType": "warning",
            "details": [{"title": "Details", "items": [
                {"id": 1, "type": "text",
                 "text": "Please check if your account has permission to CREATE logs."}]}],
            "ttl": 5000,
        },
    }


async def test_revoked_session_is_401(h: Harness) -> None:
    response = await h.post(three_new(), token=h.rt.sessions.issue("u-oauth", OAUTH_PLATFORM))

    assert response.status_code == 401
    assert response.json() == {
        "successful": False,
        "returnMessage": {"message": "User session expired. Please connect again.",
                          "messageType": "warning", "ttl": 5000},
        "errorCode": "CRM_SESSION_REVOKED",
    }


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Rate limit exceeded"),
        (401, "Authorization error"),
        (500, "Error creating message log"),
    ],
)
async def test_failed_create_maps_the_error_and_links_nothing(
    h: Harness, status: int, message: str
) -> None:
    h.crm.create_status = [status]

    response = await h.post(three_new())

    assert response.status_code == 200
    assert response.json()["successful"] is False
    assert response.json()["returnMessage"]["message"] == message
    assert "logIds" not in response.json()
    assert await h.message_rows() == {}
    assert await h.claim_rows() == {}

    retry = await h.post(three_new())  # nothing was left behind: the retry creates
    assert retry.json()["logIds"] == ["m1", "m2", "m3"]
    assert [c.method for c in h.crm.calls] == ["POST", "POST", "PATCH", "PATCH"]


async def test_failed_update_is_reported_as_create_error_and_unlinks_that_message(
    h: Harness,
) -> None:
    h.crm.update_status = [500]

    response = await h.post(three_new())

    assert response.json()["returnMessage"]["message"] == "Error creating message log"
    assert sorted(await h.message_rows()) == ["m1"]
    h.crm.calls.clear()

    retry = await h.post(three_new())
    assert retry.json()["logIds"] == ["m2", "m3"]
    assert [(c.method, c.path) for c in h.crm.calls] == [
        ("PATCH", "/logs/crm-1"), ("PATCH", "/logs/crm-1")
    ]


async def test_updates_of_an_existing_log_stop_at_the_first_failure_and_free_the_rest(
    h: Harness,
) -> None:
    """Messages updating an existing log are reserved together; a failure frees the unsent."""
    await h.post(submission([sms("m1", "first")]))
    h.crm.update_status = [200, 500]

    response = await h.post(submission([sms("m4"), sms("m3"), sms("m2"), sms("m1")]))

    assert response.json()["returnMessage"]["message"] == "Error creating message log"
    assert sorted(await h.message_rows()) == ["m1", "m2"]
    h.crm.calls.clear()

    retry = await h.post(submission([sms("m4"), sms("m3"), sms("m2"), sms("m1")]))
    assert retry.json()["logIds"] == ["m3", "m4"]
    assert [c.method for c in h.crm.calls] == ["PATCH", "PATCH"]


async def test_create_without_log_id_links_nothing(db_url: str) -> None:
    async with running(db_url, FakeCRM(empty_id=True)) as h:
        response = await h.post(submission([sms("m1")]))

        assert response.json() == {
            "successful": True,
            "logIds": [],
            "returnMessage": {"message": "Message logged", "messageType": "success", "ttl": 2000},
        }
        assert await h.message_rows() == {}
        assert await h.claim_rows() == {}


async def test_an_update_that_returns_nothing_still_succeeds(h: Harness) -> None:
    """Spec quirk 7: the reference crashes on a ``None`` update result; we read it as ``{}``."""
    connector = h.rt.registry.get_original_connector(PLATFORM)

    async def silent_update(**_: Any) -> None:
        return None

    connector.update_message_log = silent_update
    response = await h.post(three_new())

    assert response.json()["successful"] is True
    assert response.json()["logIds"] == ["m1", "m2", "m3"]
