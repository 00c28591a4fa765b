"""Which plugins run for a log, and the ``config`` each one receives (spec plugins.md §6, §7.1).

``config`` is ``value.config`` of the ``plugin_<id>`` entry of the user's *effective* settings:
the user's settings merged with the account's admin settings (``adminConfigs`` of the hashed
account id, re-read for every log so admin changes apply at once). Only the plugin key is
merged here, with the rules of http-auth-user-admin.md §6; the reference's crashes on missing
``value``/``config`` or admin fields are read as "no config" / "no override" (quirk 3).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from appconnect.compose.formatting import js_truthy
from appconnect.runtime import Runtime
from appconnect.security.hashing import hash_id
from appconnect.services.plugins.records import InstalledPlugin
from appconnect.store.models import AdminConfigRow
from appconnect.store.users import User

PLUGIN_KEY_PREFIX = "plugin_"


def for_log_type(plugins: Sequence[InstalledPlugin], log_type: str) -> list[InstalledPlugin]:
    return [p for p in plugins if log_type in p.log_types]


def for_messages(
    plugins: Sequence[InstalledPlugin], messages: Sequence[Any]
) -> list[InstalledPlugin]:
    """SMS plugins if any message is an SMS, then fax plugins if any is a fax (§7.1)."""
    types = {m.get("type") for m in messages if isinstance(m, Mapping)}
    chosen: list[InstalledPlugin] = []
    if "SMS" in types:
        chosen += for_log_type(plugins, "sms")
    if "Fax" in types:
        chosen += for_log_type(plugins, "fax")
    return chosen


async def admin_user_settings(rt: Runtime, rc_account_id: str | None) -> Mapping[str, Any] | None:
    """The account's admin ``userSettings`` (``None``: the account has no admin settings)."""
    if not rc_account_id:
        return None
    async with rt.db.session() as session:
        row = await session.get(AdminConfigRow, hash_id(rc_account_id, rt.hash_key))
    if row is None or not isinstance(row.user_settings, Mapping):
        return None
    return row.user_settings


async def plugin_config(rt: Runtime, user: User, plugin_id: str) -> Any:
    """The ``config`` sent to ``plugin_id`` for ``user``: an object or ``None``."""
    admin = await admin_user_settings(rt, user.rc_account_id)
    return merged_config(admin, user.user_settings, plugin_id)


def _config_of(entry: Any) -> Any:
    """``entry.value.config`` when every step is present and truthy, else ``None``."""
    if not isinstance(entry, Mapping):
        return None
    value = entry.get("value")
    if not isinstance(value, Mapping):
        return None
    config = value.get("config")
    return config if js_truthy(config) and config is not False else None


def _field_value(field: Any) -> Any:
    return field.get("value") if isinstance(field, Mapping) else None


def merged_config(
    admin: Mapping[str, Any] | None, user: Mapping[str, Any] | None, plugin_id: str
) -> Any:
    key = PLUGIN_KEY_PREFIX + plugin_id
    if admin is None:
        return copy.deepcopy(_config_of((user or {}).get(key)))
    if not user:
        return None  # admin settings exist, the user has none: effective settings are empty
    admin_entry = admin.get(key)
    if isinstance(admin_entry, Mapping) and js_truthy(admin_entry.get("isRemoved")):
        return None
    customizable = admin_entry is None or (
        isinstance(admin_entry, Mapping) and js_truthy(admin_entry.get("customizable"))
    )
    if not (customizable and key in user):
        return copy.deepcopy(_config_of(admin_entry))
    user_config = _config_of(user.get(key))
    admin_config = _config_of(admin_entry)
    if not isinstance(user_config, Mapping) or not user_config:
        return dict(admin_config) if isinstance(admin_config, Mapping) else None
    merged = copy.deepcopy(dict(user_config))
    if not isinstance(admin_config, Mapping):
        return merged
    for name, field in merged.items():
        admin_field = admin_config.get(name)
        if not isinstance(admin_field, Mapping):
            if isinstance(field, dict):
                field["customizable"] = True
            continue
        if not js_truthy(admin_field.get("customizable")) or (
            not js_truthy(_field_value(field)) and js_truthy(admin_field.get("value"))
        ):
            merged[name] = copy.deepcopy(dict(admin_field))
        elif isinstance(field, dict):
            customizable_value = admin_field.get("customizable")
            field["customizable"] = True if customizable_value is None else customizable_value
    return merged
