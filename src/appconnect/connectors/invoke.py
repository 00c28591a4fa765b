"""Calling connector functions: keyword filtering and awaiting.

The reference calls every interface with one object of named parameters, and connectors pick the
keys they need. In Python that is keyword arguments: a function that declares ``**kwargs`` gets
everything; one that names only ``user`` and ``phone_number`` gets just those. The framework may
add arguments later without breaking anyone. Plain and async functions are both accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

_SIGNATURES: dict[Any, tuple[bool, frozenset[str]]] = {}


def _accepted(fn: Callable[..., Any]) -> tuple[bool, frozenset[str]]:
    key = getattr(fn, "__func__", fn)
    cached = _SIGNATURES.get(key)
    if cached is not None:
        return cached
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without signatures: give them everything
        result: tuple[bool, frozenset[str]] = (True, frozenset())
    else:
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        names = frozenset(
            p.name
            for p in params
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        )
        result = (var_kw, names)
    if len(_SIGNATURES) < 10_000:
        _SIGNATURES[key] = result
    return result


def call_with_kwargs(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Awaitable[Any]:
    """Call ``fn`` with the keyword arguments it accepts; await what this returns.

    A plain function rather than a coroutine: an async connector method's own coroutine is
    handed straight back, so awaiting it does not resume one more frame each time the CRM call
    underneath wakes up (a connector call is ~20 coroutines deep, and every level is re-entered
    on every wake-up). A synchronous connector function's value comes back as an awaitable too.
    """
    var_kw, names = _accepted(fn)
    return _awaitable(fn(**(kwargs if var_kw else {k: v for k, v in kwargs.items() if k in names})))


def call_positional(fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Call ``fn`` with positional arguments; await what this returns (as above)."""
    return _awaitable(fn(*args))


def _awaitable(result: Any) -> Awaitable[Any]:
    """An async function's coroutine as it is; a plain function's value, made awaitable."""
    return result if inspect.isawaitable(result) else _ready(result)


async def _ready(value: Any) -> Any:
    return value
