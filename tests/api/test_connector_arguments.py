"""Connectors receive exactly the reference's arguments: a recording connector vs the spec tables.

A reference-shaped connector (every interface takes ``**kwargs`` and records them) is driven
through the real routes. For each interface the names it received, camelCased, are compared with
the input table of ``../shared/spec/connector-interface.md``: a request carrying every optional
key must deliver every documented argument; a request without them must deliver all but those,
and each left-out argument must be one the spec types as ``| undefined``; a key sent as ``null``
arrives as ``None``. Skipped when ``../shared`` is absent (a user's clone).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.api._call_log_helpers import Harness, log_body, running_app, sqlite_url
from tests.api._message_log_helpers import sms, submission

from appconnect.connectors.base import Connector
from appconnect.connectors.interfaces import wire_name

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "connector-interface.md"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="needs ../shared/spec")

_WIRE = {"ring_sense_ai_score": "ringSenseAIScore", "is_from_sscl": "isFromSSCL",
         "shared_sms_log_content": "sharedSMSLogContent", "is_from_mcp": "isFromMCP"}
_RING_SENSE = {"ringSenseTranscript", "ringSenseSummary", "ringSenseAIScore",
               "ringSenseBulletedSummary", "ringSenseLink"}


def _section(heading: str) -> str:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index(f"### {heading}")
    end = text.find("\n### ", start + 1)
    return text[start:end]


def spec_inputs(heading: str, label: str = "**Inputs**") -> dict[str, str]:
    """Argument name -> documented type, from a section's input table or inline list."""
    section = _section(heading)
    at = section.index(label)
    line = section[at:].split("\n\n", 1)[0].replace("\n", " ")
    if ": `" in line:  # inline: "**Inputs (normal)**: `user`, `contactInfo`, ... ."
        listed = re.sub(r"\([^)]*\)", "", re.split(r"[.;] ", line.split(":", 1)[1])[0])
        return {name: "" for name in re.findall(r"`(\w+)`", listed)}
    names: dict[str, str] = {}
    for row in section[at:].split("\n\n", 2)[1].splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        if cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                names[name] = cells[1] if len(cells) > 1 else ""
    return names


def received_names(kwargs: dict[str, Any]) -> set[str]:
    return {_WIRE.get(k, wire_name(k)) for k in kwargs}


class Recorder(Connector):
    """Reference-shaped: every interface takes the whole argument object and records it."""

    platform = "testcrm"
    auth_type = "apiKey"

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, Any]]] = {}

    def _seen(self, name: str, kwargs: dict[str, Any]) -> None:
        self.calls.setdefault(name, []).append(kwargs)

    def last(self, name: str) -> dict[str, Any]:
        return self.calls[name][-1]

    def get_auth_type(self, **kwargs: Any) -> str:
        self._seen("getAuthType", kwargs)
        return "apiKey"

    def get_basic_auth(self, **kwargs: Any) -> str:
        self._seen("getBasicAuth", kwargs)
        return "YWJjOg=="

    def get_log_format_type(self, platform: str, proxy_config: Any) -> str:
        return "text/plain"

    async def get_user_info(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getUserInfo", kwargs)
        return {"successful": True, "platformUserInfo": {"id": "u1", "name": "Ann"}}

    async def post_save_user_info(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("postSaveUserInfo", kwargs)
        return dict(kwargs["user_info"])

    async def unauthorize(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("unAuthorize", kwargs)
        return {"returnMessage": {"message": "bye"}}

    async def auth_validation(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("authValidation", kwargs)
        return {"successful": True}

    async def get_license_status(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getLicenseStatus", kwargs)
        return {"isLicenseValid": True, "licenseStatus": "Basic", "licenseStatusDescription": ""}

    async def find_contact(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("findContact", kwargs)
        return {"successful": True, "matchedContactInfo": []}

    async def find_contact_with_name(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("findContactWithName", kwargs)
        return {"successful": True, "matchedContactInfo": []}

    async def create_contact(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("createContact", kwargs)
        return {"contactInfo": {"id": "c-9", "name": "New"}}

    async def create_call_log(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("createCallLog", kwargs)
        return {"logId": "act-1"}

    async def get_call_log(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getCallLog", kwargs)
        return {"callLogInfo": {"note": "", "fullBody": "", "fullLogResponse": {"id": "act-1"}}}

    async def update_call_log(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("updateCallLog", kwargs)
        return {}

    async def upsert_call_disposition(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("upsertCallDisposition", kwargs)
        return {"logId": "act-1"}

    async def create_message_log(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("createMessageLog", kwargs)
        return {"logId": "m-log-1"}

    async def update_message_log(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("updateMessageLog", kwargs)
        return {}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_app(sqlite_url(tmp_path), Recorder()) as harness:  # type: ignore[arg-type]
        yield harness


def rec(h: Harness) -> Recorder:
    assert isinstance(h.connector, Recorder)
    return h.connector


def check(
    kwargs: dict[str, Any], documented: dict[str, str], absent: Any = frozenset()
) -> None:
    """Received == documented - absent; every absent argument is one the spec allows absent."""
    assert received_names(kwargs) == set(documented) - absent
    for name in absent:
        assert "undefined" in documented[name], f"{name} may not be absent: {documented[name]}"


# -- calls ----------------------------------------------------------------------------------

CREATE_OPTIONAL = {"note", "additionalSubmission", "aiNote", "transcript", "voicemailLink",
                   "voicemailMessageId", *_RING_SENSE}
FULL_CREATE = {"note": "n", "additionalSubmission": {"a": 1}, "aiNote": "ai", "transcript": "t",
               "voicemailLink": "https://vm", "voicemailMessageId": "vm-1",
               "ringSenseTranscript": "rt", "ringSenseSummary": "rs", "ringSenseAIScore": 7,
               "ringSenseBulletedSummary": "rb", "ringSenseLink": "https://rs"}


async def test_create_call_log_full_absent_and_null(h: Harness) -> None:
    documented = spec_inputs("8.2 createCallLog")
    auth = await h.login()
    full = log_body("s-1", note=None) | FULL_CREATE
    await h.client.post("/callLog", json=full, headers=auth)
    check(rec(h).last("createCallLog"), documented)

    await h.client.post("/callLog", json=log_body("s-2", note=None), headers=auth)
    check(rec(h).last("createCallLog"), documented, CREATE_OPTIONAL)

    nulls = {key: None for key in CREATE_OPTIONAL}
    await h.client.post("/callLog", json=log_body("s-3", note=None) | nulls, headers=auth)
    kwargs = rec(h).last("createCallLog")
    # ``body.voicemailLink ?? logInfo.voicemail?.link``: null ?? undefined is undefined.
    check(kwargs, documented, {"voicemailLink", "voicemailMessageId"})
    assert all(kwargs[k] is None for k in ("note", "ai_note", "additional_submission",
                                           "transcript", "ring_sense_summary"))


UPDATE_OPTIONAL = {"recordingLink", "recordingDownloadLink", "voicemailLink", "voicemailMessageId",
                   "subject", "note", "startTime", "duration", "result", "aiNote", "transcript",
                   "additionalSubmission", *_RING_SENSE}


async def test_update_call_log_full_absent_and_null(h: Harness) -> None:
    create_types = spec_inputs("8.2 createCallLog")
    documented = {  # the RingSense row of 8.4 leaves the type blank: 8.2 gives it
        name: kind or create_types.get(name, "")
        for name, kind in spec_inputs("8.4 updateCallLog").items()
    }
    auth = await h.login()
    await h.client.post("/callLog", json=log_body("s-1"), headers=auth)
    full = {key: f"v-{key}" for key in UPDATE_OPTIONAL}
    full |= {"duration": 30, "legs": [], "additionalSubmission": {"a": 1}}
    await h.client.patch("/callLog", json={"sessionId": "s-1", **full}, headers=auth)
    check(rec(h).last("updateCallLog"), documented)

    await h.client.patch("/callLog", json={"sessionId": "s-1"}, headers=auth)
    kwargs = rec(h).last("updateCallLog")
    check(kwargs, documented, UPDATE_OPTIONAL)
    assert kwargs["legs"] == [] and kwargs["existing_call_log_details"] == {"id": "act-1"}

    await h.client.patch("/callLog", json={"sessionId": "s-1", "duration": None}, headers=auth)
    kwargs = rec(h).last("updateCallLog")
    check(kwargs, documented, UPDATE_OPTIONAL - {"duration"})
    assert kwargs["duration"] is None


async def test_get_call_log_and_disposition(h: Harness) -> None:
    auth = await h.login()
    await h.client.post("/callLog", json=log_body("s-1"), headers=auth)
    await h.client.get("/callLog?sessionIds=s-1&requireDetails=true", headers=auth)
    check(rec(h).last("getCallLog"), spec_inputs("8.3 getCallLog"))

    documented = spec_inputs("8.6 upsertCallDisposition")
    body = {"sessionId": "s-1", "dispositions": {"deals": "42"}}
    await h.client.put("/callDisposition", json=body, headers=auth)
    check(rec(h).last("upsertCallDisposition"), documented)
    await h.client.put("/callDisposition", json={"sessionId": "s-1"}, headers=auth)
    check(rec(h).last("upsertCallDisposition"), documented, {"dispositions"})


# -- messages -------------------------------------------------------------------------------


async def test_message_logs_normal_and_shared(h: Harness) -> None:
    auth = await h.login()
    body = submission([sms("m2", "second"), sms("m1", "first")],
                      owner=None, assignee={"name": "Agent B"})
    del body["logInfo"]["owner"]
    await h.client.post("/messageLog", json=body, headers=auth)
    created = rec(h).last("createMessageLog")
    create_types = spec_inputs("9.2 createMessageLog", "**Inputs (normal message)**")
    check(created, create_types, {"ownerName"})
    assert created["assignee_name"] == "Agent B"
    update_names = spec_inputs("9.3 updateMessageLog", "**Inputs (normal)**")
    # The inline list has no types: the create table's types apply to the shared names.
    check(rec(h).last("updateMessageLog"),
          {name: create_types.get(name, "") for name in update_names}, {"ownerName"})

    shared = submission([sms("s1")], conversation="shared", owner={"name": "Owner"})
    shared["logInfo"]["creationTime"] = "2026-07-14T03:00:00.000Z"
    await h.client.post("/messageLog", json=shared, headers=auth)
    check(rec(h).last("createMessageLog"),
          spec_inputs("9.2 createMessageLog", "**Inputs (shared SMS)**"))
    await h.client.post("/messageLog", json=shared, headers=auth)
    check(rec(h).last("updateMessageLog"),
          spec_inputs("9.3 updateMessageLog", "**Inputs (shared SMS)**"))


async def test_group_sms_message_id_and_existing_record(h: Harness) -> None:
    auth = await h.login()
    body = submission([sms("g2"), sms("g1")])
    body["logInfo"]["correspondents"].append({"phoneNumber": "+14155550777"})
    await h.client.post("/messageLog", json=body, headers=auth)
    assert rec(h).last("createMessageLog")["message"]["id"] == "g1-12345"
    updated = rec(h).last("updateMessageLog")
    assert updated["message"]["id"] == "g2-12345"
    existing = updated["existing_message_log"]
    assert set(existing) == {"id", "platform", "conversationId", "conversationLogId",
                             "thirdPartyLogId", "userId", "createdAt", "updatedAt"}
    assert existing["id"] == "g1-12345"


# -- contacts -------------------------------------------------------------------------------


async def test_contact_interfaces(h: Harness) -> None:
    auth = await h.login()
    documented = spec_inputs("7.1 findContact")
    await h.client.get("/contact?phoneNumber=%2B14155550100&overridingFormat=x", headers=auth)
    check(rec(h).last("findContact"), documented)
    await h.client.get("/contact?phoneNumber=%2B14155550101", headers=auth)
    check(rec(h).last("findContact"), documented, {"overridingFormat"})

    await h.client.get("/custom/contact/search?name=Ann", headers=auth)
    check(rec(h).last("findContactWithName"), spec_inputs("7.2 findContactWithName"))

    documented = spec_inputs("7.3 createContact")
    full = {"phoneNumber": "+14155550100", "newContactName": "Ann", "newContactType": "Lead",
            "additionalSubmission": {"x": 1}}
    await h.client.post("/contact", json=full, headers=auth)
    check(rec(h).last("createContact"), documented)
    await h.client.post("/contact", json={"phoneNumber": "+14155550100", "newContactName": "A"},
                        headers=auth)
    check(rec(h).last("createContact"), documented, {"newContactType", "additionalSubmission"})
    await h.client.post("/contact", json={**full, "newContactType": None}, headers=auth)
    assert rec(h).last("createContact")["new_contact_type"] is None


# -- auth -----------------------------------------------------------------------------------


async def test_api_key_login_and_session_interfaces(h: Harness) -> None:
    documented = spec_inputs("6.4 getUserInfo", "**Inputs (API-key login)**")
    login = {"platform": "testcrm", "apiKey": "k", "hostname": "crm.test", "proxyId": "p-1",
             "additionalInfo": {"apiKey": "k"}}
    assert (await h.client.post("/apiKeyLogin", json=login)).status_code == 200
    check(rec(h).last("getUserInfo"), documented)
    check(rec(h).last("getBasicAuth"), spec_inputs("6.3 getBasicAuth"))
    save_info = spec_inputs("6.10 postSaveUserInfo")
    assert received_names(rec(h).last("postSaveUserInfo")) == set(save_info) - {"oauthApp"}
    del login["hostname"], login["proxyId"]
    await h.client.post("/apiKeyLogin", json=login)
    check(rec(h).last("getUserInfo"), documented, {"hostname", "proxyId"})

    auth = await h.login()
    await h.client.get("/contact?phoneNumber=%2B14155550100", headers=auth)
    check(rec(h).last("getAuthType"), spec_inputs("6.1 getAuthType"))
    await h.client.get("/licenseStatus", headers=auth)
    check(rec(h).last("getLicenseStatus"), spec_inputs("10.1 getLicenseStatus"))
    await h.client.get("/authValidation", headers=auth)
    check(rec(h).last("authValidation"), spec_inputs("6.7 authValidation"))
    await h.client.post("/unAuthorize", headers=auth)
    check(rec(h).last("unAuthorize"), spec_inputs("6.6 unAuthorize"))


# -- settings, admin and appointments --------------------------------------------------------


class Extended(Recorder):
    async def refresh_user_info(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("refreshUserInfo", kwargs)
        return {"successful": True}

    async def on_update_user_settings(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("onUpdateUserSettings", kwargs)
        return {"successful": True}

    async def get_server_logging_settings(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getServerLoggingSettings", kwargs)
        return {}

    async def list_appointments(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("listAppointments", kwargs)
        return {"appointments": []}


async def test_settings_admin_and_appointment_interfaces(tmp_path: Path) -> None:
    connector = Extended()
    async with running_app(sqlite_url(tmp_path), connector) as h:  # type: ignore[arg-type]
        auth = await h.login()
        await h.client.post("/user/refreshInfo", headers=auth)
        check(connector.last("refreshUserInfo"), spec_inputs("6.5 refreshUserInfo"))

        documented = spec_inputs("10.6 onUpdateUserSettings")
        body = {"userSettings": {"a": {"value": 1}}}
        await h.client.post("/user/settings", json=body, headers=auth)
        check(connector.last("onUpdateUserSettings"), documented)
        await h.client.post("/user/settings", json={"settingKeysToRemove": ["a"]}, headers=auth)
        check(connector.last("onUpdateUserSettings"), documented, {"userSettings"})

        await h.client.get("/admin/serverLoggingSettings", headers=auth)
        check(connector.last("getServerLoggingSettings"),
              spec_inputs("10.4 getServerLoggingSettings"))

        documented = spec_inputs("11.3 listAppointments")
        query = "?startDate=2026-07-01&endDate=2026-07-31"
        await h.client.get(f"/appointments{query}", headers=auth)
        check(connector.last("listAppointments"), documented)
        await h.client.get("/appointments", headers=auth)
        check(connector.last("listAppointments"), documented, {"range"})


# -- OAuth login -----------------------------------------------------------------------------

TOKEN_URL = "https://crm.example/oauth/token"
REDIRECT = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html"


class OAuthRecorder(Recorder):
    auth_type = "oauth"

    async def get_oauth_info(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getOauthInfo", kwargs)
        return {"clientId": "cid", "clientSecret": "s", "accessTokenUri": TOKEN_URL,
                "redirectUri": REDIRECT}

    def get_overriding_oauth_option(self, **kwargs: Any) -> dict[str, Any]:
        self._seen("getOverridingOAuthOption", kwargs)
        return {}


async def test_oauth_callback_interfaces(settings: Any) -> None:
    from tests.fakes import FakeCrm
    from tests.support import serve

    from appconnect import ConnectorRegistry, create_app

    crm = FakeCrm()
    crm.on("POST", "/oauth/token",
           json={"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600})
    connector = OAuthRecorder()
    registry = ConnectorRegistry()
    registry.register_connector("testcrm", connector)
    app = create_app(registry, settings=settings, http_transport=crm.transport)
    user_info = spec_inputs("6.4 getUserInfo", "**Inputs (OAuth callback)**")
    oauth_info = {  # the combined proxy row of 6.2 leaves its type to 6.4's table
        name: kind or user_info.get(name, "")
        for name, kind in spec_inputs("6.2 getOauthInfo").items()
    }
    async with serve(app) as (client, _rt):
        callback = f"{REDIRECT}?code=abc&state=platform%3Dtestcrm%26hostname%3Dcrm.example"
        full = {"callbackUri": callback, "rcAccountId": "acc-1", "tokenUrl": TOKEN_URL,
                "proxyId": "p-1", "userEmail": "a@b.c", "apiUrl": "https://api", "username": "u"}
        reply = await client.get("/oauth-callback", params=full)
        assert reply.status_code == 200, reply.text
        check(connector.last("getOauthInfo"), oauth_info)
        check(connector.last("getUserInfo"), user_info)
        overriding = spec_inputs("6.9 getOverridingOAuthOption")
        check(connector.last("getOverridingOAuthOption"), overriding)
        check(connector.last("postSaveUserInfo"), spec_inputs("6.10 postSaveUserInfo"))

        await client.get("/oauth-callback", params={"callbackUri": callback})
        absent = {"rcAccountId", "tokenUrl", "proxyId", "userEmail"}
        check(connector.last("getOauthInfo"), oauth_info, absent)
        check(connector.last("getUserInfo"), user_info, {"apiUrl", "username", "proxyId",
                                                          "userEmail"})
