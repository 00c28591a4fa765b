"""Admin-over-user settings merge (spec http-auth-user-admin.md §6), table-driven."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appconnect.services.settings_merge import merge_user_settings

ABSENT = object()

# (case, admin entry or ABSENT, user entry or ABSENT, expected entry or ABSENT)
ENTRY_CASES: list[tuple[str, Any, Any, Any]] = [
    (
        "admin locks (customizable false)",
        {"value": "x", "customizable": False},
        {"value": "y"},
        {"value": "x", "customizable": False},
    ),
    ("admin locks (customizable missing)", {"value": "x"}, {"value": "y"}, {"value": "x"}),
    (
        "admin locks (customizable 0)",
        {"value": "x", "customizable": 0},
        {"value": "y"},
        {"value": "x", "customizable": 0},
    ),
    (
        "admin locks (customizable empty string)",
        {"value": "x", "customizable": ""},
        {"value": "y"},
        {"value": "x", "customizable": ""},
    ),
    (
        "admin locks, user unset",
        {"value": "x", "customizable": False},
        ABSENT,
        {"value": "x", "customizable": False},
    ),
    (
        "customizable, user set",
        {"value": "x", "customizable": True},
        {"value": "y", "defaultValue": "d"},
        {"customizable": True, "value": "y", "defaultValue": "d"},
    ),
    (
        "customizable truthy string",
        {"value": "x", "customizable": "yes"},
        {"value": "y"},
        {"customizable": True, "value": "y"},
    ),
    (
        "customizable, user unset",
        {"value": "x", "customizable": True},
        ABSENT,
        {"value": "x", "customizable": True},
    ),
    (
        "customizable, user keeps options only",
        {"value": "x", "customizable": True},
        {"value": "y", "options": ["y", "z"], "customizable": False, "extra": 1},
        {"customizable": True, "value": "y", "options": ["y", "z"]},
    ),
    ("no admin entry", ABSENT, {"value": "y"}, {"customizable": True, "value": "y"}),
    (
        "no admin entry, user null value",
        ABSENT,
        {"value": None},
        {"customizable": True, "value": None},
    ),
    ("removed, user set", {"isRemoved": True}, {"value": "y"}, ABSENT),
    ("removed, user unset", {"isRemoved": True, "value": "x"}, ABSENT, ABSENT),
    (
        "removed even if customizable",
        {"isRemoved": True, "customizable": True},
        {"value": "y"},
        ABSENT,
    ),
    (
        "isRemoved false is not removed",
        {"isRemoved": False, "value": "x"},
        {"value": "y"},
        {"isRemoved": False, "value": "x"},
    ),
    (
        "isRemoved 0 is not removed",
        {"isRemoved": 0, "customizable": True},
        {"value": "y"},
        {"customizable": True, "value": "y"},
    ),
]


@pytest.mark.parametrize(
    ("case", "admin", "user", "expected"), ENTRY_CASES, ids=[c[0] for c in ENTRY_CASES]
)
def test_entry_rules(case: str, admin: Any, user: Any, expected: Any) -> None:
    admin_map = {} if admin is ABSENT else {"k": admin}
    user_map = {"other": {"value": 1}} | ({} if user is ABSENT else {"k": user})
    merged = merge_user_settings(admin_map, user_map)
    assert merged is not None
    if expected is ABSENT:
        assert "k" not in merged
    else:
        assert merged["k"] == expected
    assert merged["other"] == {"customizable": True, "value": 1}


def test_no_admin_settings_returns_the_user_settings_unchanged() -> None:
    user = {"a": {"value": 1, "customizable": False, "extra": True}}
    assert merge_user_settings(None, user) == user
    assert merge_user_settings(None, None) is None


def test_admin_settings_without_user_settings_give_an_empty_map() -> None:
    assert merge_user_settings({"a": {"value": 1}}, None) == {}


def test_a_new_users_empty_settings_get_the_admin_entries() -> None:
    admin = {"a": {"value": 1, "customizable": True}, "b": {"value": 2}, "c": {"isRemoved": True}}
    assert merge_user_settings(admin, {}) == {
        "a": {"value": 1, "customizable": True},
        "b": {"value": 2},
    }


def test_key_order_is_admin_keys_then_user_keys() -> None:
    merged = merge_user_settings(
        {"b": {"value": 1}, "a": {"value": 2, "customizable": True}},
        {"c": {"value": 3}, "a": {"value": 4}},
    )
    assert list(merged or {}) == ["b", "a", "c"]


def _plugin(config: Any) -> dict[str, Any]:
    return {"value": {"config": config, "enabled": True}}


# (case, admin plugin config or None, user plugin config or None, expected config or ABSENT)
PLUGIN_CASES: list[tuple[str, Any, Any, Any]] = [
    ("user config, no admin entry", None, {"f": {"value": "u"}}, {"f": {"value": "u"}}),
    ("no config at all: key removed", None, None, ABSENT),
    (
        "empty user config takes admin's",
        {"f": {"value": "a", "customizable": True}},
        {},
        {"f": {"value": "a", "customizable": True}},
    ),
    ("missing user config takes admin's", {"f": {"value": "a"}}, None, {"f": {"value": "a"}}),
    (
        "admin field locked",
        {"f": {"value": "a", "customizable": False}},
        {"f": {"value": "u"}},
        {"f": {"value": "a", "customizable": False}},
    ),
    (
        "admin field customizability missing = locked",
        {"f": {"value": "a"}},
        {"f": {"value": "u"}},
        {"f": {"value": "a"}},
    ),
    (
        "customizable, user value kept",
        {"f": {"value": "a", "customizable": True}},
        {"f": {"value": "u"}},
        {"f": {"value": "u", "customizable": True}},
    ),
    (
        "customizable, empty user value takes admin's",
        {"f": {"value": "a", "customizable": True}},
        {"f": {"value": ""}},
        {"f": {"value": "a", "customizable": True}},
    ),
    (
        "customizable, both empty keeps user's",
        {"f": {"value": "", "customizable": True}},
        {"f": {"value": ""}},
        {"f": {"value": "", "customizable": True}},
    ),
    (
        "field unknown to admin becomes customizable",
        {"g": {"value": "a", "customizable": True}},
        {"f": {"value": "u"}},
        {"f": {"value": "u", "customizable": True}},
    ),
    (
        "field unknown to admin, empty user value",
        {"g": {"value": "a"}},
        {"f": {"value": ""}},
        {"f": {"value": "", "customizable": True}},
    ),
    (
        "admin-only fields are not added",
        {"f": {"value": "a", "customizable": True}, "g": {"value": "b"}},
        {"f": {"value": "u"}},
        {"f": {"value": "u", "customizable": True}},
    ),
]


@pytest.mark.parametrize(
    ("case", "admin_cfg", "user_cfg", "expected"), PLUGIN_CASES, ids=[c[0] for c in PLUGIN_CASES]
)
def test_plugin_rules(case: str, admin_cfg: Any, user_cfg: Any, expected: Any) -> None:
    admin = {} if admin_cfg is None else {"plugin_x": {**_plugin(admin_cfg), "customizable": True}}
    user = {"plugin_x": _plugin(user_cfg) if user_cfg is not None else {"value": {}}}
    before = copy.deepcopy(user)
    merged = merge_user_settings(admin, user)
    assert merged is not None
    assert user == before  # inputs are never modified
    if expected is ABSENT:
        assert "plugin_x" not in merged
    else:
        assert merged["plugin_x"]["value"]["config"] == expected
        assert merged["plugin_x"]["customizable"] is True


def test_plugin_entry_without_value_is_treated_as_empty() -> None:
    admin = {"plugin_x": {"customizable": True, "value": {"config": {"f": {"value": "a"}}}}}
    merged = merge_user_settings(admin, {"plugin_x": {"customizable": True}})
    assert merged == {
        "plugin_x": {"customizable": True, "value": {"config": {"f": {"value": "a"}}}}
    }


def test_locked_plugin_entry_is_the_admin_entry() -> None:
    admin = {"plugin_x": {"customizable": False, "value": {"config": {"f": {"value": "a"}}}}}
    merged = merge_user_settings(admin, {"plugin_x": _plugin({"f": {"value": "u"}})})
    assert merged == admin


_entries = st.dictionaries(
    st.sampled_from(["value", "customizable", "isRemoved", "defaultValue", "options"]),
    st.one_of(st.none(), st.booleans(), st.integers(-1, 2), st.text(max_size=3)),
    max_size=5,
)
_maps = st.dictionaries(st.sampled_from(["a", "b", "c", "plugin_p"]), _entries, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_maps, _maps)
def test_merge_never_crashes_and_obeys_removal(admin: dict[str, Any], user: dict[str, Any]) -> None:
    merged = merge_user_settings(admin, user)
    assert isinstance(merged, dict)
    for key, entry in admin.items():
        removed = entry.get("isRemoved") not in (None, False, 0, "")
        if removed:
            assert key not in merged
