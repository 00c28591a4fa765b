"""The absent-versus-null mechanism: UNSET keywords are not passed; None is."""

from __future__ import annotations

from typing import Any

from appconnect import UNSET, is_set, without_unset
from appconnect.connectors.args import first_set, given
from appconnect.connectors.invoke import call_with_kwargs
from appconnect.connectors.results import to_wire


async def test_unset_keyword_is_left_out_of_kwargs() -> None:
    def by_kwargs(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    assert await call_with_kwargs(by_kwargs, {"a": 1, "b": UNSET, "c": None}) == {"a": 1, "c": None}


async def test_unset_default_tells_absent_from_null() -> None:
    def named(*, duration: Any = UNSET, note: Any, **_: Any) -> tuple[Any, Any]:
        return duration, note

    assert await call_with_kwargs(named, {"duration": UNSET, "note": UNSET}) == (UNSET, None)
    assert await call_with_kwargs(named, {"duration": None, "note": "n"}) == (None, "n")


def test_helpers_follow_javascript() -> None:
    assert given({"a": None}, "a") is None and given({}, "a") is UNSET and given(3, "a") is UNSET
    assert first_set(UNSET, None) is None and first_set(None, UNSET) is UNSET
    assert first_set(None, 0, 5) == 0
    assert not UNSET and not is_set(UNSET) and is_set(None)
    assert without_unset({"a": UNSET, "b": None}) == {"b": None}


def test_results_drop_unset_members_like_json_stringify() -> None:
    assert to_wire({"a": UNSET, "b": [UNSET, 1], "c": {"d": UNSET}}) == {"b": [None, 1], "c": {}}
