"""Text helpers shared by the composers: durations, line breaks, HTML escaping.

The JavaScript value rules they build on (truthiness, ``String()``, ``Number()``...) live in
:mod:`appconnect.jsvalues` and are re-exported here for the composers.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

# The JavaScript value semantics live in appconnect.jsvalues; the composers import them from here.
from appconnect.jsvalues import (
    JS_DOT,
    JS_LINE_TERMINATORS,
    JS_SPACE_CLASS,
    JS_WHITESPACE,
    UNDEFINED,
    UNSET,
    Undefined,
    Unset,
    js_greater,
    js_number_str,
    js_str,
    js_to_number,
    js_trim,
    js_truthy,
)

__all__ = [
    "JS_DOT",
    "JS_LINE_TERMINATORS",
    "JS_SPACE_CLASS",
    "JS_WHITESPACE",
    "UNDEFINED",
    "UNSET",
    "Undefined",
    "Unset",
    "clear_trailing_newlines",
    "format_duration",
    "html_escape",
    "html_line_breaks",
    "js_greater",
    "js_number_str",
    "js_str",
    "js_to_number",
    "js_trim",
    "js_truthy",
]


def _plural(count: float, unit: str, *, plural_above_one: bool = True) -> str:
    many = count > 1 if plural_above_one else count != 1
    return f"{js_number_str(count)} {unit}{'s' if many else ''}"


def format_duration(duration: Any) -> str:
    """Human duration per spec 5.2 (``1 hour, 1 minute, 1 second``).

    Non-numeric values such as ``"pending"`` are written unchanged because the client uses them
    as placeholders that a later update replaces. JavaScript's ``%`` keeps the dividend's sign, so
    negative inputs fall through to ``0 seconds``.
    """
    number = js_to_number(duration)
    if math.isnan(number):
        return js_str(duration)
    return _duration_text(number)


@lru_cache(maxsize=4096)
def _duration_text(number: float) -> str:
    """:func:`format_duration` of a number; call lengths repeat, so each is rendered once.

    Keyed on the float: equal keys render equally (``0.0`` and ``-0.0`` both give ``0 seconds``).
    """
    if math.isinf(number):
        hours, minutes, seconds = number, math.nan, math.nan
    else:
        hours = float(math.floor(number / 3600))
        minutes = float(math.floor(math.fmod(number, 3600) / 60))
        seconds = math.fmod(number, 60)
    parts = []
    if hours > 0:
        parts.append(_plural(hours, "hour"))
    if minutes > 0:
        parts.append(_plural(minutes, "minute"))
    if seconds > 0:
        parts.append(_plural(seconds, "second", plural_above_one=False))
    return ", ".join(parts) if parts else "0 seconds"


def clear_trailing_newlines(text: str) -> str:
    """Drop trailing ``\\n`` characters (only ``\\n``: a trailing ``\\r`` is kept, as upstream)."""
    return text.rstrip("\n")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def html_line_breaks(text: str) -> str:
    """Replace every ``\\r\\n``, ``\\r`` or ``\\n`` by ``<br>``."""
    return _LINE_BREAK.sub("<br>", text)


_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#039;"))


def html_escape(value: Any) -> str:
    """Escape text for HTML bodies; ``None``/undefined/empty become ``""`` (spec 10.6)."""
    if not js_truthy(value):
        return ""
    text = js_str(value)
    for raw, escaped in _HTML_ESCAPES:  # ampersand first, or the other entities get re-escaped
        text = text.replace(raw, escaped)
    return text
