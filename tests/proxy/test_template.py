"""The template language (spec proxy-connector.md §4): every table row, and a property test."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appconnect.connectors.proxy.template import (
    UNDEFINED,
    js_number,
    js_text,
    render_deep,
    render_string,
    resolve,
)

CONTEXT = {"a": {"b": 123, "list": [1, None, {"x": 1}], "t": True, "z": 0}, "name": "Alice"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{a.b}}", 123),
        ("{{ a.b }}", 123),
        (" {{a.b}}", " 123"),
        ("Hello {{name}}", "Hello Alice"),
        ("{{a.b}}{{name}}", "123Alice"),
        ("{{a.list}}", [1, None, {"x": 1}]),
        ("x{{a.list}}", "x1,,[object Object]"),
        ("{{a.t}}/{{a.z}}", "true/0"),
        ("Missing {{x.y}} here", "Missing  here"),
        ("{{}}", "{{}}"),
        ("{a}", "{a}"),
        ("{{ a.b }", "{{ a.b }"),
        ("no templates", "no templates"),
        ("{{a.t}}", True),
        ("{{a.z}}", 0),
    ],
)
def test_rendering_table(template: str, expected: Any) -> None:
    result = render_string(template, CONTEXT)
    assert result == expected
    assert type(result) is type(expected)


def test_whole_value_missing_is_undefined_and_dollar_is_the_context() -> None:
    assert render_string("{{missing.path}}", CONTEXT) is UNDEFINED
    assert render_string("{{$}}", CONTEXT) is CONTEXT
    assert render_string("{{ name}}", {"name": None}) is None  # null stays null


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.list.0", 1),
        ("a.list.2.x", 1),
        ("a.list.length", 3),
        ("a.list.5", UNDEFINED),
        ("a.list.-1", UNDEFINED),
        ("a.list.01", UNDEFINED),
        ("a.list.x", UNDEFINED),
        ("name.0", "A"),
        ("name.length", 5),
        ("name.9", UNDEFINED),
        ("a.b.c", UNDEFINED),
        ("a.t.x", UNDEFINED),
        ("a..b", UNDEFINED),
        ("a.list.1.x", UNDEFINED),  # through null
        ("a.keys", UNDEFINED),  # built-ins are not data
        ("__class__", UNDEFINED),
        ("a.b ", UNDEFINED),  # segments are not trimmed
    ],
)
def test_path_resolution(path: str, expected: Any) -> None:
    actual = resolve(CONTEXT, path)
    if expected is UNDEFINED:
        assert actual is UNDEFINED
    else:
        assert actual == expected


def test_keys_with_spaces_are_kept_and_dots_cannot_be_addressed() -> None:
    context = {"first name": "Jo", "a.b": 1}
    assert render_string("{{ first name }}", context) == "Jo"
    assert render_string("{{a.b}}", context) is UNDEFINED


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (UNDEFINED, ""),
        ("s", "s"),
        (True, "true"),
        (False, "false"),
        (5, "5"),
        (-3, "-3"),
        (0, "0"),
        (1.0, "1"),
        (-0.0, "0"),
        (3.5, "3.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123456789.125, "123456789.125"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        ([1, None, [2, [3]], "x"], "1,,2,3,x"),
        ({"a": 1}, "[object Object]"),
        (
            datetime(1970, 1, 1, tzinfo=UTC),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)",
        ),
    ],
)
def test_text_conversion(value: Any, text: str) -> None:
    assert js_text(value) == text


def test_large_integers_use_exponent_form_like_javascript() -> None:
    assert js_number(10**21) == "1e+21"
    assert js_number(123 * 10**20) == "1.23e+22"


def test_deep_rendering_keeps_keys_and_types() -> None:
    template = {
        "{{name}}": "{{name}}",
        "n": 5,
        "flag": False,
        "nothing": None,
        "nested": {"list": ["{{a.b}}", "x{{a.b}}", {"deep": "{{a.t}}"}], "missing": "{{nope}}"},
    }
    assert render_deep(template, CONTEXT) == {
        "{{name}}": "Alice",
        "n": 5,
        "flag": False,
        "nothing": None,
        "nested": {"list": [123, "x123", {"deep": True}], "missing": UNDEFINED},
    }


def test_no_code_is_evaluated() -> None:
    context = {"a": 1}
    for template in ("{{ a + 1 }}", "{{ __import__('os') }}", "{{ a | upper }}", "{{a()}}"):
        assert render_string(template, context) is UNDEFINED


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
_path = st.lists(
    st.sampled_from(["a", "b", "0", "1", "length", "", " ", "$", "x y"]) | st.text(max_size=4),
    min_size=1,
    max_size=4,
).map(".".join)
_template = st.lists(
    st.text(max_size=6) | _path.map(lambda p: "{{" + p + "}}") | st.just("{{"),
    max_size=5,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(context=_json, template=_template)
def test_rendering_never_raises_on_arbitrary_context(context: Any, template: str) -> None:
    result = render_string(template, context)
    if "{{" not in template:
        assert result == template
    render_deep({"k": [template, {"n": template}]}, context)
    js_text(result)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_round_trips(value: float) -> None:
    assert float(js_number(value)) == value
