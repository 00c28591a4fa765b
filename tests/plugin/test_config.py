"""Plugin config: ``value.config`` of the effective (admin-over-user) settings (plugins.md §6)."""

from __future__ import annotations

from typing import Any

from appconnect.services.plugins.config import config_of
from appconnect.services.settings_merge import merge_user_settings

KEY = "plugin_p"


def merged_config(admin: Any, user: Any, plugin_id: str) -> Any:
    return config_of(merge_user_settings(admin, user), plugin_id)


def entry(config: Any, **extra: Any) -> dict[str, Any]:
    return {"value": {"config": config}, **extra}


def test_without_admin_settings_the_user_config_is_used() -> None:
    user = {KEY: entry({"a": {"value": "x"}})}
    assert merged_config(None, user, "p") == {"a": {"value": "x"}}
    assert merged_config(None, None, "p") is None
    assert merged_config(None, {KEY: {"value": {}}}, "p") is None
    assert merged_config(None, {KEY: {}}, "p") is None
    assert merged_config(None, {KEY: entry(None)}, "p") is None


def test_admin_settings_without_user_settings() -> None:
    admin = {KEY: entry({"a": {"value": "x"}})}
    assert merged_config(admin, None, "p") is None  # no settings object: effective settings {}
    assert merged_config(admin, {}, "p") == {"a": {"value": "x"}}  # {} is an object (JS)


def test_the_reference_example() -> None:
    admin = {KEY: entry({"queueId": {"value": "admin-queue", "customizable": False},
                         "region": {"value": "admin-region", "customizable": True}},
                        customizable=True)}  # fmt: skip
    user = {KEY: entry({"queueId": {"value": "user-queue"}, "region": {"value": "user-region"}})}
    assert merged_config(admin, user, "p") == {
        "queueId": {"value": "admin-queue", "customizable": False},
        "region": {"value": "user-region", "customizable": True},
    }
    locked = {KEY: {**admin[KEY], "customizable": False}}
    assert merged_config(locked, user, "p") == admin[KEY]["value"]["config"]


def test_field_rules() -> None:
    admin = {KEY: entry({"a": {"value": "A", "customizable": True}, "only": {"value": "O"}},
                        customizable=True)}  # fmt: skip
    # An empty user value takes the admin's; fields only the admin has are not added.
    assert merged_config(admin, {KEY: entry({"a": {"value": ""}})}, "p") == {
        "a": {"value": "A", "customizable": True}
    }
    # A user field the admin does not know keeps its value (the reference crashes here).
    assert merged_config(admin, {KEY: entry({"new": {"value": ""}})}, "p") == {
        "new": {"value": "", "customizable": True}
    }
    # An empty user config takes a copy of the admin's; with no admin config, no config.
    assert merged_config(admin, {KEY: entry({})}, "p") == admin[KEY]["value"]["config"]
    assert merged_config({KEY: {"customizable": True}}, {KEY: entry({})}, "p") is None
    # A user entry without value/config counts as empty (the reference crashes here).
    assert merged_config(admin, {KEY: {"customizable": True}}, "p") == admin[KEY]["value"]["config"]


def test_removed_and_unset_keys() -> None:
    user = {KEY: entry({"a": {"value": "x"}})}
    assert merged_config({KEY: {"isRemoved": True}}, user, "p") is None
    # No admin entry: the user's entry is used as it is.
    assert merged_config({"other": {}}, user, "p") == {"a": {"value": "x"}}
    # The admin entry, verbatim, when the user has not set the key.
    assert merged_config({KEY: entry({"a": {"value": "A"}})}, {"x": {}}, "p") == {
        "a": {"value": "A"}
    }
