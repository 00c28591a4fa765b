"""Hashing of RingCentral account and extension ids.

The browser client receives these hashes from ``/userInfoHash`` and sends them back in headers, and
stored rows are keyed by them, so the rendering must match JavaScript's template-string rules:
a missing value is the text ``undefined``, an explicit ``None`` is ``null``, numbers are decimal.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


def js_string(value: Any) -> str:
    """Render ``value`` the way a JavaScript template string would."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def hash_id(value: Any, key: str | None) -> str:
    """Lowercase hex SHA-256 of ``"<value>:<key>"``."""
    text = f"{js_string(value)}:{js_string(MISSING if key is None else key)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
