"""Calling connector functions: keyword filtering, absent arguments and awaiting.

The reference calls every interface with one object of named parameters, and connectors pick the
keys they need. In Python that is keyword arguments: a function that declares ``**kwargs`` gets
everything; one that names only ``user`` and ``phone_number`` gets just those. The framework may
add arguments later without breaking anyone. Plain and async functions are both accepted.

Absent arguments (see :mod:`appconnect.connectors.args`): the framework builds every call with
:data:`~appconnect.connectors.args.UNSET` for a key the request did not carry; such a keyword is
*not passed*, so ``**kwargs`` does not contain it and a parameter with a default gets its
default. A parameter named without a default receives ``None`` rather than failing (what such
a connector received before it could tell the two apart).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from appconnect.connectors.args import UNSET

_Accepted = tuple[bool, frozenset[str], tuple[str, ...]]  # (**kwargs?, names, without default)
_SIGNATURES: dict[Any, _Accepted] = {}


def _accepted(fn: Callable[..., Any]) -> _Accepted:
    key = getattr(fn, "__func__", fn)
    cached = _SIGNATURES.get(key)
    if cached is not None:
        return cached
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without signatures: give them everything
        result: _Accepted = (True, frozenset(), ())
    else:
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        named = [
            p
            for p in params
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]
        required = tuple(p.name for p in named if p.default is inspect.Parameter.empty)
        result = (var_kw, frozenset(p.name for p in named), required)
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
    var_kw, names, required = _accepted(fn)
    if var_kw:
        args = {k: v for k, v in kwargs.items() if v is not UNSET}
    else:
        args = {k: v for k, v in kwargs.items() if k in names and v is not UNSET}
    for name in required:
        if name not in args:
            args[name] = None
    return _awaitable(fn(**args))


def call_positional(fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Call ``fn`` with positional arguments; await what this returns (as above)."""
    return _awaitable(fn(*args))


def _awaitable(result: Any) -> Awaitable[Any]:
    """An async function's coroutine as it is; a plain function's value, made awaitable."""
    return result if inspect.isawaitable(result) else _ready(result)


async def _ready(value: Any) -> Any:
    return value
