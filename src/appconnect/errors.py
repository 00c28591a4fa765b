"""Exceptions whose message is meant for the client.

Replies of the form ``{"error": <message>}`` never carry the text of infrastructure errors
(database drivers, sockets, hosts; see :func:`appconnect.services.errors.client_message`). An
exception whose message was written for the user, even one that is an ``OSError`` by nature
(a refused outbound address), says so by inheriting :class:`ClientVisible`.
"""

from __future__ import annotations


class ClientVisible(Exception):
    """Mixin: this exception's message may be shown to the client as it is."""
