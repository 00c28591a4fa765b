"""appconnect.jsvalues: the one home of JavaScript value semantics (values as Node.js sees them)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appconnect import compose, security
from appconnect.compose import formatting
from appconnect.connectors import args
from appconnect.connectors.proxy import template
from appconnect.jsvalues import (
    UNDEFINED,
    UNSET,
    js_date_string,
    js_greater,
    js_iso_string,
    js_str,
    js_str_absent,
    js_stringify,
    js_to_number,
    js_trim,
    js_truthy,
)
from appconnect.security.hashing import hash_id


def test_one_sentinel_for_undefined_everywhere() -> None:
    assert UNSET is UNDEFINED
    assert compose.UNSET is UNDEFINED and formatting.UNSET is UNDEFINED
    assert security.MISSING is UNDEFINED
    assert args.UNSET is UNDEFINED and template.UNDEFINED is UNDEFINED
    assert not UNDEFINED  # falsy, as undefined is
    assert repr(UNDEFINED) == "UNSET"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNDEFINED, False),
        (None, False),
        (False, False),
        (0, False),
        (0.0, False),
        (-0.0, False),
        (math.nan, False),
        ("", False),
        (True, True),
        ("0", True),
        (" ", True),
        ("false", True),
        ([], True),  # unlike Python
        ({}, True),
        (-1, True),
        (math.inf, True),
    ],
)
def test_truthiness(value: Any, expected: bool) -> None:
    assert js_truthy(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNDEFINED, "undefined"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-0.0, "0"),
        (2.0, "2"),
        (90.5, "90.5"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.00001, "0.00001"),
        (2**70, "1.1805916207174113e+21"),
        (12345678901234567890, "12345678901234567000"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        ("text", "text"),
        ([1, None, "a", [2, UNDEFINED]], "1,,a,2,"),
        ({"a": 1}, "[object Object]"),
    ],
)
def test_string_conversion(value: Any, expected: str) -> None:
    assert js_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0.0),
        ("", 0.0),
        (" 12 ", 12.0),
        ("0x1f", 31.0),
        ("1e3", 1000.0),
        ("12px", math.nan),
        (UNDEFINED, math.nan),
        (True, 1.0),
        ([], 0.0),
        (["7"], 7.0),
        ([1, 2], math.nan),
        ({}, math.nan),
    ],
)
def test_number_conversion(value: Any, expected: float) -> None:
    result = js_to_number(value)
    assert (math.isnan(result) and math.isnan(expected)) or result == expected


def test_trim_and_loose_comparison() -> None:
    assert js_trim("\ufeff\u00a0 x \u2028") == "x"
    assert js_trim("\x1c x") == "\x1c x"  # not JavaScript whitespace, unlike str.strip()
    assert js_greater("b", "a") and not js_greater("10", "9")  # strings: code-unit order
    assert js_greater("10", 9) and not js_greater(UNDEFINED, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNDEFINED, None),
        (None, "null"),
        (
            {"a": 2.0, "b": [1.5, math.nan, UNDEFINED], "c": UNDEFINED},
            '{"a":2,"b":[1.5,null,null]}',
        ),
        ({"u": "ü\n\"\\\u2028"}, '{"u":"ü\\n\\"\\\\\u2028"}'),
        ([1e21, 1e-7, math.inf, True], "[1e+21,1e-7,null,true]"),
        ({1: "k", 2.5: "f", False: "b"}, '{"1":"k","2.5":"f","false":"b"}'),
        (
            {"at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)},
            '{"at":"2026-01-02T03:04:05.678Z"}',
        ),
        ([object()], "[{}]"),
        ("", '""'),
    ],
)
def test_json_stringify(value: Any, expected: str | None) -> None:
    assert js_stringify(value) == expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_json_stringify_of_plain_json_is_compact_json(value: Any) -> None:
    text = js_stringify(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_json_stringify_numbers_read_back_equal(number: float) -> None:
    text = js_stringify(number)
    assert text is not None and float(text) == number
    assert text == js_str(number)  # JSON.stringify writes numbers as String() does


def test_iso_strings_are_utc_milliseconds() -> None:
    moment = datetime(2026, 12, 4, 17, 35, 51, 123987, tzinfo=timezone(timedelta(hours=2)))
    assert js_iso_string(moment) == "2026-12-04T15:35:51.123Z"
    assert js_iso_string(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    assert js_iso_string(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000Z"


def test_hashing_prints_values_as_template_strings() -> None:
    assert hash_id(UNDEFINED, "k") == hash_id("undefined", "k")
    assert hash_id(None, "k") == hash_id("null", "k")
    assert hash_id(12.0, "k") == hash_id("12", "k") == hash_id(12, "k")
    assert hash_id("a", None) == hash_id("a", "undefined")


def test_date_strings_and_absent_values() -> None:
    moment = datetime(2026, 12, 4, 19, 5, 9, tzinfo=timezone(timedelta(hours=2)))
    assert js_date_string(moment) == (
        "Fri Dec 04 2026 17:05:09 GMT+0000 (Coordinated Universal Time)"
    )
    assert js_str_absent(None) == "undefined" and js_str_absent(True) == "true"
    assert js_str_absent(UNDEFINED) == "undefined" and js_str_absent(2.0) == "2"
