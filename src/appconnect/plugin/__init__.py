"""Write an App Connect plugin server in Python.

::

    from appconnect.plugin import Invocation, PluginServer

    plugin = PluginServer("sync-all-caps")

    @plugin.transform
    async def all_caps(call: Invocation) -> dict:
        return {**call.data, "note": str(call.data.get("note") or "").upper()}

    app = plugin.app

See docs/writing-a-plugin.md.
"""

from appconnect.plugin.server import (
    Completion,
    Invocation,
    OAuthCallback,
    PluginServer,
)
from appconnect.plugin.tokens import CredentialError, CredentialIssuer, PluginIdentity

__all__ = [
    "Completion",
    "CredentialError",
    "CredentialIssuer",
    "Invocation",
    "OAuthCallback",
    "PluginIdentity",
    "PluginServer",
]
