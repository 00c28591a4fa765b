"""The outbound address guard for proxy configs (server-side request forgery).

A proxy config is data written by a connector developer, and its URLs are templates over user
data: without a guard, a config (or a user's hostname) could make this server call its own
loopback interface, the cloud metadata service (169.254.169.254) or hosts on the private
network. Every proxy request's host is resolved and **every** address it resolves to must be
public, unless the host or network is allowed by ``APPCONNECT_PROXY_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from appconnect.errors import ClientVisible

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedAddress(ClientVisible, PermissionError):
    """The proxy config asked for a URL this server may not call."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the event loop's non-blocking getaddrinfo)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


def _is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class AddressGuard:
    """Decides whether a proxy request may go to a URL.

    ``allowed`` entries are networks (``10.0.0.0/8``, ``127.0.0.1``), host names
    (``crm.internal``) or suffix patterns (``*.corp.example``); ``"*"`` allows everything.
    """

    def __init__(self, allowed: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self._networks: list[Network] = []
        self._hosts: set[str] = set()
        self._suffixes: list[str] = []
        self.allow_all = False
        for entry in (e.strip().lower() for e in allowed):
            if not entry:
                continue
            if entry == "*":
                self.allow_all = True
            elif entry.startswith("*."):
                self._suffixes.append(entry[1:])
            else:
                try:
                    self._networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    self._hosts.add(entry.rstrip("."))
        self._resolve = resolver or system_resolver

    def _host_allowed(self, host: str) -> bool:
        return host in self._hosts or any(host.endswith(s) for s in self._suffixes)

    def _address_allowed(self, address: Address) -> bool:
        return _is_public(address) or any(address in net for net in self._networks)

    async def check(self, url: str) -> None:
        """Raise :class:`BlockedAddress` unless ``url`` may be called."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BlockedAddress(f"proxy requests must use http or https, not {parts.scheme!r}")
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise BlockedAddress("the proxy request URL has no host")
        if self.allow_all or self._host_allowed(host):
            return
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError as exc:
                raise BlockedAddress("the proxy request URL has an invalid port") from exc
            try:
                resolved = await self._resolve(host, port)
            except OSError as exc:
                raise BlockedAddress(f"cannot resolve proxy request host {host}") from exc
            addresses = []
            for text in resolved:
                try:
                    addresses.append(ipaddress.ip_address(text.split("%")[0]))
                except ValueError:
                    continue
            if not addresses:
                raise BlockedAddress(f"cannot resolve proxy request host {host}")
        for address in addresses:
            if not self._address_allowed(address):
                raise BlockedAddress(
                    f"proxy request to {host} refused: it resolves to a non-public address "
                    "(allow it with APPCONNECT_PROXY_ALLOWED_HOSTS)"
                )
