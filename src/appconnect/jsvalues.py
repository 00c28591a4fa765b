"""JavaScript value semantics, in one place: ``undefined`` vs ``null``, truthiness, ``String()``,
``Number()``, number-to-string, loose ``>``, ``String.prototype.trim``, ``JSON.stringify``, and
the ``Date`` texts (``toISOString``, ``String(date)``).

The reference runs on Node.js, and many of its observable outputs follow from JavaScript's
coercion rules: truthiness decides whether a section is written or a field counts as given,
template literals decide how ids are printed (``undefined``, ``null``, ``1e+21``), ``Number()``
decides whether a duration is numeric. Every part of appconnect that must behave like the
reference uses these functions; nothing else re-implements them.

JavaScript ``undefined`` (a key that is absent) is :data:`UNDEFINED`; ``None`` is ``null``.
The framework's "argument not given" sentinel (``appconnect.connectors.args.UNSET``), the
composers' ``UNSET``, the proxy templates' ``UNDEFINED`` and ``appconnect.security.MISSING`` are
all this same object.

These run for every section of every composed body, so the common case (a string) is tested
first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, Final, Literal

__all__ = [
    "JS_DOT",
    "JS_LINE_TERMINATORS",
    "JS_SPACE_CLASS",
    "JS_WHITESPACE",
    "UNDEFINED",
    "UNSET",
    "Undefined",
    "Unset",
    "js_date_string",
    "js_greater",
    "js_iso_string",
    "js_number_str",
    "js_str",
    "js_str_absent",
    "js_stringify",
    "js_to_number",
    "js_trim",
    "js_truthy",
]


class _Undefined(Enum):
    """Type of :data:`UNDEFINED`; an enum so that type checkers can narrow on it."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False  # falsy, as ``undefined`` is in JavaScript


UNDEFINED: Final = _Undefined.UNSET
"""JavaScript ``undefined``: "not supplied", as opposed to ``None`` (JSON ``null``)."""

Undefined = Literal[_Undefined.UNSET]

UNSET: Final = UNDEFINED  # the name the composers and connector arguments use
Unset = Undefined

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


def js_str_absent(value: Any) -> str:
    """:func:`js_str`, reading ``None`` as ``undefined``: for a value fetched with ``dict.get``,
    where ``None`` means the key was absent (``undefined`` in the reference's template)."""
    return js_str(UNDEFINED if value is None else value)


def js_greater(left: Any, right: Any) -> bool:
    """Loose ``left > right``: two strings compare by UTF-16 code units, otherwise numerically."""
    if isinstance(left, str) and isinstance(right, str):
        return left.encode("utf-16-be") > right.encode("utf-16-be")
    return js_to_number(left) > js_to_number(right)


def js_stringify(value: Any) -> str | None:
    """``JSON.stringify(value)``; ``None`` where JavaScript returns ``undefined``.

    Compact, non-ASCII kept; numbers as ``String()`` writes them, non-finite ones as ``null``;
    ``undefined`` members of objects are left out and ``undefined`` items of arrays become
    ``null``; a ``datetime`` is its ISO string (``Date.toJSON``), any other object ``{}``.
    """
    if value is UNDEFINED:
        return None
    return _stringify(value)


_dump_string = json.JSONEncoder(ensure_ascii=False).encode


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return _dump_string(value)
    if value is None or value is UNDEFINED:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        number = _int_to_float(value) if isinstance(value, int) else value
        return js_number_str(number) if math.isfinite(number) else "null"
    if isinstance(value, Mapping):
        members = [
            _dump_string(key if isinstance(key, str) else js_str(key)) + ":" + _stringify(item)
            for key, item in value.items()
            if item is not UNDEFINED
        ]
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_stringify(item) for item in value) + "]"
    if isinstance(value, datetime):
        return _dump_string(js_iso_string(value))  # Date.prototype.toJSON
    return "{}"  # any other object: no enumerable own properties


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def js_date_string(moment: datetime) -> str:
    """``String(date)`` on a server in UTC: ``Thu Dec 04 2026 17:35:51 GMT+0000 (...)``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment.year:04d} {moment:%H:%M:%S} GMT+0000 (Coordinated Universal Time)"
    )


@lru_cache(maxsize=4096)  # a log's timestamps are rendered on every update of it
def js_iso_string(moment: datetime) -> str:
    """``Date.prototype.toISOString``: UTC, milliseconds, ``Z`` (a naive value is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
