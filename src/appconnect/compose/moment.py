"""A small moment.js work-alike: parse instants, apply UTC offsets, render format patterns.

Users choose the call-log date pattern (``logDateFormat``) in moment.js syntax and store their
timezone as a free-form ``timezoneOffset`` string, so bodies only match the reference when parsing,
offset handling and every format token behave as moment.js (English locale) does. Instants are
kept as epoch milliseconds; ``None`` stands for moment's "Invalid date".

Deliberate limits: only ISO-8601 strings (moment's own ISO grammar, without 6-digit years) are
parsed; strings moment would hand to ``new Date()`` (RFC 2822, ``2024/01/15``) are invalid here.
Years outside 1..9999 are invalid. Era tokens (``N``, ``y``) render as literal text.

Every call-log body renders one instant, so the per-call work is kept to what depends on the
instant itself: what depends only on a small, often repeated string (a user's offset text, a
calendar day, a format pattern) is memoised with ``functools.lru_cache``. Only ``str`` values
reach those caches (never a caller's mutable object), and each cached result is immutable.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, NamedTuple

from appconnect.jsvalues import JS_DOT, JS_SPACE_CLASS, js_to_number, js_truthy

INVALID_DATE: Final = "Invalid date"
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_EPOCH_DATE = _EPOCH.date()
_MAX_MS = 8.64e15

# --------------------------------------------------------------------------- offsets

_SHORT_OFFSET = re.compile(r"Z|[+-][0-9][0-9](?::?[0-9][0-9])?", re.IGNORECASE)
_OFFSET_CHUNK = re.compile(r"[+-]|[0-9][0-9]")


@lru_cache(maxsize=256)
def offset_from_string(text: str) -> float | None:
    """moment's ``offsetFromString``: the *last* ``Z``/``±HH[:MM]`` in the text, else ``None``."""
    matches = _SHORT_OFFSET.findall(text)
    if not matches:
        return None
    parts = _OFFSET_CHUNK.findall(matches[-1]) or ["-", "0", "0"]  # "Z" has no chunks
    hours = int(parts[1]) if len(parts) > 1 else 0
    minutes = hours * 60 + (int(parts[2]) if len(parts) > 2 else 0)
    if minutes == 0:
        return 0.0
    return float(minutes if parts[0] == "+" else -minutes)


def numeric_offset(number: float) -> float:
    """moment's ``utcOffset(number)``: ``-16 < n < 16`` means hours, anything else minutes."""
    if not math.isfinite(number):
        return 0.0  # moment ends up at UTC for NaN; infinite offsets are not meaningful
    return number * 60 if abs(number) < 16 else number


def moment_offset(raw: Any) -> float | None:
    """``moment().utcOffset(raw)`` for a truthy raw value; ``None`` means "leave as is"."""
    if not js_truthy(raw):
        return None
    if isinstance(raw, str):
        return offset_from_string(raw)
    return numeric_offset(js_to_number(raw))


def user_offset(raw: Any) -> float | None:
    """Call-log offset rule (spec 5.1): strings with ``:`` go to moment, the rest via ``Number``."""
    if not js_truthy(raw):
        return None
    if isinstance(raw, str):
        return _text_user_offset(raw)
    return numeric_offset(js_to_number(raw))


@lru_cache(maxsize=256)
def _text_user_offset(text: str) -> float | None:
    """:func:`user_offset` of a non-empty string; users share a handful of zones."""
    return offset_from_string(text) if ":" in text else numeric_offset(js_to_number(text))


# --------------------------------------------------------------------------- parsing

_ISO_EXTENDED = re.compile(
    rf"{JS_SPACE_CLASS}*([0-9]{{4}}-(?:[0-9]{{2}}-[0-9]{{2}}|W[0-9]{{2}}-[0-9]|W[0-9]{{2}}|[0-9]{{3}}"
    rf"|[0-9]{{2}}))(?:(T| )([0-9]{{2}}(?::[0-9]{{2}}(?::[0-9]{{2}}(?:[.,][0-9]+)?)?)?)"
    rf"([+-][0-9]{{2}}(?::?[0-9]{{2}})?|{JS_SPACE_CLASS}*Z)?)?"
)
_ISO_BASIC = re.compile(
    rf"{JS_SPACE_CLASS}*([0-9]{{4}}(?:[0-9]{{4}}|W[0-9]{{3}}|W[0-9]{{2}}|[0-9]{{3}}|[0-9]{{2}}|))"
    rf"(?:(T| )([0-9]{{2}}(?:[0-9]{{2}}(?:[0-9]{{2}}(?:[.,][0-9]+)?)?)?)"
    rf"([+-][0-9]{{2}}(?::?[0-9]{{2}})?|{JS_SPACE_CLASS}*Z)?)?"
)
# moment tries these in order with an unanchored search; the flag says whether a time may follow.
_ISO_DATES: Final = (
    ("ymd", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), True),
    ("gwe", re.compile(r"[0-9]{4}-W[0-9]{2}-[0-9]"), True),
    ("gw", re.compile(r"[0-9]{4}-W[0-9]{2}"), False),
    ("yd", re.compile(r"[0-9]{4}-[0-9]{3}"), True),
    ("ym", re.compile(r"[0-9]{4}-[0-9]{2}"), False),
    ("ymd", re.compile(r"[0-9]{8}"), True),
    ("gwe", re.compile(r"[0-9]{4}W[0-9]{3}"), True),
    ("gw", re.compile(r"[0-9]{4}W[0-9]{2}"), False),
    ("yd", re.compile(r"[0-9]{7}"), True),
    ("ym", re.compile(r"[0-9]{6}"), False),
    ("y", re.compile(r"[0-9]{4}"), False),
)


def _digits(text: str) -> list[int]:
    return [int(chunk) for chunk in re.findall(r"[0-9]+", text)]


@lru_cache(maxsize=256)
def _epoch_day(text: str) -> tuple[int, bool] | None:
    """(days since 1970-01-01, whether a time may follow) of an ISO date; calls share days."""
    parsed = _parse_date_part(text)
    if parsed is None:
        return None
    day, allow_time = parsed
    return (day - _EPOCH_DATE).days, allow_time


def _parse_date_part(text: str) -> tuple[date, bool] | None:
    for kind, pattern, allow_time in _ISO_DATES:
        if pattern.search(text) is None:
            continue
        flat = text.replace("-", "").replace("W", "")
        year = int(flat[:4])
        try:
            if kind == "ymd":
                return date(year, int(flat[4:6]), int(flat[6:8])), allow_time
            if kind == "ym":
                return date(year, int(flat[4:6]), 1), allow_time
            if kind == "y":
                return date(year, 1, 1), allow_time
            if kind == "yd":
                day_of_year = int(flat[4:7])
                if not 1 <= day_of_year <= (366 if calendar.isleap(year) else 365):
                    return None
                return date(year, 1, 1) + timedelta(days=day_of_year - 1), allow_time
            weekday = int(flat[6]) if kind == "gwe" else 1
            return date.fromisocalendar(year, int(flat[4:6]), weekday), allow_time
        except ValueError:
            return None
    return None


_TIME = re.compile(r"([0-9:]+)(?:[.,]([0-9]+))?")


def _parse_time_part(text: str) -> float | None:
    """Milliseconds since midnight, or ``None`` for an out-of-range time (moment overflow)."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    clock = match.group(1).replace(":", "")
    hour, minute, second = int(clock[:2]), int(clock[2:4] or 0), int(clock[4:6] or 0)
    fraction = match.group(2)
    millis = int(float("0." + fraction) * 1000) if fraction else 0  # moment truncates to ms
    if hour == 24 and minute == second == millis == 0:
        return 24 * 3_600_000.0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return float(((hour * 60 + minute) * 60 + second) * 1000 + millis)


def _parse_tz(text: str | None) -> float:
    if not text or text.endswith("Z"):
        return 0.0
    return offset_from_string(text) or 0.0


def parse_iso(text: str) -> float | None:
    """Epoch ms for an ISO-8601 string as moment parses it (no zone means server-local, UTC)."""
    match = _ISO_EXTENDED.fullmatch(text) or _ISO_BASIC.fullmatch(text)
    if match is None:
        return None
    date_text, _, time_text, tz_text = match.groups()
    parsed = _epoch_day(date_text)
    if parsed is None:
        return None
    days, allow_time = parsed
    if time_text and not allow_time:
        return None
    clock_ms = _parse_time_part(time_text) if time_text else 0.0
    if clock_ms is None:
        return None
    return days * 86_400_000 + clock_ms - _parse_tz(tz_text) * 60_000


def parse_instant(value: Any) -> float | None:
    """``moment(value)`` as epoch milliseconds, ``None`` when moment would say "Invalid date".

    Accepts ISO strings, epoch milliseconds and ``datetime``/``date`` objects (naive values are
    taken as UTC, the reference server's zone). ``None`` is invalid, as ``moment(null)`` is.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return float((aware - _EPOCH_UTC) // timedelta(milliseconds=1))
    if isinstance(value, date):
        return float((value - _EPOCH_DATE).days * 86_400_000)
    if isinstance(value, str):
        millis = parse_iso(value)
    elif isinstance(value, bool | int | float):
        millis = js_to_number(value)
    else:
        return None
    if millis is None or not math.isfinite(millis) or abs(millis) > _MAX_MS:
        return None
    return float(math.trunc(millis))


# --------------------------------------------------------------------------- formatting

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_LONG_FORMATS: Final = {
    "LTS": "h:mm:ss A",
    "LT": "h:mm A",
    "L": "MM/DD/YYYY",
    "LL": "MMMM D, YYYY",
    "LLL": "MMMM D, YYYY h:mm A",
    "LLLL": "dddd, MMMM D, YYYY h:mm A",
    "l": "M/D/YYYY",
    "ll": "MMM D, YYYY",
    "lll": "MMM D, YYYY h:mm A",
    "llll": "ddd, MMM D, YYYY h:mm A",
}
_LOCAL_TOKENS = re.compile(r"(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})")
_FORMAT_TOKENS = re.compile(
    r"(\[[^\[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?"
    r"|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?"
    rf"|S{{1,9}}|x|X|zz?|ZZ?|{JS_DOT})"
)


class _Fields(NamedTuple):
    """The calendar fields of one instant as seen at one UTC offset (built once per render)."""

    local: datetime
    millis: int
    offset: float
    epoch_ms: float
    explicit_offset: bool

    @property
    def weekday(self) -> int:
        """JavaScript ``getDay()``: Sunday is 0."""
        return (self.local.weekday() + 1) % 7

    @property
    def day_of_year(self) -> int:
        return self.local.timetuple().tm_yday

    @property
    def hour12(self) -> int:
        return self.local.hour % 12 or 12


def _zero_fill(number: int, width: int, force_sign: bool = False) -> str:
    sign = "-" if number < 0 else ("+" if force_sign else "")
    return sign + str(abs(number)).rjust(width, "0")


def _ordinal(number: int) -> str:
    last = number % 10
    if (number % 100) // 10 == 1:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(last, "th")
    return f"{number}{suffix}"


def _first_week_offset(year: int) -> int:
    """moment's ``firstWeekOffset`` for the English locale (week starts Sunday, doy 6)."""
    first_week_day = 1  # 7 + dow - doy
    weekday = (date(year, 1, first_week_day).weekday() + 1) % 7
    return -((7 + weekday) % 7) + first_week_day - 1


def _locale_week(day: date) -> tuple[int, int]:
    """(week, week-year) in the English locale: week 1 is the week containing January 1."""

    def weeks_in(year: int) -> int:
        days = 366 if calendar.isleap(year) else 365
        return (days - _first_week_offset(year) + _first_week_offset(year + 1)) // 7

    week = (day.timetuple().tm_yday - _first_week_offset(day.year) - 1) // 7 + 1
    if week < 1:
        return week + weeks_in(day.year - 1), day.year - 1
    if week > weeks_in(day.year):
        return week - weeks_in(day.year), day.year + 1
    return week, day.year


def _offset_text(offset: float, separator: str) -> str:
    sign = "+"
    if offset < 0:
        offset, sign = -offset, "-"
    return sign + _zero_fill(int(offset / 60), 2) + separator + _zero_fill(int(offset) % 60, 2)


def _year_token(f: _Fields) -> str:
    year = f.local.year
    return _zero_fill(year, 4) if year <= 9999 else f"+{year}"


_Token = Callable[[_Fields], str]
_TOKENS: dict[str, _Token] = {
    "M": lambda f: str(f.local.month),
    "MM": lambda f: _zero_fill(f.local.month, 2),
    "Mo": lambda f: _ordinal(f.local.month),
    "MMM": lambda f: _MONTHS[f.local.month - 1][:3],
    "MMMM": lambda f: _MONTHS[f.local.month - 1],
    "D": lambda f: str(f.local.day),
    "DD": lambda f: _zero_fill(f.local.day, 2),
    "Do": lambda f: _ordinal(f.local.day),
    "DDD": lambda f: str(f.day_of_year),
    "DDDD": lambda f: _zero_fill(f.day_of_year, 3),
    "DDDo": lambda f: _ordinal(f.day_of_year),
    "d": lambda f: str(f.weekday),
    "do": lambda f: _ordinal(f.weekday),
    "dd": lambda f: _WEEKDAYS[f.weekday][:2],
    "ddd": lambda f: _WEEKDAYS[f.weekday][:3],
    "dddd": lambda f: _WEEKDAYS[f.weekday],
    "e": lambda f: str(f.weekday),
    "E": lambda f: str(f.weekday or 7),
    "w": lambda f: str(_locale_week(f.local.date())[0]),
    "ww": lambda f: _zero_fill(_locale_week(f.local.date())[0], 2),
    "wo": lambda f: _ordinal(_locale_week(f.local.date())[0]),
    "W": lambda f: str(f.local.isocalendar()[1]),
    "WW": lambda f: _zero_fill(f.local.isocalendar()[1], 2),
    "Wo": lambda f: _ordinal(f.local.isocalendar()[1]),
    "gg": lambda f: _zero_fill(_locale_week(f.local.date())[1] % 100, 2),
    "gggg": lambda f: _zero_fill(_locale_week(f.local.date())[1], 4),
    "ggggg": lambda f: _zero_fill(_locale_week(f.local.date())[1], 5),
    "GG": lambda f: _zero_fill(f.local.isocalendar()[0] % 100, 2),
    "GGGG": lambda f: _zero_fill(f.local.isocalendar()[0], 4),
    "GGGGG": lambda f: _zero_fill(f.local.isocalendar()[0], 5),
    "Q": lambda f: str((f.local.month + 2) // 3),
    "Qo": lambda f: _ordinal((f.local.month + 2) // 3),
    "Y": _year_token,
    "YY": lambda f: _zero_fill(f.local.year % 100, 2),
    "YYYY": lambda f: _zero_fill(f.local.year, 4),
    "YYYYY": lambda f: _zero_fill(f.local.year, 5),
    "YYYYYY": lambda f: _zero_fill(f.local.year, 6, force_sign=True),
    "H": lambda f: str(f.local.hour),
    "HH": lambda f: _zero_fill(f.local.hour, 2),
    "h": lambda f: str(f.hour12),
    "hh": lambda f: _zero_fill(f.hour12, 2),
    "k": lambda f: str(f.local.hour or 24),
    "kk": lambda f: _zero_fill(f.local.hour or 24, 2),
    "hmm": lambda f: f"{f.hour12}{_zero_fill(f.local.minute, 2)}",
    "hmmss": lambda f: f"{f.hour12}{_zero_fill(f.local.minute, 2)}{_zero_fill(f.local.second, 2)}",
    "Hmm": lambda f: f"{f.local.hour}{_zero_fill(f.local.minute, 2)}",
    "Hmmss": lambda f: (
        f"{f.local.hour}{_zero_fill(f.local.minute, 2)}{_zero_fill(f.local.second, 2)}"
    ),
    "a": lambda f: "pm" if f.local.hour > 11 else "am",
    "A": lambda f: "PM" if f.local.hour > 11 else "AM",
    "m": lambda f: str(f.local.minute),
    "mm": lambda f: _zero_fill(f.local.minute, 2),
    "s": lambda f: str(f.local.second),
    "ss": lambda f: _zero_fill(f.local.second, 2),
    "Z": lambda f: _offset_text(f.offset, ":"),
    "ZZ": lambda f: _offset_text(f.offset, ""),
    "z": lambda f: "UTC" if f.explicit_offset else "",
    "zz": lambda f: "UTC" if f.explicit_offset else "",
    "X": lambda f: str(math.floor(f.epoch_ms / 1000)),
    "x": lambda f: str(int(f.epoch_ms)),
}


def _fraction_token(width: int) -> _Token:
    def render(f: _Fields) -> str:
        scaled = f.millis // 10 ** (3 - width) if width < 3 else f.millis * 10 ** (width - 3)
        return _zero_fill(scaled, width)

    return render


_TOKENS.update({"S" * width: _fraction_token(width) for width in range(1, 10)})


def _expand_long_formats(pattern: str) -> str:
    """Replace ``LT``/``LLL``/``l``… by their English patterns (moment loops up to six times)."""
    for _ in range(6):
        if _LOCAL_TOKENS.search(pattern) is None:
            break
        pattern = _LOCAL_TOKENS.sub(lambda m: _LONG_FORMATS.get(m.group(0), m.group(0)), pattern)
    return pattern


def _literal(token: str) -> str:
    """moment's ``removeFormattingTokens``: unwrap ``[text]`` or drop escaping backslashes."""
    if re.search(r"\[[\s\S]", token):
        return re.sub(r"\A\[|\]\Z", "", token)
    return token.replace("\\", "")


def _fields(epoch_ms: float, offset: float | None) -> _Fields | None:
    shift = offset or 0.0
    try:
        local = _EPOCH + timedelta(milliseconds=math.trunc(epoch_ms + shift * 60_000))
    except OverflowError:
        return None
    return _Fields(local, local.microsecond // 1000, shift, epoch_ms, offset is not None)


@dataclass(frozen=True)
class _CompiledPattern:
    """A format pattern split once into fixed text and the tokens that depend on the instant.

    ``template`` is a ``str.format`` string whose ``{}`` fields take the renderers' outputs in
    order; the pattern's literal text is in it with braces doubled.
    """

    template: str
    renderers: tuple[_Token, ...]

    def render(self, fields: _Fields) -> str:
        return self.template.format(*[render(fields) for render in self.renderers])


@lru_cache(maxsize=256)
def _compile(pattern: str) -> _CompiledPattern:
    """Tokenise like moment's ``format``: users share a few patterns, so each is split once."""
    template: list[str] = []
    renderers: list[_Token] = []
    for match in _FORMAT_TOKENS.finditer(_expand_long_formats(pattern)):
        token = match.group(0)
        render = _TOKENS.get(token)
        if render is None:
            template.append(_literal(token).replace("{", "{{").replace("}", "}}"))
        else:
            template.append("{}")
            renderers.append(render)
    return _CompiledPattern("".join(template), tuple(renderers))


def format_instant(epoch_ms: float | None, offset: float | None, pattern: str) -> str:
    """Render like ``moment(x).utcOffset(offset).format(pattern)``.

    ``offset`` ``None`` means no ``utcOffset`` call (server-local time, which is UTC).
    Characters matched by no token alternative (line breaks) are dropped, as in moment.
    """
    fields = None if epoch_ms is None else _fields(epoch_ms, offset)
    if fields is None:
        return INVALID_DATE
    return _compile(pattern).render(fields)
