"""The built-in demo connector (platform ``demo``): a small CRM in the server's own database.

``create_app()`` without a registry serves it, so a fresh checkout works end to end with no
external service. It is also the example to read before writing a connector: see
:mod:`appconnect.connectors.demo.connector`.
"""

from __future__ import annotations

from pathlib import Path

from appconnect.connectors.demo.connector import DemoConnector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.manifest import load_manifest

MANIFEST_PATH = Path(__file__).with_name("manifest.json")

__all__ = ["MANIFEST_PATH", "DemoConnector", "demo_registry"]


def demo_registry() -> ConnectorRegistry:
    """A registry serving the demo connector, whose manifest is also the default one."""
    manifest = load_manifest(MANIFEST_PATH)
    registry = ConnectorRegistry()
    registry.register(DemoConnector(), manifest=manifest)
    registry.set_default_manifest(manifest)
    return registry
