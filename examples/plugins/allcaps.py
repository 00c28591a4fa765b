"""A synchronous plugin: the call note in capitals, except the letters the user chose to keep.

    appconnect serve examples.plugins.allcaps:app --port 6067

Manifest entry (Developer Console): ``endpointUrl`` = ``https://<host>/plugin/sync``,
``userRegisterEndpointUrl`` = ``https://<host>/admin/register``, ``supportedLogTypes`` =
``["call", "sms"]``, ``isAsync`` = false, and a config field ``ignoreLetters`` (text).
"""

from __future__ import annotations

import os
from typing import Any

from appconnect.plugin import Invocation, PluginServer

plugin = PluginServer(os.environ.get("PLUGIN_ID", "sync-all-caps"))


def shout(text: str, keep: str = "") -> str:
    """``text`` upper-cased, except the letters in ``keep`` (either case)."""
    kept = set(keep.lower())
    return "".join(c if c.lower() in kept else c.upper() for c in text)


@plugin.transform
async def all_caps(call: Invocation) -> dict[str, Any]:
    keep = str(call.setting("ignoreLetters", ""))
    data = dict(call.data)
    note = data.get("note")
    if isinstance(note, str):
        data["note"] = shout(note, keep)
    return data  # the whole payload: App Connect logs what we hand back


app = plugin.app
