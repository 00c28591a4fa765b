"""The built-in demo connector against a real SQLite database, through the registry's view.

Calls go through ``ConnectorView.call`` with the same keyword arguments the framework passes
(including ones the demo ignores), and results are read in their wire shape via ``to_wire``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from appconnect.app import AppConnect, create_app
from appconnect.connectors.demo import MANIFEST_PATH, demo_registry
from appconnect.connectors.invoke import call_with_kwargs
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.manifest import load_manifest
from appconnect.settings import Settings
from appconnect.store.users import User


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db", APP_SERVER_SECRET_KEY="s", HASH_KEY="k"
    )


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[AppConnect]:
    app_core = AppConnect(demo_registry(), settings=_settings(tmp_path))
    await app_core.ready()
    yield app_core
    await app_core.aclose()


@pytest.fixture
def demo(core: AppConnect) -> ConnectorView:
    return core.runtime.registry.get_connector("demo")


async def _login(core: AppConnect, demo: ConnectorView, api_key: str) -> User:
    """What /apiKeyLogin does: ask the connector who this is, then upsert the user row."""
    info = to_wire(await demo.call("getUserInfo", api_key=api_key, additional_info={}))
    assert info["successful"] is True
    return await core.runtime.users.upsert_login(
        user_id=info["platformUserInfo"]["id"],
        platform="demo",
        hostname="localhost:6066",
        access_token=api_key,
        refresh_token=None,
        token_expiry=None,
        timezone_name=info["platformUserInfo"]["timezoneName"],
        timezone_offset=info["platformUserInfo"]["timezoneOffset"],
        rc_account_id=None,
        hashed_rc_extension_id=None,
        platform_additional_info={},
    )


@pytest.fixture
async def alice(core: AppConnect, demo: ConnectorView) -> User:
    return await _login(core, demo, "alice-key")


@pytest.fixture
async def bob(core: AppConnect, demo: ConnectorView) -> User:
    return await _login(core, demo, "bob-key")


async def _call(demo: ConnectorView, interface: str, /, **kwargs: Any) -> Any:
    """Call as the framework does, adding arguments the demo ignores (it must not get them).

    ``call_with_kwargs`` rather than ``demo.call``, whose own ``name`` parameter would clash with
    ``findContactWithName``'s ``name`` argument.
    """
    fn = demo.get(interface)
    assert fn is not None, interface
    args = {"auth_header": "Basic x", "proxy_config": None, **kwargs}
    return to_wire(await call_with_kwargs(fn, args))


CONTACT = {"id": "sample-ada", "phoneNumber": "+16505550100", "type": "contact", "name": "Ada"}
INBOUND_CALL = {"sessionId": "s-1", "direction": "Inbound", "startTime": "2026-01-05T10:00:00Z"}


async def _log_call(demo: ConnectorView, user: User, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "user": user,
        "contact_info": CONTACT,
        "call_log": INBOUND_CALL,
        "note": "Asked about pricing",
        "composed_log_details": "Note: Asked about pricing\nDuration: 60 seconds",
        "additional_submission": {"outcome": "connected"},
        **overrides,
    }
    result = await _call(demo, "createCallLog", **args)
    assert result["logId"]
    return str(result["logId"])


# ------------------------------------------------------------------ manifest and registry


def test_manifest_is_valid_and_describes_an_api_key_platform() -> None:
    manifest = load_manifest(MANIFEST_PATH)
    platform = manifest.platform("demo")
    assert platform is not None
    assert manifest.data["serverUrl"] == "http://localhost:6066"
    assert platform["displayName"] == "Demo CRM"
    assert platform["auth"]["type"] == "apiKey"
    assert manifest.auth_fields("demo") == platform["auth"]["apiKey"]["page"]["content"]
    api_key_field = platform["auth"]["apiKey"]["page"]["content"][0]
    assert (api_key_field["const"], api_key_field["required"]) == ("apiKey", True)
    assert manifest.warnings == ()


def test_registry_serves_the_demo_and_makes_its_manifest_the_default() -> None:
    registry = demo_registry()
    assert registry.registered_platforms() == ["demo"]
    assert registry.get_manifest("default") == registry.get_manifest("demo")


async def test_capabilities_report_api_key_auth() -> None:
    caps = await demo_registry().capabilities("demo")
    assert caps["authType"] == "apiKey"
    for name in (
        "getBasicAuth",
        "findContact",
        "createContact",
        "findContactWithName",
        "createCallLog",
        "getCallLog",
        "updateCallLog",
        "upsertCallDisposition",
        "createMessageLog",
        "updateMessageLog",
        "unAuthorize",
        "getLicenseStatus",
    ):
        assert name in caps["originalMethods"], name


async def test_crm_manifest_route_answers_the_demo_manifest(tmp_path: Path) -> None:
    app = create_app(settings=_settings(tmp_path))
    expected = load_manifest(MANIFEST_PATH).data
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as client,
    ):
        named = await client.get("/crmManifest", params={"platformName": "demo"})
        default = await client.get("/crmManifest")
    assert named.status_code == 200
    assert named.json() == expected
    assert default.json() == expected


# ------------------------------------------------------------------ auth


async def test_basic_auth_is_the_key_as_username(demo: ConnectorView) -> None:
    value = await demo.call("getBasicAuth", api_key="k3y")
    assert base64.b64decode(value) == b"k3y:"


async def test_each_key_is_its_own_stable_demo_user(demo: ConnectorView) -> None:
    first = await _call(demo, "getUserInfo", api_key="my-key", hostname="h", additional_info={})
    again = await _call(demo, "getUserInfo", additional_info={"apiKey": "my-key"})
    other = await _call(demo, "getUserInfo", api_key="another-key")
    expected_id = hashlib.sha256(b"my-key").hexdigest()[:12] + "-demo"
    assert first["platformUserInfo"]["id"] == expected_id
    assert again["platformUserInfo"]["id"] == expected_id
    assert other["platformUserInfo"]["id"] != expected_id
    assert first["platformUserInfo"]["name"] == "Demo User"
    assert first["platformUserInfo"]["timezoneName"] == "UTC"
    assert first["returnMessage"]["messageType"] == "success"


@pytest.mark.parametrize("key", ["", "   ", None])
async def test_an_empty_key_is_refused_with_a_warning(demo: ConnectorView, key: Any) -> None:
    result = await _call(demo, "getUserInfo", api_key=key, additional_info={})
    assert result["successful"] is False
    assert "platformUserInfo" not in result
    assert result["returnMessage"]["messageType"] == "warning"


async def test_unauthorize_clears_the_stored_key(
    core: AppConnect, demo: ConnectorView, alice: User
) -> None:
    result = await _call(demo, "unAuthorize", user=alice)
    assert result["successful"] is True
    assert result["returnMessage"]["message"]
    stored = await core.runtime.users.get(alice.id)
    assert stored is not None
    assert stored.access_token == ""


async def test_license_is_always_valid(demo: ConnectorView, alice: User) -> None:
    result = await _call(demo, "getLicenseStatus", user=alice, user_id=alice.id, platform="demo")
    assert result == {
        "isLicenseValid": True,
        "licenseStatus": "Demo",
        "licenseStatusDescription": "",
    }


# ------------------------------------------------------------------ contacts


async def test_sample_contacts_are_seeded_once(tmp_path: Path) -> None:
    for _ in range(2):  # a restart on the same database must not seed again
        app_core = AppConnect(demo_registry(), settings=_settings(tmp_path))
        await app_core.ready()
        demo = app_core.runtime.registry.get_connector("demo")
        user = await _login(app_core, demo, "k")
        found = await _call(demo, "findContactWithName", user=user, name="a")
        await app_core.aclose()
        names = sorted(c["name"] for c in found["matchedContactInfo"])
        assert names == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


@pytest.mark.parametrize("number", ["+16505550100", "+1 (650) 555-0100", "6505550100"])
async def test_find_contact_matches_by_digits(
    demo: ConnectorView, alice: User, number: str
) -> None:
    result = await _call(demo, "findContact", user=alice, phone_number=number, is_extension="false")
    assert result["successful"] is True
    ada, placeholder = result["matchedContactInfo"]
    assert (ada["id"], ada["name"], ada["phone"], ada["type"]) == (
        "sample-ada",
        "Ada Lovelace",
        "+1 650-555-0100",
        "contact",
    )
    assert datetime.fromisoformat(ada["createdDate"]).tzinfo is not None
    assert placeholder == {
        "id": "createNewContact",
        "name": "Create new contact...",
        "isNewContact": True,
    }


@pytest.mark.parametrize("number", ["+16505550199", "0100", "", "ext"])
async def test_find_contact_without_match_offers_only_creation(
    demo: ConnectorView, alice: User, number: str
) -> None:
    result = await _call(demo, "findContact", user=alice, phone_number=number)
    assert [c["id"] for c in result["matchedContactInfo"]] == ["createNewContact"]


async def test_find_contact_with_name_is_a_case_insensitive_substring(
    demo: ConnectorView, alice: User
) -> None:
    async def names(query: str) -> list[str]:
        found = await _call(demo, "findContactWithName", user=alice, name=query)
        assert found["successful"] is True
        return [c["name"] for c in found["matchedContactInfo"]]

    assert await names("LOVE") == ["Ada Lovelace"]
    assert await names("  grace ") == ["Grace Hopper"]
    assert await names("%") == []  # a literal, not a wildcard
    assert await names("") == []


async def test_created_contacts_are_found_by_their_owner_only(
    demo: ConnectorView, alice: User, bob: User
) -> None:
    created = await _call(
        demo,
        "createContact",
        user=alice,
        phone_number="+1 (415) 555-0199",
        new_contact_name="  Linus ",
        new_contact_type="lead",
        additional_submission={"company": "Kernel Inc"},
    )
    contact = created["contactInfo"]
    assert (contact["name"], contact["type"], contact["company"]) == ("Linus", "lead", "Kernel Inc")
    assert created["returnMessage"]["messageType"] == "success"

    mine = await _call(demo, "findContact", user=alice, phone_number="+14155550199")
    assert [c["id"] for c in mine["matchedContactInfo"]] == [contact["id"], "createNewContact"]
    theirs = await _call(demo, "findContact", user=bob, phone_number="+14155550199")
    assert [c["id"] for c in theirs["matchedContactInfo"]] == ["createNewContact"]
    assert (await _call(demo, "findContactWithName", user=bob, name="linus"))[
        "matchedContactInfo"
    ] == []


async def test_create_contact_without_a_name_fails(demo: ConnectorView, alice: User) -> None:
    result = await _call(demo, "createContact", user=alice, phone_number="+1", new_contact_name=" ")
    assert result.get("contactInfo") is None
    assert result["returnMessage"]["messageType"] == "warning"


# ------------------------------------------------------------------ calls


async def test_log_format_is_plain_text(demo: ConnectorView) -> None:
    assert await demo.call_positional("getLogFormatType", "demo", None) == "text/plain"


async def test_call_log_round_trip(demo: ConnectorView, alice: User) -> None:
    log_id = await _log_call(demo, alice)

    got = await _call(
        demo,
        "getCallLog",
        user=alice,
        call_log_id=log_id,
        telephony_session_id="t-1",
        contact_id="sample-ada",
    )
    info = got["callLogInfo"]
    assert info["subject"] == "Inbound call from Ada"
    assert info["note"] == "Asked about pricing"
    assert info["fullBody"] == "Note: Asked about pricing\nDuration: 60 seconds"
    assert info["dispositions"] == {}
    raw = info["fullLogResponse"]
    assert (raw["id"], raw["contactId"], raw["sessionId"]) == (log_id, "sample-ada", "s-1")
    assert raw["fields"] == {"outcome": "connected"}


async def test_call_subject_follows_direction_and_custom_subject(
    demo: ConnectorView, alice: User
) -> None:
    outbound = await _log_call(
        demo,
        alice,
        call_log={"sessionId": "s-2", "direction": "Outbound"},
        contact_info={"id": "x", "phoneNumber": "+1650", "name": ""},
    )
    custom = await _log_call(demo, alice, call_log={**INBOUND_CALL, "customSubject": "Renewal"})
    subjects = []
    for log_id in (outbound, custom):
        got = await _call(demo, "getCallLog", user=alice, call_log_id=log_id)
        subjects.append(got["callLogInfo"]["subject"])
    assert subjects == ["Outbound call to +1650", "Renewal"]


async def test_update_call_log_writes_composed_body_and_subject(
    demo: ConnectorView, alice: User
) -> None:
    log_id = await _log_call(demo, alice)
    existing = {"id": "t-1", "sessionId": "s-1", "thirdPartyLogId": log_id, "userId": alice.id}
    updated = await _call(
        demo,
        "updateCallLog",
        user=alice,
        existing_call_log=existing,
        subject="Pricing call",
        note="Sent a quote",
        composed_log_details="Note: Sent a quote\nRecording: https://r",
        recording_link="https://r",
        legs=[],
    )
    assert updated["updatedNote"] == "Note: Sent a quote\nRecording: https://r"

    info = (await _call(demo, "getCallLog", user=alice, call_log_id=log_id))["callLogInfo"]
    assert (info["subject"], info["note"]) == ("Pricing call", "Sent a quote")
    assert info["fullBody"] == "Note: Sent a quote\nRecording: https://r"


async def test_update_without_subject_keeps_it(demo: ConnectorView, alice: User) -> None:
    log_id = await _log_call(demo, alice)
    await _call(
        demo,
        "updateCallLog",
        user=alice,
        existing_call_log={"thirdPartyLogId": log_id},
        composed_log_details="new body",
    )
    info = (await _call(demo, "getCallLog", user=alice, call_log_id=log_id))["callLogInfo"]
    assert (info["subject"], info["note"], info["fullBody"]) == (
        "Inbound call from Ada",
        "Asked about pricing",
        "new body",
    )


async def test_dispositions_are_stored(demo: ConnectorView, alice: User) -> None:
    log_id = await _log_call(demo, alice)
    result = await _call(
        demo,
        "upsertCallDisposition",
        user=alice,
        existing_call_log={"thirdPartyLogId": log_id},
        dispositions={"outcome": "voicemail"},
    )
    assert result["logId"] == log_id
    info = (await _call(demo, "getCallLog", user=alice, call_log_id=log_id))["callLogInfo"]
    assert info["dispositions"] == {"outcome": "voicemail"}


async def test_users_cannot_reach_each_others_call_logs(
    demo: ConnectorView, alice: User, bob: User
) -> None:
    log_id = await _log_call(demo, alice)
    link = {"thirdPartyLogId": log_id}

    got = await _call(demo, "getCallLog", user=bob, call_log_id=log_id)
    updated = await _call(
        demo,
        "updateCallLog",
        user=bob,
        existing_call_log=link,
        composed_log_details="hijacked",
        subject="hijacked",
    )
    disposed = await _call(
        demo,
        "upsertCallDisposition",
        user=bob,
        existing_call_log=link,
        dispositions={"outcome": "x"},
    )

    assert "callLogInfo" not in got
    assert got["returnMessage"]["message"] == "Call log not found"
    assert "updatedNote" not in updated
    assert updated["returnMessage"]["message"] == "Call log not found"
    assert "logId" not in disposed
    info = (await _call(demo, "getCallLog", user=alice, call_log_id=log_id))["callLogInfo"]
    assert info["subject"] == "Inbound call from Ada"
    assert info["dispositions"] == {}


@pytest.mark.parametrize("log_id", ["999", "not-a-number", None])
async def test_unknown_call_log_ids_are_not_found(
    demo: ConnectorView, alice: User, log_id: Any
) -> None:
    got = await _call(demo, "getCallLog", user=alice, call_log_id=log_id)
    assert got["returnMessage"]["messageType"] == "warning"


# ------------------------------------------------------------------ messages


def _sms(text: str, when: str, direction: str = "Inbound") -> dict[str, Any]:
    return {
        "id": when,
        "type": "SMS",
        "direction": direction,
        "subject": text,
        "creationTime": when,
        "from": {"phoneNumber": "+16505550100"},
    }


async def _body(core: AppConnect, log_id: str) -> dict[str, Any]:
    from appconnect.connectors.demo.models import DemoActivity

    async with core.runtime.db.session() as session:
        row = await session.get(DemoActivity, int(log_id))
        assert row is not None
        return row.to_dict()


async def test_message_log_lists_messages_in_order(
    core: AppConnect, demo: ConnectorView, alice: User
) -> None:
    created = await _call(
        demo,
        "createMessageLog",
        user=alice,
        contact_info=CONTACT,
        message=_sms("Hi", "2026-01-05T10:00:00Z"),
        correspondents=[],
        additional_submission={"followUp": True},
        recording_link=None,
    )
    log_id = str(created["logId"])
    link = {"id": "m-2", "thirdPartyLogId": log_id, "conversationLogId": "c-1"}
    updated = await _call(
        demo,
        "updateMessageLog",
        user=alice,
        contact_info=CONTACT,
        existing_message_log=link,
        image_link="https://img",
        message=_sms("Hello back", "2026-01-05T10:01:00Z", "Outbound"),
    )
    assert isinstance(updated, dict)
    assert "returnMessage" not in updated

    record = await _body(core, log_id)
    assert record["subject"] == "SMS conversation with Ada"
    assert record["fields"] == {"followUp": True}
    assert record["body"].splitlines() == [
        "[2026-01-05T10:00:00Z Inbound] SMS: Hi",
        "[2026-01-05T10:01:00Z Outbound] SMS: Hello back",
        "  image: https://img",
    ]


async def test_shared_sms_is_stored_as_composed(
    core: AppConnect, demo: ConnectorView, alice: User
) -> None:
    first = {"subject": "Shared SMS with Ada", "body": "Conversation (1 message)\n- Hi"}
    created = await _call(
        demo, "createMessageLog", user=alice, contact_info=CONTACT, shared_sms_log_content=first
    )
    log_id = str(created["logId"])
    second = {"subject": "Shared SMS with Ada", "body": "Conversation (2 messages)\n- Hi\n- Yo"}
    await _call(
        demo,
        "updateMessageLog",
        user=alice,
        contact_info=CONTACT,
        existing_message_log={"thirdPartyLogId": log_id},
        shared_sms_log_content=second,
    )
    record = await _body(core, log_id)
    assert (record["subject"], record["body"]) == (first["subject"], second["body"])


async def test_users_cannot_append_to_each_others_message_logs(
    core: AppConnect, demo: ConnectorView, alice: User, bob: User
) -> None:
    created = await _call(
        demo, "createMessageLog", user=alice, contact_info=CONTACT, message=_sms("Hi", "t1")
    )
    log_id = str(created["logId"])
    result = await _call(
        demo,
        "updateMessageLog",
        user=bob,
        existing_message_log={"thirdPartyLogId": log_id},
        message=_sms("intrusion", "t2"),
    )
    assert result["returnMessage"]["message"] == "Message log not found"
    assert (await _body(core, log_id))["body"] == "[t1 Inbound] SMS: Hi"
    # A message log is not a call log either.
    got = await _call(demo, "getCallLog", user=alice, call_log_id=log_id)
    assert "callLogInfo" not in got
