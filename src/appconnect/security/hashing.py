"""Hashing of RingCentral account and extension ids.

The browser client receives these hashes from ``/userInfoHash`` and sends them back in headers, and
stored rows are keyed by them, so the rendering must match JavaScript's template-string rules:
a missing value is the text ``undefined``, an explicit ``None`` is ``null``, numbers are decimal.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Final

from appconnect.jsvalues import UNDEFINED, js_str

MISSING: Final[Any] = UNDEFINED
"""An absent value (JavaScript ``undefined``): the one sentinel of :mod:`appconnect.jsvalues`."""

js_string = js_str  # the name this module used to define; the rules live in appconnect.jsvalues


def hash_id(value: Any, key: str | None) -> str:
    """Lowercase hex SHA-256 of ``"<value>:<key>"``."""
    return _sha256_hex(f"{js_str(value)}:{js_str(UNDEFINED if key is None else key)}")


@lru_cache(maxsize=4096)
def _sha256_hex(text: str) -> str:
    # A request hashes the same few account and extension ids again and again.
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
