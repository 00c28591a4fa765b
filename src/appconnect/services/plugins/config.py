"""Which plugins run for a log, and the ``config`` each one receives (spec plugins.md §6, §7.1).

``config`` is ``value.config`` of the ``plugin_<id>`` entry of the user's *effective* settings:
the user's settings merged with the account's admin settings (``adminConfigs`` of the hashed
account id, quirk 2; re-read for every invocation so admin changes apply at once), by the merge
of :mod:`appconnect.services.settings_merge` (http-auth-user-admin.md §6), where the reference's
crashes on a missing ``value``/``config`` or admin field read as "no config" / "no override".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from appconnect.compose.formatting import js_truthy
from appconnect.runtime import Runtime
from appconnect.services import admin_settings
from appconnect.services.plugins.records import InstalledPlugin
from appconnect.services.settings_merge import merge_user_settings
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


async def plugin_config(rt: Runtime, user: User, plugin_id: str) -> Any:
    """The ``config`` sent to ``plugin_id`` for ``user``: an object or ``None``.

    Read from the user's effective settings (the merge ``GET /user/settings`` answers, with the
    admin settings of the account the user row records), computed afresh for every invocation.
    """
    admin = None
    if user.rc_account_id:
        account = admin_settings.config_id(rt, user.rc_account_id)
        admin = await admin_settings.admin_user_settings(rt, account)
    return config_of(merge_user_settings(admin, user.user_settings), plugin_id)


def config_of(settings: Mapping[str, Any] | None, plugin_id: str) -> Any:
    """``settings["plugin_<id>"].value.config``, or ``None`` when a step is missing or falsy."""
    entry = (settings or {}).get(PLUGIN_KEY_PREFIX + plugin_id)
    value = entry.get("value") if isinstance(entry, Mapping) else None
    config = value.get("config") if isinstance(value, Mapping) else None
    return copy.deepcopy(config) if js_truthy(config) and config is not False else None
