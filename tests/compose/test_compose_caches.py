"""The composer's speed-ups must not be observable: memoised helpers and rewritten HTML patterns.

``moment.py`` and ``formatting.py`` memoise pure functions of small, repeated strings and numbers
(offsets, days, format patterns, durations), and the HTML list-item rules spell the spec's
``(?:<li>)?<b>L</b>`` as an alternation. These tests pin the edge cases of both.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appconnect.compose import COMPOSED_FORMATS, compose_call_log, format_duration
from appconnect.compose.formatting import JS_SPACE_CLASS, _duration_text
from appconnect.compose.moment import (
    _compile,
    _epoch_day,
    _text_user_offset,
    format_instant,
    offset_from_string,
    parse_instant,
    user_offset,
)
from appconnect.compose.sections import Section, rules_for

INSTANT = parse_instant("2026-06-24T02:30:05.185Z")


@pytest.mark.parametrize(
    "cached", [_duration_text, _compile, _epoch_day, _text_user_offset, offset_from_string]
)
def test_caches_are_bounded(cached: Any) -> None:
    """Keys include user-supplied strings: an unbounded cache would grow with every new one."""
    assert cached.cache_info().maxsize is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [([3], 180.0), ({"a": 1}, 0.0), ([], 0.0), ("-07:00", -420.0), ("-7", -420.0), (5.5, 330.0)],
)
def test_user_offset_of_unhashable_or_repeated_values(raw: Any, expected: float) -> None:
    """Lists and dicts never reach a cache (they would raise ``TypeError`` there)."""
    assert user_offset(raw) == expected
    assert user_offset(raw) == expected


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ([125], "2 minutes, 5 seconds"),
        ([], "0 seconds"),
        ({}, "[object Object]"),
        ("pending", "pending"),
        (125, "2 minutes, 5 seconds"),
        (125.0, "2 minutes, 5 seconds"),
        ("125", "2 minutes, 5 seconds"),
        (0, "0 seconds"),
        (-0.0, "0 seconds"),
        (90.5, "1 minute, 30.5 seconds"),
        (float("inf"), "Infinity hours"),
    ],
)
def test_format_duration_cache_keys(duration: Any, expected: str) -> None:
    """The cache is keyed on ``Number(duration)``: equal numbers must render equally."""
    assert format_duration(duration) == expected
    assert format_duration(duration) == expected


def test_compiled_pattern_depends_on_the_pattern_only() -> None:
    pattern = "YYYY-MM-DD HH:mm:ss.SSS"
    other = parse_instant("1999-12-31T23:59:59.999Z")
    assert format_instant(INSTANT, None, pattern) == "2026-06-24 02:30:05.185"
    assert format_instant(other, None, pattern) == "1999-12-31 23:59:59.999"
    assert format_instant(INSTANT, 330.0, pattern) == "2026-06-24 08:00:05.185"
    assert format_instant(None, None, pattern) == "Invalid date"


def test_braces_in_patterns_are_literal_text() -> None:
    """Patterns are compiled to ``str.format`` templates, so braces must come out unchanged."""
    got = format_instant(INSTANT, None, "{0} [{x}] {} YYYY {{MM}} %s")
    assert got == "{0} {x} {} 2026 {{06}} %5"


def test_cached_invalid_day_stays_invalid() -> None:
    assert parse_instant("2026-02-30T10:00:00Z") is None
    assert parse_instant("2026-02-30T10:00:00Z") is None
    assert parse_instant("2026-02-28T10:00:00Z") == parse_instant("2026-02-28T10:00:00.000Z")


def test_settings_are_read_on_every_call() -> None:
    """Step tables are per format only: changing a user's settings dict takes effect at once."""
    settings: dict[str, Any] = {}
    inputs: dict[str, Any] = {"log_format": COMPOSED_FORMATS[0], "user_settings": settings}
    assert compose_call_log(**inputs, subject="S") == "- Summary: S\n"
    settings["addCallLogSubject"] = {"value": False}
    assert compose_call_log(**inputs, subject="S") == ""


# --------------------------------------------------------------------------- HTML list items

HTML_LABELS = {
    Section.SESSION_ID: "Session Id",
    Section.CONTACT_NUMBER: "Caller phone number",
    Section.DATE_TIME: "Date/time",
    Section.RESULT: "Result",
    Section.RECORDING_LINK: "Call recording link",
    Section.ACE_LINK: "ACE recording link",
}
_LINKS = {Section.RECORDING_LINK, Section.ACE_LINK}


def _spec_pattern(section: Section) -> re.Pattern[str]:
    """The rule exactly as spec 6.2 writes it."""
    label = re.escape(HTML_LABELS[section])
    value = r"(?:<a[^>]*>[^<]*</a>|[^<]+)" if section in _LINKS else r"([^<\n]+)"
    pattern = rf"(?:<li>)?<b>{label}</b>:{JS_SPACE_CLASS}*{value}(?:</li>|(?=<|\Z))"
    return re.compile(pattern, re.IGNORECASE | re.ASCII)


_FRAGMENTS = [
    "<li>",
    "<LI>",
    "<li",
    "<b>",
    "</b>",
    "</B>",
    ":",
    " ",
    "\u00a0",
    "\n",
    "</li>",
    "<",
    "x-1",
    '<a href="u">open</a>',
    "</ul>",
    "K",
    *[f"{tag}{label}</b>:" for tag in ("<b>", "<B>", "<li><b>") for label in HTML_LABELS.values()],
    *[label.upper() for label in HTML_LABELS.values()],
]


@given(
    section=st.sampled_from(sorted(HTML_LABELS)),
    body=st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join),
)
def test_html_item_rules_match_as_the_spec_patterns(section: Section, body: str) -> None:
    ours = rules_for("text/html", outbound=False)[section].pattern.search(body)
    spec = _spec_pattern(section).search(body)
    assert (ours is None) == (spec is None)
    if ours is not None and spec is not None:
        assert (ours.span(), ours.groups()) == (spec.span(), spec.groups())
