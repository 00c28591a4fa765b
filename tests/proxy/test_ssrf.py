"""The outbound address guard: what a proxy config may call."""

from __future__ import annotations

import pytest

from appconnect.connectors.proxy.ssrf import AddressGuard, BlockedAddress


def resolving(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def failing(host: str, port: int) -> list[str]:
    raise OSError("no such host")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://127.1.2.3:8080/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
    ],
)
async def test_non_public_literals_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        await AddressGuard(resolver=resolving("93.184.216.34")).check(url)


async def test_every_resolved_address_must_be_public() -> None:
    await AddressGuard(resolver=resolving("93.184.216.34")).check("https://crm.example/a")
    with pytest.raises(BlockedAddress):
        await AddressGuard(resolver=resolving("93.184.216.34", "10.0.0.5")).check(
            "https://crm.example/a"
        )
    with pytest.raises(BlockedAddress):
        await AddressGuard(resolver=resolving("127.0.0.1")).check("http://localhost:6379/")


@pytest.mark.parametrize(
    "url", ["ftp://crm.example/", "file:///etc/passwd", "https:///x", "gopher://x"]
)
async def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(BlockedAddress):
        await AddressGuard(["*"]).check(url)


async def test_unresolvable_hosts_are_refused() -> None:
    with pytest.raises(BlockedAddress, match="cannot resolve"):
        await AddressGuard(resolver=failing).check("https://nowhere.example/")
    with pytest.raises(BlockedAddress, match="cannot resolve"):
        await AddressGuard(resolver=resolving()).check("https://nowhere.example/")


async def test_allowed_networks_hosts_and_suffixes() -> None:
    private = resolving("10.1.2.3")
    guard = AddressGuard(["10.0.0.0/8", "crm.internal", "*.corp.example", " "], resolver=private)
    await guard.check("http://10.9.9.9/")
    await guard.check("http://anything.example/")  # resolves into the allowed network
    await guard.check("http://crm.internal/")
    await guard.check("http://a.b.corp.example/")
    with pytest.raises(BlockedAddress):
        await AddressGuard(["crm.internal"], resolver=private).check("http://other.internal/")
    with pytest.raises(BlockedAddress):
        await AddressGuard(["*.corp.example"], resolver=private).check("http://corp.example.evil/")
    await AddressGuard(["*"], resolver=failing).check("http://127.0.0.1/")
