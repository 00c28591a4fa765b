"""The built-in demo connector (placeholder until the demo CRM lands)."""

from __future__ import annotations

from appconnect.connectors.registry import ConnectorRegistry


def demo_registry() -> ConnectorRegistry:
    return ConnectorRegistry()
