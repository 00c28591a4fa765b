"""An asynchronous plugin: works after the call is logged, then adds a line to its notes.

    appconnect serve examples.plugins.summary_note:app --port 6068

App Connect answers the logging request first; this plugin then gets the logged payload, does
its (here: pretend) work in the background and reports back. App Connect appends the returned
text to the call log's agent notes. Manifest entry: ``endpointUrl`` =
``https://<host>/plugin/async``, ``tokenSyncUrl`` = ``https://<host>/token/sync``,
``userRegisterEndpointUrl`` = ``https://<host>/admin/register``, ``supportedLogTypes`` =
``["call"]``, ``isAsync`` = true, optional config fields ``completionNote`` and ``delaySeconds``.
"""

from __future__ import annotations

import asyncio
import os

from appconnect.plugin import Completion, Invocation, PluginServer

plugin = PluginServer(os.environ.get("PLUGIN_ID", "async-summary-note"))


@plugin.background
async def summarize(call: Invocation) -> Completion | None:
    await asyncio.sleep(float(call.setting("delaySeconds", 0)))  # stands in for real work
    if call.is_message:
        return None  # SMS/fax notifications have no callback
    info = call.data.get("logInfo") or {}
    duration = info.get("duration") if isinstance(info, dict) else None
    default = f"Reviewed by summary plugin (call of {duration} s)" if duration else None
    note = str(call.setting("completionNote", default or "Reviewed by summary plugin"))
    return Completion(note=note, message="Summary added")


app = plugin.app
