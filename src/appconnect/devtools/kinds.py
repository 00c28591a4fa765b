"""Data files of the plugin and proxy project kinds (filled in below)."""

from __future__ import annotations

from typing import Any


def generated(names: Any, auth: str, kind: str) -> dict[str, Any]:
    return {}
