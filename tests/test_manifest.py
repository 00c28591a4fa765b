"""Tests for the connector manifest module (spec manifest.md §2.3, §14, §16)."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from appconnect.manifest import (
    Manifest,
    ManifestError,
    load_manifest,
    load_release_notes,
    merge_release_notes,
    validate_platform,
)

NIMBUS_PATH = Path(__file__).parent / "data" / "manifests" / "nimbus.json"


@pytest.fixture
def nimbus_raw() -> dict[str, Any]:
    """The spec's §16 example exactly as written on disk."""
    data: dict[str, Any] = json.loads(NIMBUS_PATH.read_text(encoding="utf-8"))
    return data


def _minimal(**platform_overrides: Any) -> dict[str, Any]:
    """A one-platform manifest valid under every rule; overrides replace (or with None, drop)
    platform keys so each test states only the field it breaks."""
    platform: dict[str, Any] = {
        "name": "p",
        "auth": {"type": "oauth", "oauth": {"authUrl": "https://crm/auth", "clientId": "id"}},
    }
    for key, value in platform_overrides.items():
        if value is None:
            platform.pop(key, None)
        else:
            platform[key] = value
    return {"author": {"name": "Acme"}, "platforms": {"p": platform}}


def _write(tmp_path: Path, data: Any, name: str = "manifest.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the §16 example


def test_spec_example_loads_unchanged_without_warnings(
    nimbus_raw: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="appconnect.manifest"):
        manifest = load_manifest(NIMBUS_PATH)
    assert caplog.records == []
    assert manifest.warnings == ()
    assert manifest.data == nimbus_raw
    assert manifest.source == str(NIMBUS_PATH)
    assert manifest.version == "2.3.0"
    assert list(manifest.platforms) == ["nimbus", "nimbusKey"]
    assert all(validate_platform(nimbus_raw, key) == [] for key in nimbus_raw["platforms"])


def test_served_without_overrides_round_trips(nimbus_raw: dict[str, Any]) -> None:
    manifest = load_manifest(NIMBUS_PATH)
    served = manifest.served()
    assert served == nimbus_raw
    assert json.loads(json.dumps(served)) == nimbus_raw
    served["platforms"]["nimbus"]["auth"]["oauth"]["clientId"] = "changed"
    assert manifest.data == nimbus_raw, "served() must be a deep copy"


def test_served_applies_overrides_to_a_copy(nimbus_raw: dict[str, Any]) -> None:
    manifest = load_manifest(NIMBUS_PATH)
    served = manifest.served(
        override_app_server="https://override.example",
        override_server_side_logging_server="https://ssl.override.example",
    )
    assert served["serverUrl"] == "https://override.example"
    assert served["platforms"]["nimbus"]["serverSideLogging"]["url"] == (
        "https://ssl.override.example"
    )
    assert "serverSideLogging" not in served["platforms"]["nimbusKey"]
    # Everything else is untouched, and the stored manifest is not mutated.
    expected = copy.deepcopy(nimbus_raw)
    expected["serverUrl"] = "https://override.example"
    expected["platforms"]["nimbus"]["serverSideLogging"]["url"] = "https://ssl.override.example"
    assert served == expected
    assert manifest.data == nimbus_raw


def test_served_treats_empty_overrides_as_unset(nimbus_raw: dict[str, Any]) -> None:
    served = load_manifest(NIMBUS_PATH).served(
        override_app_server="", override_server_side_logging_server=""
    )
    assert served == nimbus_raw


def test_platform_and_auth_fields() -> None:
    manifest = load_manifest(NIMBUS_PATH)
    platform = manifest.platform("nimbus")
    assert platform is not None and platform["displayName"] == "Nimbus CRM"
    assert manifest.platform("unknown") is None
    fields = manifest.auth_fields("nimbusKey")
    assert [f["const"] for f in fields] == ["apiKey", "workspaceId", "nimbusUserId"]
    assert fields[1]["managedScope"] == "account" and fields[2]["managedFieldType"] == "dynamic"
    assert manifest.auth_fields("nimbus") == []
    assert manifest.auth_fields("unknown") == []


def test_unknown_keys_are_preserved() -> None:
    data = _minimal(**{"x-vendor": {"nested": [1, {"a": None}]}, "disableDisposition": True})
    data["x-top"] = "kept"
    manifest = load_manifest(data)
    assert manifest.served() == data


def test_mapping_source_is_copied() -> None:
    data = _minimal()
    manifest = load_manifest(data, name="default")
    data["platforms"]["p"]["name"] = "mutated"
    assert manifest.platforms["p"]["name"] == "p"
    assert manifest.source == "default"


def test_version_absent_or_not_a_string() -> None:
    assert load_manifest(_minimal()).version is None
    assert Manifest(data={"version": 2}).version is None


# ------------------------------------------------------------------ reference rules 1-15

RULE_CASES: list[tuple[str, Any, list[str]]] = [
    ("1 none", None, ["connectorManifest is required"]),
    ("1 empty string", "", ["connectorManifest is required"]),
    ("2 missing", {}, ["connectorManifest.platforms is required"]),
    ("2 null", {"platforms": None}, ["connectorManifest.platforms is required"]),
    ("3 absent", {"platforms": {}}, ['Platform "p" not found in manifest']),
    ("3 null", {"platforms": {"p": None}}, ['Platform "p" not found in manifest']),
    ("4", _minimal(auth=None), ["platform.auth is required"]),
    ("5", _minimal(auth={}), ["platform.auth.type is required"]),
    (
        "6",
        _minimal(auth={"type": "OAuth"}),
        ["platform.auth.oauth configuration is required for oauth type"],
    ),
    (
        "7",
        _minimal(auth={"type": "oauth", "oauth": {"clientId": "id"}}),
        ["platform.auth.oauth.authUrl is required"],
    ),
    (
        "8",
        _minimal(auth={"type": "oauth", "oauth": {"authUrl": "u", "clientId": ""}}),
        ["platform.auth.oauth.clientId is required"],
    ),
    (
        "9",
        _minimal(auth={"type": "APIKEY", "oauth": {}}),
        ["platform.auth.apiKey configuration is required for apiKey type"],
    ),
    (
        "10",
        _minimal(environment={"url": "https://crm"}),
        ["platform.environment.type is required when environment is specified"],
    ),
    (
        "11 empty",
        _minimal(environment={"type": "Selectable", "selections": []}),
        ["platform.environment.selections is required for selectable environment type"],
    ),
    (
        "11 missing",
        _minimal(environment={"type": "selectable"}),
        ["platform.environment.selections is required for selectable environment type"],
    ),
    ("12", _minimal(name=""), ["platform.name is required"]),
    ("13", _minimal(settings={"id": "s"}), ["platform.settings must be an array if specified"]),
    (
        "14",
        _minimal(contactTypes="person"),
        ["platform.contactTypes must be an array if specified"],
    ),
    ("15", _minimal(override={"a": 1}), ["platform.override must be an array if specified"]),
]


@pytest.mark.parametrize(
    ("manifest", "expected"), [case[1:] for case in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_each_rule_has_the_reference_text(manifest: Any, expected: list[str]) -> None:
    assert validate_platform(manifest, "p") == expected


def test_rules_accumulate_in_reference_order() -> None:
    manifest = _minimal(
        name=None,
        auth={"type": "oauth", "oauth": {}},
        environment={"type": "selectable"},
        settings="x",
        contactTypes={},
        override=1,
    )
    assert validate_platform(manifest, "p") == [
        "platform.auth.oauth.authUrl is required",
        "platform.auth.oauth.clientId is required",
        "platform.environment.selections is required for selectable environment type",
        "platform.name is required",
        "platform.settings must be an array if specified",
        "platform.contactTypes must be an array if specified",
        "platform.override must be an array if specified",
    ]


def test_presence_uses_javascript_truthiness() -> None:
    # Empty containers are present: {} platform/auth/environment are checked further.
    assert validate_platform({"platforms": {"p": {}}}, "p") == [
        "platform.auth is required",
        "platform.name is required",
    ]
    assert validate_platform(_minimal(environment={}), "p") == [
        "platform.environment.type is required when environment is specified"
    ]
    # Falsy values (0, False, "", None) are missing; empty arrays are valid arrays.
    assert validate_platform(_minimal(name=0), "p") == ["platform.name is required"]
    auth = {"type": "apiKey", "apiKey": False}
    assert validate_platform(_minimal(auth=auth), "p") == [
        "platform.auth.apiKey configuration is required for apiKey type"
    ]
    falsy_shapes = _minimal(settings="", contactTypes=False, override=0)
    assert validate_platform(falsy_shapes, "p") == []
    empty_arrays = _minimal(settings=[], contactTypes=[], override=[])
    assert validate_platform(empty_arrays, "p") == []


def test_lenient_where_the_reference_is() -> None:
    # Unknown auth/environment types, a mismatched name and a dict apiKey pass the rules.
    manifest = _minimal(
        name="other",
        auth={"type": "basic"},
        environment={"type": "cloud"},
    )
    assert validate_platform(manifest, "p") == []
    assert validate_platform(_minimal(auth={"type": "apiKey", "apiKey": {}}), "p") == []


# ------------------------------------------------------------------ loader errors


def test_broken_manifest_error_names_field_path_and_file(
    tmp_path: Path, nimbus_raw: dict[str, Any]
) -> None:
    del nimbus_raw["platforms"]["nimbus"]["auth"]["oauth"]["clientId"]
    path = _write(tmp_path, nimbus_raw, "nimbus-broken.json")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.errors == [
        "platforms.nimbus.auth.oauth.clientId: platform.auth.oauth.clientId is required"
    ]
    assert str(path) in str(info.value)
    assert "platforms.nimbus.auth.oauth.clientId" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_loader_reports_every_platform_and_every_error(nimbus_raw: dict[str, Any]) -> None:
    nimbus_raw["platforms"]["nimbus"]["environment"]["selections"] = []
    nimbus_raw["platforms"]["nimbus"]["settings"] = {}
    del nimbus_raw["platforms"]["nimbusKey"]["auth"]["apiKey"]
    nimbus_raw["platforms"]["ghost"] = None
    with pytest.raises(ManifestError) as info:
        load_manifest(nimbus_raw, name="default")
    assert info.value.errors == [
        "platforms.nimbus.environment.selections: "
        "platform.environment.selections is required for selectable environment type",
        "platforms.nimbus.settings: platform.settings must be an array if specified",
        "platforms.nimbusKey.auth.apiKey: "
        "platform.auth.apiKey configuration is required for apiKey type",
        'platforms.ghost: Platform "ghost" not found in manifest',
    ]
    assert "default" in str(info.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "platforms: connectorManifest.platforms is required"),
        ({"platforms": ""}, "platforms: connectorManifest.platforms is required"),
        ({"platforms": ["p"]}, "platforms: must be an object keyed by platform"),
    ],
)
def test_loader_document_level_errors(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(data)
    assert info.value.errors == [expected]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"platforms": ', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not an array"),
        ("null", "must be a JSON object, not null"),
        ('{"version": NaN}', "NaN is not valid JSON"),
    ],
)
def test_unreadable_json_names_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)
    assert info.value.source == str(path)


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ManifestError, match="cannot read file") as info:
        load_manifest(path, name="default")
    assert str(path) in str(info.value) and "default" in str(info.value)


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_minimal()).encode())
    assert load_manifest(path).platforms["p"]["name"] == "p"


# ------------------------------------------------------------------ loader warnings (§14.2)


def test_warnings_only_manifest_still_loads(caplog: pytest.LogCaptureFixture) -> None:
    data = _minimal(
        name="other",
        auth={"type": "basic"},
        environment={"type": "cloud"},
        settings=[{"type": "section", "items": [{"id": "ok"}, {"type": "boolean"}]}],
        page={"callLog": {"additionalFields": [{"title": "No const"}]}},
        serverSideLogging={"additionalFields": [{"const": "ok"}, {"type": "string"}]},
    )
    data["platforms"]["p"]["auth"]["apiKey"] = {
        "page": {
            "content": [{"const": "u", "managedFieldType": "dynamic", "managedScope": "account"}]
        }
    }
    del data["author"]
    with caplog.at_level(logging.WARNING, logger="appconnect.manifest"):
        manifest = load_manifest(data, name="default")
    expected = [
        "author.name is missing",
        'platforms.p.name is "other", expected the platform key "p"',
        'platforms.p.auth.type "basic" is neither oauth nor apiKey',
        'platforms.p.environment.type "cloud" is not fixed, dynamic or selectable',
        "platforms.p.settings[0].id is missing",
        "platforms.p.settings[0].items[1].id is missing",
        "platforms.p.page.callLog.additionalFields[0].const is missing",
        "platforms.p.serverSideLogging.additionalFields[1].const is missing",
        'platforms.p.auth.apiKey.page.content[0].managedScope is "account"',
    ]
    assert len(manifest.warnings) == len(expected)
    for warning, fragment in zip(manifest.warnings, expected, strict=True):
        assert fragment in warning
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [f"default: {w}" for w in manifest.warnings]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert manifest.served() == data


def test_empty_platforms_loads_with_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="appconnect.manifest"):
        manifest = load_manifest({"author": {"name": "A"}, "platforms": {}})
    assert manifest.platforms == {}
    assert "platforms is empty" in caplog.text


# ------------------------------------------------------------------ release notes

CORE_NOTES: dict[str, Any] = {
    "1.7.42": {"global": [{"type": "Fix", "description": "core fix"}]},
    "1.7.41": {"global": [{"type": "New", "description": "core only"}]},
    "1.7.40": {"global": None},
}


def test_merge_release_notes() -> None:
    connector = {
        "1.7.42": {"nimbus": [{"type": "Better", "description": "faster lookups"}]},
        "1.7.40": {"nimbus": []},
        "0.9.0": {"nimbus": [{"type": "New", "description": "first"}]},
    }
    merged = merge_release_notes(CORE_NOTES, connector)
    assert merged == {
        "1.7.42": {
            "global": [{"type": "Fix", "description": "core fix"}],
            "nimbus": [{"type": "Better", "description": "faster lookups"}],
        },
        "1.7.40": {"global": [], "nimbus": []},
        "0.9.0": {"global": [], "nimbus": [{"type": "New", "description": "first"}]},
    }
    merged["1.7.42"]["global"].clear()
    assert CORE_NOTES["1.7.42"]["global"], "the merge must not alias the core notes"


def test_merge_release_notes_connector_global_wins() -> None:
    own_global = [{"type": "New", "description": "connector global"}]
    merged = merge_release_notes(CORE_NOTES, {"1.7.42": {"global": own_global}})
    assert merged == {"1.7.42": {"global": own_global}}


def test_load_release_notes(tmp_path: Path) -> None:
    path = _write(tmp_path, CORE_NOTES, "releaseNotes.json")
    assert load_release_notes(path) == CORE_NOTES
    assert load_release_notes(CORE_NOTES) == CORE_NOTES
    with pytest.raises(ManifestError, match=r"1\.7\.1: must be an object"):
        load_release_notes({"1.7.1": [{"type": "Fix", "description": "x"}]})
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ManifestError, match="invalid release notes") as info:
        load_release_notes(broken)
    assert str(broken) in str(info.value)
