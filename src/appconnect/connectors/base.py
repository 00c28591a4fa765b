"""The base class for code connectors.

A connector is a class whose async snake_case methods implement the interfaces it supports
(``find_contact``, ``create_call_log``, ...). Only ``create_call_log`` and ``update_call_log`` are
required; the framework tests for the others by presence, so a connector simply leaves out what its
CRM cannot do. See ``docs/writing-a-connector.md``.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from appconnect.crm_client import CrmClient
    from appconnect.http import HttpClients


class Connector:
    """Subclass this and implement the interfaces your CRM supports.

    Class attributes:

    * ``platform``: the default platform key when registered without one.
    * ``auth_type``: ``"oauth"`` or ``"apiKey"``; the default :meth:`get_auth_type` returns it.
    * ``base_url``: the CRM API's base URL, used by :meth:`http`.
    * ``timeout``: seconds for outbound CRM calls (``None``: the server default).
    * ``rate_limit``: at most this many requests per second to ``base_url`` from one process
      (``None``: the server's ``APPCONNECT_CRM_RATE_LIMIT``, 0 = unlimited).
    """

    platform: ClassVar[str | None] = None
    auth_type: ClassVar[str] = "apiKey"
    base_url: ClassVar[str | None] = None
    timeout: ClassVar[float | None] = None
    rate_limit: ClassVar[float | None] = None

    _http_clients: HttpClients | None = None

    def get_auth_type(self, **_: Any) -> str:
        return self.auth_type

    # -- helpers for implementers (not interfaces) ---------------------------------------

    def http(self, base_url: str | None = None) -> CrmClient:
        """A pooled client for this CRM host, shared across requests. Never close it.

        ``get/post/put/patch/delete/request`` with httpx-style arguments; see
        :class:`appconnect.crm_client.CrmClient` and ``docs/writing-a-connector.md``.
        """
        if self._http_clients is None:
            raise RuntimeError("the connector is not attached to a running server yet")
        return self._http_clients.client(
            base_url or self.base_url, timeout=self.timeout, rate_limit=self.rate_limit
        )

    def attach(self, clients: HttpClients) -> None:
        """Called by the server at start-up to hand over its pooled HTTP clients."""
        self._http_clients = clients

    @staticmethod
    def basic_auth(username: str, password: str = "") -> str:
        """``base64("user:password")``, what :meth:`get_basic_auth` usually returns."""
        return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
