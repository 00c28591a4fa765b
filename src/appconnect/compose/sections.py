"""Per-format upsert rules for the call-log body sections (spec section 6).

A CRM body is free text that a user may edit between our writes, so every managed section is
found again by its label and replaced in place ("upsert") rather than regenerated. The match rules
are the reference's regular expressions translated to Python (spec 6.4): JavaScript ``$`` becomes
``\\Z``, ``\\s`` and ``.`` use JavaScript's character sets, case-insensitive rules only fold ASCII
(as JavaScript's non-Unicode ``i`` flag does for these ASCII labels), only the first match is
replaced, and replacement text is inserted literally.

The quirks of these rules (spec 8: kept line breaks, values containing ``-`` not matching, partial
matches of the plain-text bulleted summary, blank lines gained or collapsed) are intentional
parity with the reference; do not "fix" a pattern without updating the spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from appconnect.compose.formatting import clear_trailing_newlines, html_line_breaks
from appconnect.jsvalues import JS_DOT, JS_SPACE_CLASS, js_trim

PENDING: Final = "(pending...)"

_S = JS_SPACE_CLASS
_ICASE = re.IGNORECASE | re.ASCII


class Section(StrEnum):
    """Managed sections, in the order the composer applies them (spec 4)."""

    NOTE = "note"
    SESSION_ID = "sessionId"
    RC_USER_NAME = "ringCentralUserName"
    RC_NUMBER = "ringCentralNumber"
    SUBJECT = "subject"
    CONTACT_NUMBER = "contactNumber"
    DATE_TIME = "dateTime"
    DURATION = "duration"
    RESULT = "result"
    RECORDING_LINK = "recordingLink"
    VOICEMAIL_LINK = "voicemailLink"
    AI_NOTE = "aiNote"
    TRANSCRIPT = "transcript"
    ACE_TRANSCRIPT = "ringSenseTranscript"
    ACE_SUMMARY = "ringSenseSummary"
    CALL_SCORE = "ringSenseAIScore"
    ACE_BULLETED_SUMMARY = "ringSenseBulletedSummary"
    ACE_LINK = "ringSenseLink"
    CALL_JOURNEY = "callJourney"


Template = Callable[[str], str]
AddFn = Callable[[str, str], str]
"""``(body, formatted value) -> body`` used when the section is not in the body yet."""


def _identity(value: str) -> str:
    return value


def _wrap(prefix: str, suffix: str = "") -> Template:
    """A template that surrounds the value with fixed text (values are inserted literally)."""
    return lambda value: prefix + value + suffix


@dataclass(frozen=True)
class Rule:
    """How one section is found, replaced and added in one body format."""

    pattern: re.Pattern[str]
    replacement: Template
    add: AddFn
    value: Template = _identity
    write_once: bool = False
    """Replace an existing match only while its group 1 still reads ``(pending...)``."""

    def apply(self, body: str, raw_value: str) -> str:
        """Upsert the section: replace the first match literally, else add it."""
        value = self.value(raw_value)
        match = self.pattern.search(body)
        if match is None:
            return self.add(body, value)
        if self.write_once and js_trim(match.group(1) or "") != PENDING:
            return body
        return body[: match.start()] + self.replacement(value) + body[match.end() :]


def _append(template: Template) -> AddFn:
    return lambda body, value: body + template(value)


def _prepend(template: Template) -> AddFn:
    return lambda body, value: template(value) + body


def _append_on_own_line(template: Template) -> AddFn:
    """Plain-text links start a new line even when the stored body lacks a final newline."""

    def add(body: str, value: str) -> str:
        if body and not body.endswith("\n"):
            body += "\n"
        return body + template(value)

    return add


def _insert_before_list_end(template: Template) -> AddFn:
    """HTML recording links go inside the first ``<ul>`` list when the CRM body has one."""

    def add(body: str, value: str) -> str:
        index = body.find("</ul>")
        if index < 0:
            return body + template(value)
        return body[:index] + template(value) + body[index:]

    return add


def _cleared_html(value: str) -> str:
    return html_line_breaks(clear_trailing_newlines(value))


def _html_link(link: str) -> str:
    return f'<a target="_blank" href="{link}">open</a>'


def _html_link_or_pending(link: str) -> str:
    """Non-http values are client placeholders for a recording that is not ready yet."""
    return _html_link(link) if link.startswith("http") else PENDING


# --------------------------------------------------------------------------- text/plain


def _plain_field(label: str, *, write_once: bool = False) -> Rule:
    """``- L: value`` lines whose rule swallows the following line breaks (quirk 8.5)."""
    line = _wrap(f"- {label}: ", "\n")
    return Rule(
        re.compile(rf"- {re.escape(label)}: ([^\n]*)\n*"),
        line,
        _append(line),
        write_once=write_once,
    )


def _plain_value(label: str, *, keep_line_break: bool = False) -> Rule:
    """``- L: value`` lines whose value may not contain ``-`` (quirks 8.1, 8.2)."""
    line = _wrap(f"- {label}: ", "\n")
    replacement = line if keep_line_break else _wrap(f"- {label}: ")
    return Rule(
        re.compile(rf"- {re.escape(label)}: ([^\n-]+)(?=\n-|\n|\Z)"), replacement, _append(line)
    )


def _plain_link(label: str) -> Rule:
    line = _wrap(f"- {label}: ", "\n")
    return Rule(re.compile(rf"- {re.escape(label)}: [^\n]*\n*"), line, _append_on_own_line(line))


def _plain_block(label: str, value: Template = _identity) -> Rule:
    """Multi-line ``- L:`` ... ``--- END`` blocks."""
    return Rule(
        re.compile(rf"- {re.escape(label)}:([\s\S]*?)--- END"),
        _wrap(f"- {label}:\n", "\n--- END"),
        _append(_wrap(f"\n- {label}:\n", "\n--- END\n")),
        value,
    )


def _plain_inline(label: str, replacement: Template, addition: Template) -> Rule:
    return Rule(
        re.compile(rf"- {re.escape(label)}:{_S}*([^<\n]+)(?=\n|\Z)", _ICASE),
        replacement,
        _append(addition),
    )


_PLAIN: Final[Mapping[Section, Rule]] = {
    Section.NOTE: Rule(
        # The note runs until the next "- Label:" line (or the end), so it may span lines.
        re.compile(
            rf"- (?:Note|Agent notes): ([\s\S]*?)(?=\n- [A-Z][a-zA-Z{_S[1:-1]}/]*:|\n\Z|\Z)"
        ),
        lambda v: f"- Note: {v}",
        _prepend(lambda v: f"- Note: {v}\n"),
    ),
    Section.SESSION_ID: _plain_field("Session Id"),
    Section.RC_USER_NAME: _plain_field("RingCentral user name", write_once=True),
    Section.RC_NUMBER: _plain_field("RingCentral number and extension"),
    Section.SUBJECT: _plain_field("Summary"),
    Section.CONTACT_NUMBER: _plain_value("Contact Number", keep_line_break=True),
    Section.DATE_TIME: Rule(
        # JavaScript multiline ^ and $: any of the four line terminators ends a line.
        re.compile(r"(?:\A|(?<=[\n\r\u2028\u2029]))- Date/Time:[^\n\r\u2028\u2029]*"),
        lambda v: f"- Date/Time: {v}",
        _append(lambda v: f"- Date/Time: {v}\n"),
    ),
    Section.DURATION: _plain_value("Duration"),
    Section.RESULT: _plain_value("Result"),
    Section.RECORDING_LINK: _plain_link("Call recording link"),
    Section.VOICEMAIL_LINK: _plain_link("Voicemail recording link"),
    Section.AI_NOTE: _plain_block("AI Note", clear_trailing_newlines),
    Section.TRANSCRIPT: _plain_block("Transcript"),
    Section.ACE_TRANSCRIPT: _plain_block("ACE transcript", clear_trailing_newlines),
    Section.ACE_SUMMARY: _plain_block("ACE summary"),
    Section.CALL_SCORE: _plain_inline(
        "Call score", lambda v: f"- Call score: {v}", lambda v: f"- Call score: {v}\n"
    ),
    Section.ACE_BULLETED_SUMMARY: _plain_inline(  # consumes only the first old line: quirk 8.3
        "ACE bulleted summary",
        lambda v: f"- ACE bulleted summary:\n{v}\n--- END",
        lambda v: f"\n- ACE bulleted summary:\n{v}\n--- END\n",
    ),
    Section.ACE_LINK: _plain_inline(
        "ACE recording link",
        lambda v: f"- ACE recording link: {v}",
        lambda v: f"- ACE recording link: {v}\n",
    ),
    Section.CALL_JOURNEY: Rule(
        re.compile(r"- Call journey:([\s\S]*?)--- JOURNEY END"),
        lambda v: f"- Call journey:\n{v}\n--- JOURNEY END",
        _append(lambda v: f"- Call journey:\n{v}\n--- JOURNEY END\n"),
    ),
}

# --------------------------------------------------------------------------- text/html


def _html_label(label: str) -> str:
    """The spec's ``(?:<li>)?<b>L</b>:``, spelled ``(?:<li><b>|<b>)L</b>:``.

    Both try the ``<li>`` form first and then the bare one, so they match the same text with the
    same groups; but with a leading optional group ``re`` attempts a full match at every position
    of the body, while the alternation lets it skip ahead to the next ``<`` (about 10x faster on
    a typical body, more on long ones).
    """
    return rf"(?:<li><b>|<b>){re.escape(label)}</b>:"


def _html_item(label: str, *, write_once: bool = False) -> Rule:
    item = _wrap(f"<li><b>{label}</b>: ", "</li>")
    pattern = rf"{_html_label(label)}{_S}*([^<\n]+)(?:</li>|(?=<|\Z))"
    return Rule(re.compile(pattern, _ICASE), item, _append(item), write_once=write_once)


def _html_link_item(label: str, value: Template, add: Callable[[Template], AddFn]) -> Rule:
    item = _wrap(f"<li><b>{label}</b>: ", "</li>")
    pattern = rf"{_html_label(label)}{_S}*(?:<a[^>]*>[^<]*</a>|[^<]+)(?:</li>|(?=<|\Z))"
    return Rule(re.compile(pattern, _ICASE), item, add(item), value)


def _html_div(label: str, value: Template, *, trailing_break: bool = False) -> Rule:
    """``<div><b>L</b><br>…</div>`` blocks; their ``.`` stops at raw line breaks (spec 6.2)."""
    div = _wrap(f"<div><b>{label}</b><br>", "</div>")
    addition = _wrap(f"<div><b>{label}</b><br>", "</div><br>") if trailing_break else div
    pattern = rf"<div><b>{re.escape(label)}</b><br>({JS_DOT}+?)</div>"
    return Rule(re.compile(pattern), div, _append(addition), value)


_HTML: Final[Mapping[Section, Rule]] = {
    Section.NOTE: Rule(  # the note is neither escaped nor line-broken: quirk 8.6
        re.compile(r"<b>Agent notes</b>([\s\S]+?)Call details</b>"),
        lambda v: f"<b>Agent notes</b><br>{v}<br><br><b>Call details</b>",
        _prepend(lambda v: f"<b>Agent notes</b><br>{v}<br><br><b>Call details</b><br>"),
    ),
    Section.SESSION_ID: _html_item("Session Id"),
    Section.RC_USER_NAME: _html_item("RingCentral user name", write_once=True),
    Section.RC_NUMBER: _html_item("RingCentral number and extension"),
    Section.SUBJECT: _html_item("Summary"),
    Section.CONTACT_NUMBER: _html_item("Caller phone number"),
    Section.DATE_TIME: _html_item("Date/time"),
    Section.DURATION: _html_item("Duration"),
    Section.RESULT: _html_item("Result"),
    Section.RECORDING_LINK: _html_link_item(
        "Call recording link", _html_link_or_pending, _insert_before_list_end
    ),
    Section.VOICEMAIL_LINK: _html_link_item(
        "Voicemail recording link", _html_link_or_pending, _insert_before_list_end
    ),
    Section.AI_NOTE: _html_div("AI Note", _cleared_html, trailing_break=True),
    Section.TRANSCRIPT: _html_div("Transcript", html_line_breaks, trailing_break=True),
    Section.ACE_TRANSCRIPT: _html_div("ACE transcript", _cleared_html),
    Section.ACE_SUMMARY: _html_div("ACE summary", _cleared_html),
    Section.CALL_SCORE: _html_item("Call score"),
    Section.ACE_BULLETED_SUMMARY: _html_div("ACE bulleted summary", _cleared_html),
    Section.ACE_LINK: _html_link_item("ACE recording link", _html_link, _append),
    Section.CALL_JOURNEY: _html_div("Call journey", html_line_breaks),
}
_HTML_OUTBOUND: Final[Mapping[Section, Rule]] = {
    **_HTML,
    Section.CONTACT_NUMBER: _html_item("Recipient phone number"),
}

# --------------------------------------------------------------------------- text/markdown


def _md_field(label: str, *, ignore_case: bool = False, write_once: bool = False) -> Rule:
    line = _wrap(f"**{label}**: ", "\n")
    pattern = re.compile(rf"\*\*{re.escape(label)}\*\*: ([^\n]*)\n*", _ICASE if ignore_case else 0)
    return Rule(pattern, line, _append(line), write_once=write_once)


def _md_heading(title: str, value: Template = _identity, *, stop_before: str = "") -> Rule:
    """``### T`` sections; a replacement leaves the following newline in place (quirk 8.4).

    ``stop_before``: a field line our own layout puts right after this section. The reference
    lets the section run to the next heading, so re-composing ``ACE summary`` swallowed the
    ``**Call score**`` line after it, and with a bulleted summary present the score was lost
    (data loss: fixed here, the only departure from the reference's Markdown rules).
    """
    section = _wrap(f"### {title}\n", "\n")
    stop = rf"\n{re.escape(stop_before)}|" if stop_before else ""
    pattern = re.compile(rf"### {re.escape(title)}\n([\s\S]*?)(?={stop}\n### |\n\Z|\Z)")
    return Rule(pattern, section, _append(section), value)


def _md_add_note(body: str, note: str) -> str:
    """A note added later goes above the existing ``## Call details`` heading, if there is one."""
    if body.startswith("## Call details"):
        return f"## Agent notes\n{note}\n\n{body}"
    return f"## Agent notes\n{note}\n\n## Call details\n{body}"


_MARKDOWN: Final[Mapping[Section, Rule]] = {
    Section.NOTE: Rule(
        re.compile(r"## Agent notes\n([\s\S]*?)\n## Call details"),
        lambda v: f"## Agent notes\n{v}\n\n## Call details",
        _md_add_note,
    ),
    Section.SESSION_ID: _md_field("Session Id"),
    Section.RC_USER_NAME: _md_field("RingCentral user name", ignore_case=True, write_once=True),
    Section.RC_NUMBER: _md_field("RingCentral number and extension", ignore_case=True),
    Section.SUBJECT: _md_field("Summary"),
    Section.CONTACT_NUMBER: _md_field("Contact Number"),
    Section.DATE_TIME: _md_field("Date/Time"),
    Section.DURATION: _md_field("Duration"),
    Section.RESULT: _md_field("Result"),
    Section.RECORDING_LINK: _md_field("Call recording link"),
    Section.VOICEMAIL_LINK: _md_field("Voicemail recording link"),
    Section.AI_NOTE: _md_heading("AI Note", clear_trailing_newlines),
    Section.TRANSCRIPT: _md_heading("Transcript"),
    Section.ACE_TRANSCRIPT: _md_heading("ACE transcript", clear_trailing_newlines),
    Section.ACE_SUMMARY: _md_heading("ACE summary", stop_before="**Call score**: "),
    Section.CALL_SCORE: _md_field("Call score"),
    Section.ACE_BULLETED_SUMMARY: _md_heading("ACE bulleted summary"),
    Section.ACE_LINK: Rule(
        re.compile(rf"\*\*ACE recording link\*\*:{_S}*([^<\n]+)(?=\n|\Z)", _ICASE),
        lambda v: f"**ACE recording link**: {v}\n",
        _append(lambda v: f"**ACE recording link**: {v}\n"),
    ),
    Section.CALL_JOURNEY: _md_heading("Call journey"),
}


def rules_for(log_format: str, *, outbound: bool) -> Mapping[Section, Rule]:
    """The rule table of a composed format; HTML labels the contact number by call direction."""
    if log_format == "text/html":
        return _HTML_OUTBOUND if outbound else _HTML
    if log_format == "text/markdown":
        return _MARKDOWN
    return _PLAIN
