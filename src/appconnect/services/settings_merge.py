"""How an organization's admin settings override or hide a user's settings (pure functions).

Spec ``http-auth-user-admin.md`` §6. ``admin`` is ``adminConfigs.userSettings`` of the user's
account, ``user`` the user's own ``userSettings``; both map a setting id to an entry
``{value, customizable, isRemoved, defaultValue, options}``. Truthiness is JavaScript's, because
the stored entries come from the browser client (``customizable: 0`` is off, ``[]`` is on).

Plugin entries (keys starting with ``plugin_``) carry per-field configs in ``value.config``; their
fields are merged one by one. Where the reference crashes on a missing ``value`` or ``config``, an
empty config is assumed instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from appconnect.jsvalues import js_truthy

PLUGIN_PREFIX = "plugin_"
_USER_ENTRY_KEYS = ("value", "defaultValue", "options")


def _entry(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _plugin_config(entry: Any) -> dict[str, Any] | None:
    """``entry.value.config`` when it is a non-empty object, else ``None``."""
    config = _entry(_entry(entry).get("value")).get("config")
    return dict(config) if isinstance(config, Mapping) and config else None


def _admin_plugin_config(entry: Any) -> dict[str, Any] | None:
    config = _entry(_entry(entry).get("value")).get("config")
    return dict(config) if isinstance(config, Mapping) else None


def merge_plugin_entry(admin_entry: Any, merged: dict[str, Any]) -> dict[str, Any] | None:
    """Apply the plugin-config rules to the user branch's ``merged`` entry (``None``: drop it)."""
    cfg = _plugin_config(merged)
    adm = _admin_plugin_config(admin_entry)
    value = merged.get("value")
    value = dict(value) if isinstance(value, Mapping) else {}
    if cfg is None:
        if adm is None:
            return None
        value["config"] = copy.deepcopy(adm)
        return {**merged, "value": value}
    if adm is None:
        return merged
    out: dict[str, Any] = {}
    for field, user_field in cfg.items():
        admin_field = adm.get(field)
        admin_map = _entry(admin_field)
        user_map = _entry(user_field)
        if js_truthy(admin_field) and (
            not js_truthy(admin_map.get("customizable"))
            or (not js_truthy(user_map.get("value")) and js_truthy(admin_map.get("value")))
        ):
            out[field] = copy.deepcopy(admin_field)
        elif isinstance(user_field, Mapping):
            customizable = admin_map.get("customizable") if admin_field is not None else None
            out[field] = {
                **user_field,
                "customizable": True if customizable is None else customizable,
            }
        else:
            out[field] = user_field
    value["config"] = out
    return {**merged, "value": value}


def merge_user_settings(
    admin: Mapping[str, Any] | None, user: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The settings a user sees: ``user`` with the account admin's entries applied.

    * no admin settings: the user's own (``None`` stays ``None``);
    * admin settings but no user settings (``None``): ``{}``; an empty map is an object, and a
      new user's ``{}`` gets the admin's entries;
    * otherwise, per key of ``admin`` then of ``user``: ``isRemoved`` hides the key; a key the
      admin lets users customize (or does not know) takes the user's ``value``, ``defaultValue``
      and ``options`` with ``customizable: true``; any other key is the admin's entry verbatim.
    """
    if admin is None:
        return None if user is None else copy.deepcopy(dict(user))
    if user is None:
        return {}
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*admin, *user]):
        admin_entry = admin.get(key)
        if js_truthy(_entry(admin_entry).get("isRemoved")):
            continue
        user_entry = user.get(key)
        user_branch = user_entry is not None and (
            key not in admin
            or admin_entry is None
            or js_truthy(_entry(admin_entry).get("customizable"))
        )
        if user_branch:
            source = _entry(user_entry)
            entry: dict[str, Any] = {"customizable": True}
            for name in _USER_ENTRY_KEYS:
                if name in source:
                    entry[name] = copy.deepcopy(source[name])
            if key.startswith(PLUGIN_PREFIX):
                plugin = merge_plugin_entry(admin_entry, entry)
                if plugin is None:
                    continue
                entry = plugin
            merged[key] = entry
        elif admin_entry is not None:
            merged[key] = copy.deepcopy(admin_entry)
    return merged
