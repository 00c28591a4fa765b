"""The proxy config template language (spec: proxy-connector.md §4).

``{{ path }}`` expressions over a plain-data context. A string that is exactly one expression
renders to the resolved value itself (type preserved, possibly :data:`UNDEFINED`); any other
string has each expression replaced by the value's JavaScript text form. Nothing here evaluates
code: a path only walks dict keys, list indexes and ``length``. Rendering never raises, whatever
the context holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from appconnect.jsvalues import UNDEFINED, js_date_string, js_str

# Two braces, optional spaces, a path without "}", optional spaces, two braces.
EXPRESSION = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([^}]+?)\s*\}\}$")


def is_whole_expression(template: str) -> bool:
    return _WHOLE.match(template) is not None


def expressions(template: str) -> list[str]:
    """The paths a template string reads (for validation)."""
    whole = _WHOLE.match(template)
    if whole:
        return [whole.group(1)]
    return [m.group(1).strip() for m in EXPRESSION.finditer(template)]


def _index(segment: str) -> int | None:
    if segment.isdigit() and segment.isascii() and str(int(segment)) == segment:
        return int(segment)
    return None


def _step(current: Any, segment: str) -> Any:
    if isinstance(current, Mapping):
        return current.get(segment, UNDEFINED) if segment in current else UNDEFINED
    if isinstance(current, (list, tuple, str)):
        if segment == "length":
            return len(current)
        index = _index(segment)
        if index is not None and index < len(current):
            return current[index]
        return UNDEFINED
    return UNDEFINED


def resolve(context: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``$``: the whole context), or :data:`UNDEFINED`."""
    if path == "$":
        return context
    current = context
    for segment in path.split("."):
        if current is None or current is UNDEFINED:
            return UNDEFINED
        try:
            current = _step(current, segment)
        except Exception:  # a mapping with odd keys; never let a config crash a request
            return UNDEFINED
    return current


def render_string(template: str, context: Any) -> Any:
    """Render one string: the raw value for a whole expression, else interpolated text."""
    whole = _WHOLE.match(template)
    if whole:
        return resolve(context, whole.group(1))
    if "{{" not in template:
        return template
    return EXPRESSION.sub(lambda m: js_text(resolve(context, m.group(1).strip())), template)


def render_deep(value: Any, context: Any) -> Any:
    """Strings rendered, lists element-wise, dict values (never keys); other values as they are."""
    if isinstance(value, str):
        return render_string(value, context)
    if isinstance(value, list):
        return [render_deep(item, context) for item in value]
    if isinstance(value, Mapping):
        return {key: render_deep(item, context) for key, item in value.items()}
    return value


# -- JavaScript's String(value) -------------------------------------------------------------


def js_number(value: float | int) -> str:
    """``String(number)`` as JavaScript writes it (see :func:`appconnect.jsvalues.js_str`)."""
    return js_str(value)


def js_text(value: Any, _depth: int = 0) -> str:
    """JavaScript's string conversion; ``None`` and :data:`UNDEFINED` become ``""``."""
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, str | bool | int | float):
        return js_str(value)
    if isinstance(value, (list, tuple)):
        if _depth > 50:
            return ""
        return ",".join(
            "" if item is None or item is UNDEFINED else js_text(item, _depth + 1) for item in value
        )
    if isinstance(value, datetime):
        return js_date_string(value)
    return "[object Object]"
