"""Release notes of the framework itself, merged into each connector's by ``/releaseNotes``."""

from __future__ import annotations

from typing import Any

CORE_RELEASE_NOTES: dict[str, Any] = {
    "0.1.0": {
        "global": [
            {"type": "New", "description": "Python connector server (appconnect) first release."}
        ]
    }
}
