"""Response mappings and template contexts (spec §5, §8): defaults and JS-truthiness fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from appconnect.connectors.proxy import mapping
from appconnect.connectors.proxy.context import build_context, parsed_phone_number, start_and_end
from appconnect.connectors.proxy.template import UNDEFINED
from appconnect.store.users import User


def test_contact_list_defaults_and_fallbacks() -> None:
    data = [
        {"id": 1, "name": "A", "phone": "+1", "type": "Lead", "title": "T", "company": "C",
         "createdDate": "d", "mostRecentActivityDate": "m", "additionalInfo": {"k": 1}},
        {"id": 0, "name": 0, "phone": "", "type": "", "additionalInfo": {}},
        {"name": "no id"},
    ]  # fmt: skip
    assert mapping.contact_list({"listPath": "", "item": {"idPath": ""}}, data) == [
        {"id": 1, "name": "A", "phone": "+1", "type": "Lead", "title": "T", "company": "C",
         "createdDate": "d", "mostRecentActivityDate": "m", "additionalInfo": {"k": 1}},
        {"id": 0, "name": "", "type": "Contact", "title": "", "company": "",
         "additionalInfo": {}},
        {"name": "no id", "type": "Contact", "title": "", "company": "", "additionalInfo": None},
    ]  # fmt: skip


def test_contact_list_edge_cases() -> None:
    assert mapping.contact_list(None, [{"id": 1}]) == []  # no mapping: request sent, no results
    assert mapping.contact_list({"listPath": "body.none"}, {}) == []
    with pytest.raises(mapping.MappingError):
        mapping.contact_list({"listPath": "body.x"}, {"x": {"id": 1}})


def test_created_contact_needs_an_id_path() -> None:
    assert mapping.created_contact({}, {"id": 1}) is None
    assert mapping.created_contact({"idPath": ""}, {"id": 1}) is None
    assert mapping.created_contact({"idPath": "body.id"}, {"id": 1, "name": "N", "type": "P"}) == {
        "id": 1,
        "name": "N",
        "type": "P",
    }


@pytest.mark.parametrize(
    ("map_", "data", "expected"),
    [
        (None, {"id": 1}, None),
        ({}, {"id": 9001}, "9001"),
        ({"idPath": ""}, {"id": 1.5}, "1.5"),
        ({"idPath": "body.data.id"}, {"data": {"id": "x"}}, "x"),
        ({}, {"id": 0}, None),
        ({}, "", None),
    ],
)
def test_log_id(map_: Any, data: Any, expected: Any) -> None:
    assert mapping.log_id(map_, data) == expected


def test_call_log_info_defaults() -> None:
    data = {"subject": "S", "note": "N"}
    assert mapping.call_log_info(None, data) == {
        "subject": "S",
        "note": "N",
        "fullBody": "N",
        "fullLogResponse": data,
    }


def test_user_info_mapping() -> None:
    result = mapping.user_info(
        {
            "idPath": "body.id",
            "timezoneNamePath": "body.tz",
            "overridingApiKeyPath": "body.none",
            "platformAdditionalInfoPaths": {"host": "hostname", "region": "body.region"},
        },
        {"id": 5, "tz": "", "region": "eu"},
        additional_info={"apiKey": "k", "password": "secret", "region": "us"},
        api_key="k",
        hostname="h.example",
        platform="crm",
    )
    assert result == {
        "successful": True,
        "platformUserInfo": {
            "id": "5-crm",
            "name": 5,
            "platformAdditionalInfo": {"apiKey": "k", "region": "eu", "host": "h.example"},
        },
        "returnMessage": {"message": "Connected to crm.", "messageType": "success", "ttl": 1000},
    }
    bare = mapping.user_info({}, {}, additional_info=UNDEFINED, api_key=UNDEFINED,
                             hostname=UNDEFINED, platform="crm")  # fmt: skip
    assert bare["platformUserInfo"] == {"id": "undefined-crm"}


def test_user_list_and_license() -> None:
    assert mapping.user_list({"idPath": "id"}, {"users": [{"id": 1}]}) == []  # no listPath
    users = mapping.user_list({"listPath": "body.users"}, {"users": [{"id": 1, "name": "A"}]})
    assert users == [{"id": 1, "name": "A"}]
    assert mapping.license_status({}, {"isLicenseValid": True, "licenseStatus": "Pro"}) == {
        "isLicenseValid": True,
        "licenseStatus": "Pro",
    }


# -- contexts --------------------------------------------------------------------------------


def test_parsed_phone_number() -> None:
    parsed = parsed_phone_number("+16505550100")
    assert parsed["valid"] is True and parsed["regionCode"] == "US" and parsed["countryCode"] == 1
    assert parsed["type"] == "fixed-line-or-mobile"
    assert parsed["number"] == {
        "input": "+16505550100",
        "e164": "+16505550100",
        "international": "+1 650-555-0100",
        "national": "(650) 555-0100",
        "rfc3966": "tel:+1-650-555-0100",
        "significant": "6505550100",
    }
    assert parsed_phone_number(" 16505550100")["number"]["e164"] == "+16505550100"
    assert parsed_phone_number("101") == {
        "valid": False,
        "possible": False,
        "number": {"input": "101"},
    }


def test_start_and_end_times() -> None:
    assert start_and_end("2024-05-01T15:04:05Z", 125) == (
        "2024-05-01T15:04:05.000Z",
        "2024-05-01T15:06:10.000Z",
    )
    assert start_and_end(1714575845123, "x") == (
        "2024-05-01T15:04:05.123Z",
        "2024-05-01T15:04:05.123Z",
    )
    assert start_and_end("not a date", 5) == (None, None)
    start, _ = start_and_end(None, 0)
    assert start is not None and start.endswith("Z")


def test_context_holds_only_the_operation_inputs_and_the_user() -> None:
    user = User(
        id="u_77-nimbus-x",
        platform="nimbus",
        access_token="tok",
        token_expiry=datetime(2024, 1, 1, tzinfo=UTC),
        platform_additional_info={"proxyId": "px"},
    )
    context = build_context(
        "createCallLog",
        {
            "contact_info": {"id": "p", "name": "Jane"},
            "call_log": {"direction": "Outbound", "startTime": "2024-05-01T15:04:05Z"},
            "is_from_sscl": False,
            "note": None,
            "proxy_config": {"secretKey": "must not leak"},
            "settings": {"APP_SERVER_SECRET_KEY": "nope"},
        },
        user=user,
        auth_header="Basic x",
        secret_key="s3cr3t",
    )
    assert context["user"]["id"] == "u_77"
    assert context["user"]["accessToken"] == context["apiKey"] == "tok"
    assert context["subject"] == "Outbound Call to Jane"
    assert context["isFromSSCL"] is False
    assert context["note"] is None  # sent as null: stays null
    assert context["aiNote"] is UNDEFINED  # not sent: missing
    assert context["ringSenseSummary"] == ""
    assert context["secretKey"] == "s3cr3t" and context["authHeader"] == "Basic x"
    assert "proxyConfig" not in context and "settings" not in context
    assert set(context["user"]) == {
        "accessToken", "id", "hostname", "timezoneName", "timezoneOffset", "platform",
        "platformAdditionalInfo", "refreshToken", "tokenExpiry",
    }  # fmt: skip


def test_get_user_info_context_has_an_empty_user() -> None:
    context = build_context(
        "getUserInfo",
        {"api_key": "k", "additional_info": {"a": 1}, "hostname": "h"},
        user=None,
        auth_header="",
        secret_key=None,
    )
    assert context["user"]["accessToken"] == "k" and context["user"]["id"] is UNDEFINED
    assert context["additionalInfo"] == {"a": 1} and context["secretKey"] is UNDEFINED
