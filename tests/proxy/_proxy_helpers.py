"""Shared pieces of the proxy-connector tests: the example configs, a resolver, the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from tests.fakes import FakeCrm

from appconnect import ConnectorRegistry, Settings, create_app
from appconnect.connectors.proxy import AddressGuard, ProxyConfigs, ProxyConnector

DATA = Path(__file__).resolve().parents[1] / "data" / "proxy"
PUBLIC_ADDRESS = "93.184.216.34"


def example(name: str) -> dict[str, Any]:
    """A config from tests/data/proxy (``nimbus`` is the spec's §11 example, unchanged)."""
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


async def public_resolver(host: str, port: int) -> list[str]:
    """Every test CRM host resolves to a public address (no DNS in tests)."""
    return [PUBLIC_ADDRESS]


def proxy_app(
    settings: Settings,
    crm: FakeCrm,
    configs: ProxyConfigs,
    *,
    guard: AddressGuard | None = None,
) -> FastAPI:
    registry = ConnectorRegistry()
    registry.use_proxy(
        ProxyConnector(configs, guard=guard or AddressGuard(resolver=public_resolver))
    )
    return create_app(registry, settings=settings, http_transport=crm.transport)
