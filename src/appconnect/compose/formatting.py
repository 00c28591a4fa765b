"""JavaScript-compatible value helpers shared by the composers.

The reference composers run on Node.js, and several of their observable outputs follow directly
from JavaScript's coercion rules: truthiness decides whether a section is written, ``Number()``
decides whether a duration is numeric, number-to-string decides how ``90.5`` or ``1e21`` print,
and ``String.prototype.trim`` decides whether a stored value still reads ``(pending...)``.
These helpers reproduce exactly those rules so the Python bodies are byte-identical.

They run for every section of every composed body, so the common case (a string) is tested first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, Final, Literal


class _Unset(Enum):
    """Type of :data:`UNSET`; an enum so that type checkers can narrow on it."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:  # falsy, as JavaScript's undefined
        return False


UNSET: Final = _Unset.UNSET
"""JavaScript ``undefined``: "not supplied", as opposed to ``None`` (JSON ``null``)."""

Unset = Literal[_Unset.UNSET]

# ECMAScript WhiteSpace + LineTerminator: what ``\s`` and ``trim()`` mean in JavaScript. Python's
# ``str.isspace`` differs (it includes U+001C..U+001F and U+0085, but not U+FEFF).
JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
JS_SPACE_CLASS: Final = "[" + re.escape(JS_WHITESPACE) + "]"
"""Regex character class equivalent to JavaScript's ``\\s``."""

JS_LINE_TERMINATORS: Final = "\n\r\u2028\u2029"
JS_DOT: Final = "[^" + JS_LINE_TERMINATORS + "]"
"""Regex equivalent to JavaScript's ``.`` (which stops at all four line terminators)."""

_DECIMAL_LITERAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX_LITERALS = (
    (re.compile(r"0[xX][0-9a-fA-F]+"), 16),
    (re.compile(r"0[oO][0-7]+"), 8),
    (re.compile(r"0[bB][01]+"), 2),
)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: ``0``, ``NaN``, ``""``, ``null``, ``undefined``, ``false`` are falsy.

    Unlike Python, empty lists and dicts are truthy, which matters for settings values.
    """
    if isinstance(value, str):
        return value != ""
    if value is None or value is UNSET:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    return True


def js_trim(text: str) -> str:
    """``String.prototype.trim``: strips JavaScript whitespace and line terminators."""
    return text.strip(JS_WHITESPACE)


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _string_to_number(text: str) -> float:
    text = js_trim(text)
    if text == "":
        return 0.0
    if _DECIMAL_LITERAL.fullmatch(text):
        return float(text)
    for pattern, radix in _RADIX_LITERALS:
        if pattern.fullmatch(text):
            return _int_to_float(int(text[2:], radix))
    return math.nan


def js_to_number(value: Any) -> float:
    """``Number(value)``: ``null`` is 0, ``undefined`` and non-numeric strings are NaN."""
    if value is UNSET:
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return _int_to_float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, Mapping | list | tuple):
        return _string_to_number(js_str(value))
    return math.nan


def js_number_str(number: float) -> str:
    """``Number.prototype.toString()``: ``2`` not ``2.0``, ``1e+21``, ``1e-7``, ``0.00001``."""
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "0"
    if number < 0:
        return "-" + js_number_str(-number)
    if math.isinf(number):
        return "Infinity"
    _, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    point = exponent + len(digit_tuple)  # value = 0.<digits> * 10**point
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    power = point - 1
    mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def js_str(value: Any) -> str:
    """What a JavaScript template literal prints for ``value``."""
    if isinstance(value, str):
        return value
    if value is UNSET:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return js_number_str(_int_to_float(value))
    if isinstance(value, float):
        return js_number_str(value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join("" if item is None or item is UNSET else js_str(item) for item in value)
    return str(value)


def js_greater(left: Any, right: Any) -> bool:
    """Loose ``left > right``: two strings compare by UTF-16 code units, otherwise numerically."""
    if isinstance(left, str) and isinstance(right, str):
        return left.encode("utf-16-be") > right.encode("utf-16-be")
    return js_to_number(left) > js_to_number(right)


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
