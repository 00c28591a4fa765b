"""Connector arguments: "the request did not carry this key" versus "it carried null".

The reference hands connectors JavaScript values, where an absent key reads as ``undefined`` and
an explicit JSON ``null`` as ``null``; connectors act on the difference (``PATCH /callLog`` with
``"duration": null`` writes an empty duration, a PATCH without ``duration`` leaves it alone).
appconnect keeps the difference:

* an optional argument the request did not carry is **not passed**: it is missing from
  ``**kwargs``, and a parameter declared with a default gets that default (declare
  ``duration=UNSET`` to tell "absent" from ``None``); a parameter declared *without* a default
  receives ``None`` instead of failing (it cannot tell, but it never sees the sentinel);
* an argument the request carried as ``null`` is passed as ``None``;
* every other value is passed as received.

:data:`UNSET` is falsy, so ``if note:`` works either way; :func:`is_set` asks "was it sent?",
and :func:`without_unset` drops absent values from a payload before it goes to the CRM (as
``JSON.stringify`` drops ``undefined``). A connector result containing :data:`UNSET` is cleaned
the same way before it reaches the wire.

Framework code (every route, the proxy connector, plugins...) builds interface arguments with
:func:`given` (``source?.key`` in JavaScript) and :func:`first_set` (``a ?? b``) and passes
:data:`UNSET` for "absent"; :func:`appconnect.connectors.invoke.call_with_kwargs` leaves such
keywords out of the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appconnect.jsvalues import UNSET, Unset

__all__ = ["UNSET", "Unset", "first_set", "given", "is_set", "without_unset"]


def given(source: Any, key: str) -> Any:
    """``source[key]`` when ``source`` is an object carrying ``key``; else :data:`UNSET`."""
    if isinstance(source, Mapping):
        return source.get(key, UNSET)
    return UNSET


def first_set(*values: Any) -> Any:
    """JavaScript ``a ?? b ?? c``: the first value that is neither null nor absent, else the last.

    The last value decides between ``None`` and :data:`UNSET` when none is set, as in JavaScript
    (``undefined ?? null`` is ``null``, ``null ?? undefined`` is ``undefined``).
    """
    for value in values:
        if value is not None and value is not UNSET:
            return value
    return values[-1] if values else UNSET


def is_set(value: Any) -> bool:
    """Did the request carry this argument (possibly as ``null``)?"""
    return value is not UNSET


def without_unset(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` without its :data:`UNSET` values (one level deep)."""
    return {key: value for key, value in mapping.items() if value is not UNSET}
