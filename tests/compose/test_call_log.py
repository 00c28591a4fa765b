"""Call-log composer: every section in every format, exact strings from spec sections 5, 8, 9.

Expected values are copied verbatim from ``/work/shared/spec/log-composition.md``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from appconnect.compose import COMPOSED_FORMATS, UNSET, compose_call_log, format_duration
from appconnect.compose.call_log import journey_text
from appconnect.compose.formatting import js_number_str, js_to_number, js_truthy
from appconnect.compose.moment import format_instant, parse_instant, user_offset

PLAIN, HTML, MD = COMPOSED_FORMATS

SETTING_IDS = (
    "addCallLogNote addCallSessionId addRingCentralUserName addRingCentralNumber addCallLogSubject "
    "addCallLogContactNumber addCallLogDateTime addCallLogDuration addCallLogResult "
    "addCallLogRecording addCallLogAiNote addCallLogTranscript "
    "addCallLogRingSenseRecordingTranscript addCallLogRingSenseRecordingSummary "
    "addCallLogRingSenseRecordingAIScore addCallLogRingSenseRecordingBulletedSummary "
    "addCallLogRingSenseRecordingLink addCallLogLegs"
).split()
ALL_ON: dict[str, Any] = {setting: {"value": True} for setting in SETTING_IDS}
HM = {**ALL_ON, "logDateFormat": {"value": "YYYY-MM-DD HH:mm"}}

AGENT = {"name": "Agent", "phoneNumber": "+100", "extensionNumber": "101"}
LEGS = [
    {
        "direction": "Outbound",
        "from": AGENT,
        "to": {"name": "John", "phoneNumber": "+200"},
        "duration": 30,
    },
    {
        "direction": "Outbound",
        "from": AGENT,
        "to": {"name": "Queue", "extensionNumber": "500"},
        "legType": "PstnToSip",
        "duration": 45,
    },
]
AUTO = (
    "- Note: From auto logging 123\n- Summary: Inbound Call from Embbnux Rcorg\n- Contact Number:"
    " +16579991394- Call journey:\nMade call from Agent, +000, ext 101\nTransferred to Queue, ext "
    "500, duration: 12 seconds\n--- JOURNEY END\n"
)
INBOUND = {"direction": "Inbound"}
RC_USER = {"call_log": {"direction": "Inbound", "to": {"name": "John Doe"}}}
RC_NUMBER = {
    "call_log": {
        "direction": "Inbound",
        "to": {"phoneNumber": "+1234567890"},
        "from": {"extensionNumber": "101"},
    }
}
START = "2023-01-01T12:00:00Z"
REC = "https://example.com/recording.mp3"
ANCHOR = f'<a target="_blank" href="{REC}">open</a>'


def compose(
    fmt: str, body: str = "", *, settings: Any = ALL_ON, offset: Any = None, **inputs: Any
) -> str:
    return compose_call_log(
        log_format=fmt,
        existing_body=body,
        user_settings=settings,
        user={"timezoneOffset": offset},
        **inputs,
    )


def run(fmt: str, body: str, inputs: dict[str, Any]) -> str:
    inputs = dict(inputs)
    return compose(
        fmt,
        body,
        settings=inputs.pop("settings", ALL_ON),
        offset=inputs.pop("offset", None),
        **inputs,
    )


# --------------------------------------------------------------------------- 9.1 text/plain

PLAIN_CASES = [
    ("", {"note": "Test note"}, "- Note: Test note\n"),
    (
        "- Note: Old note\n- Duration: 30 seconds\n",
        {"note": "New note"},
        "- Note: New note\n- Duration: 30 seconds\n",
    ),
    (
        "- Note: Old note\nwith multiple lines\n- Duration: 30 seconds\n",
        {"note": "New note"},
        "- Note: New note\n- Duration: 30 seconds\n",
    ),
    (AUTO, {"note": "New note"}, AUTO.replace("From auto logging 123", "New note")),
    ("", {"call_log": {"sessionId": "session123"}}, "- Session Id: session123\n"),
    (
        "- Session Id: old123\n- Duration: 30 seconds\n",
        {"call_log": {"sessionId": "new123"}},
        "- Session Id: new123\n- Duration: 30 seconds\n",
    ),
    ("", {"subject": "Test subject"}, "- Summary: Test subject\n"),
    (
        "- Summary: Old subject\n- Duration: 30 seconds\n",
        {"subject": "New subject"},
        "- Summary: New subject\n- Duration: 30 seconds\n",
    ),
    (
        "",
        {"call_log": INBOUND, "contact_info": {"phoneNumber": "+1234567890"}},
        "- Contact Number: +1234567890\n",
    ),
    ("", {"start_time": START}, "- Date/Time: 2023-01-01 12:00:00 PM\n"),
    (
        "- Date/Time: 2023-01-01 12:00:00 AM\n- Duration: 30 seconds\n",
        {"start_time": START, "offset": "+08:00"},
        "- Date/Time: 2023-01-01 08:00:00 PM\n- Duration: 30 seconds\n",
    ),
    (
        "- Date/Time: old date\n",
        {"start_time": "2024-01-15T10:30:00Z", "offset": "+00:00", "settings": HM},
        "- Date/Time: 2024-01-15 10:30\n",
    ),
    ("", {"duration": 90}, "- Duration: 1 minute, 30 seconds\n"),
    (
        "- Duration: 30 seconds\n- Result: Answered\n",
        {"duration": 90},
        "- Duration: 1 minute, 30 seconds\n- Result: Answered\n",
    ),
    ("", {"duration": 0}, "- Duration: 0 seconds\n"),
    ("", {"result": "Answered"}, "- Result: Answered\n"),
    (
        "- Result: Missed\n- Duration: 30 seconds\n",
        {"result": "Answered"},
        "- Result: Answered\n- Duration: 30 seconds\n",
    ),
    ("", {"recording_link": REC}, f"- Call recording link: {REC}\n"),
    (
        "- Call recording link: old-link\n- Duration: 30 seconds\n",
        {"recording_link": REC},
        f"- Call recording link: {REC}\n- Duration: 30 seconds\n",
    ),
    ("Some content", {"recording_link": REC}, f"Some content\n- Call recording link: {REC}\n"),
    (
        "- Summary: Existing",
        {"recording_link": "https://recording.example.com/123"},
        "- Summary: Existing\n- Call recording link: https://recording.example.com/123\n",
    ),
    ("", {"ai_note": "AI generated note"}, "\n- AI Note:\nAI generated note\n--- END\n"),
    ("", {"ai_note": "AI note\n\n\n"}, "\n- AI Note:\nAI note\n--- END\n"),
    (
        "- AI Note:\nOld AI note\n--- END\n",
        {"ai_note": "New AI note"},
        "- AI Note:\nNew AI note\n--- END\n",
    ),
    ("", {"transcript": "Call transcript"}, "\n- Transcript:\nCall transcript\n--- END\n"),
    (
        "- Transcript:\nOld transcript\n--- END\n",
        {"transcript": "New transcript"},
        "- Transcript:\nNew transcript\n--- END\n",
    ),
    (
        "",
        {"ring_sense_transcript": "RS transcript"},
        "\n- ACE transcript:\nRS transcript\n--- END\n",
    ),
    (
        "- ACE transcript:\nOld transcript\n--- END\n",
        {"ring_sense_transcript": "New transcript"},
        "- ACE transcript:\nNew transcript\n--- END\n",
    ),
    (
        "",
        {"ring_sense_summary": "Point A\nPoint B"},
        "\n- ACE summary:\nPoint A\nPoint B\n--- END\n",
    ),
    (
        "- ACE summary:\nOld \nsum\n--- END\n",
        {"ring_sense_summary": "New sum"},
        "- ACE summary:\nNew sum\n--- END\n",
    ),
    ("", {"ring_sense_ai_score": "75"}, "- Call score: 75\n"),
    (
        "- Call score: 60\n- Result: Answered\n",
        {"ring_sense_ai_score": "88"},
        "- Call score: 88\n- Result: Answered\n",
    ),
    (
        "",
        {"ring_sense_bulleted_summary": "- A\n- B"},
        "\n- ACE bulleted summary:\n- A\n- B\n--- END\n",
    ),
    (
        "- ACE bulleted summary: Old item\n",
        {"ring_sense_bulleted_summary": "- New item"},
        "- ACE bulleted summary:\n- New item\n--- END\n",
    ),
    (
        "",
        {"ring_sense_link": "https://ringsense.example.com/rec/456"},
        "- ACE recording link: https://ringsense.example.com/rec/456\n",
    ),
    (
        "- ACE recording link: https://old.link\n- Duration: 30 seconds\n",
        {"ring_sense_link": "https://ringsense.example.com/new"},
        "- ACE recording link: https://ringsense.example.com/new\n- Duration: 30 seconds\n",
    ),
    (
        "",
        {"call_log": {"legs": LEGS}},
        "- Call journey:\nMade call from Agent, +100, ext 101\nTransferred to Queue, ext 500, "
        "duration: 45 seconds\n--- JOURNEY END\n",
    ),
    (AUTO, {"call_log": {"legs": LEGS}}, AUTO.replace("+000", "+100").replace("12 s", "45 s")),
    ("existing", {"call_log": {"legs": []}}, "existing"),
    ("", RC_USER, "- RingCentral user name: John Doe\n"),
    ("- RingCentral user name: (pending...)\n", RC_USER, "- RingCentral user name: John Doe\n"),
    ("- RingCentral user name: Jane Smith\n", RC_USER, "- RingCentral user name: Jane Smith\n"),
    (
        "- RingCentral number and extension: +9999999999 999\n",
        RC_NUMBER,
        "- RingCentral number and extension: +1234567890 101\n",
    ),
]

# --------------------------------------------------------------------------- 9.1 text/html

HTML_CASES = [
    ("", {"note": "Test note"}, "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br>"),
    (
        "<b>Agent notes</b><br>Old note<br><br><b>Call details</b><br>Some details",
        {"note": "New note"},
        "<b>Agent notes</b><br>New note<br><br><b>Call details</b><br>Some details",
    ),
    ("", {"call_log": {"sessionId": "session123"}}, "<li><b>Session Id</b>: session123</li>"),
    (
        "<li><b>Session Id</b>: old-session</li>",
        {"call_log": {"sessionId": "new-session"}},
        "<li><b>Session Id</b>: new-session</li>",
    ),
    (
        "<li><b>RingCentral number and extension</b>: +111 101</li>",
        {
            "call_log": {
                "direction": "Inbound",
                "to": {"phoneNumber": "+222"},
                "from": {"extensionNumber": "202"},
            }
        },
        "<li><b>RingCentral number and extension</b>: +222 202</li>",
    ),
    ("", {"subject": "Test subject"}, "<li><b>Summary</b>: Test subject</li>"),
    (
        "<li><b>Summary</b>: Old subject</li>",
        {"subject": "New subject"},
        "<li><b>Summary</b>: New subject</li>",
    ),
    (
        "",
        {"call_log": INBOUND, "contact_info": {"phoneNumber": "+1234567890"}},
        "<li><b>Caller phone number</b>: +1234567890</li>",
    ),
    (
        "",
        {"call_log": {"direction": "Outbound"}, "contact_info": {"phoneNumber": "+1234567890"}},
        "<li><b>Recipient phone number</b>: +1234567890</li>",
    ),
    (
        "<li><b>Caller phone number</b>: +0987654321</li>",
        {"call_log": INBOUND, "contact_info": {"phoneNumber": "+1234567890"}},
        "<li><b>Caller phone number</b>: +1234567890</li>",
    ),
    (
        "",
        {"start_time": START, "offset": "+05:30"},
        "<li><b>Date/time</b>: 2023-01-01 05:30:00 PM</li>",
    ),
    (
        "",
        {"start_time": START, "offset": "330"},
        "<li><b>Date/time</b>: 2023-01-01 05:30:00 PM</li>",
    ),
    (
        "",
        {"start_time": START, "offset": "-4"},
        "<li><b>Date/time</b>: 2023-01-01 08:00:00 AM</li>",
    ),
    (
        "<li><b>Date/time</b>: old date</li>",
        {"start_time": "2024-01-15T10:30:00Z", "offset": "+00:00", "settings": HM},
        "<li><b>Date/time</b>: 2024-01-15 10:30</li>",
    ),
    ("", {"duration": 90}, "<li><b>Duration</b>: 1 minute, 30 seconds</li>"),
    (
        "<li><b>Duration</b>: 30 seconds</li>",
        {"duration": 90},
        "<li><b>Duration</b>: 1 minute, 30 seconds</li>",
    ),
    ("", {"result": "Answered"}, "<li><b>Result</b>: Answered</li>"),
    ("<li><b>Result</b>: Missed</li>", {"result": "Answered"}, "<li><b>Result</b>: Answered</li>"),
    ("", {"recording_link": REC}, f"<li><b>Call recording link</b>: {ANCHOR}</li>"),
    (
        "",
        {"recording_link": "pending-recording-id"},
        "<li><b>Call recording link</b>: (pending...)</li>",
    ),
    (
        "<li><b>Call recording link</b>: (pending...)</li>",
        {"recording_link": REC},
        f"<li><b>Call recording link</b>: {ANCHOR}</li>",
    ),
    (
        '<li><b>Call recording link</b>: <a href="https://old.example.com">open</a></li>',
        {"recording_link": "pending"},
        "<li><b>Call recording link</b>: (pending...)</li>",
    ),
    (
        "<ul><li><b>Duration</b>: 30 seconds</li></ul>",
        {"recording_link": REC},
        f"<ul><li><b>Duration</b>: 30 seconds</li><li><b>Call recording link</b>: {ANCHOR}</li>"
        "</ul>",
    ),
    (
        "<ul><li><b>Duration</b>: 1 minute</li></ul>",
        {"recording_link": "pending"},
        "<ul><li><b>Duration</b>: 1 minute</li><li><b>Call recording link</b>: (pending...)</li>"
        "</ul>",
    ),
    ("", {"ai_note": "AI generated note"}, "<div><b>AI Note</b><br>AI generated note</div><br>"),
    (
        "",
        {"ai_note": "AI note\nwith multiple\nlines"},
        "<div><b>AI Note</b><br>AI note<br>with multiple<br>lines</div><br>",
    ),
    ("", {"ai_note": "AI note\n\n\n"}, "<div><b>AI Note</b><br>AI note</div><br>"),
    (
        "<div><b>AI Note</b><br>Old AI note</div><br>",
        {"ai_note": "New AI note"},
        "<div><b>AI Note</b><br>New AI note</div><br>",
    ),
    (
        "<div><b>AI Note</b><br>Old AI note</div>",
        {"ai_note": "New AI note\n"},
        "<div><b>AI Note</b><br>New AI note</div>",
    ),
    ("", {"transcript": "Call transcript"}, "<div><b>Transcript</b><br>Call transcript</div><br>"),
    (
        "",
        {"transcript": "Line 1\nLine 2\nLine 3"},
        "<div><b>Transcript</b><br>Line 1<br>Line 2<br>Line 3</div><br>",
    ),
    (
        "<div><b>Transcript</b><br>Old transcript</div><br>",
        {"transcript": "New transcript"},
        "<div><b>Transcript</b><br>New transcript</div><br>",
    ),
    (
        "",
        {"ring_sense_transcript": "RS transcript"},
        "<div><b>ACE transcript</b><br>RS transcript</div>",
    ),
    (
        "<div><b>ACE transcript</b><br>Old</div>",
        {"ring_sense_transcript": "New"},
        "<div><b>ACE transcript</b><br>New</div>",
    ),
    (
        "",
        {"ring_sense_summary": "Summary line 1\nSummary line 2"},
        "<div><b>ACE summary</b><br>Summary line 1<br>Summary line 2</div>",
    ),
    (
        "<div><b>ACE summary</b><br>Old summary</div>",
        {"ring_sense_summary": "New summary\nwith details\n"},
        "<div><b>ACE summary</b><br>New summary<br>with details</div>",
    ),
    ("", {"ring_sense_ai_score": "82"}, "<li><b>Call score</b>: 82</li>"),
    (
        "<li><b>Call score</b>: 60</li>",
        {"ring_sense_ai_score": "90"},
        "<li><b>Call score</b>: 90</li>",
    ),
    (
        "",
        {"ring_sense_bulleted_summary": "- Point 1\n- Point 2"},
        "<div><b>ACE bulleted summary</b><br>- Point 1<br>- Point 2</div>",
    ),
    (
        "<div><b>ACE bulleted summary</b><br>Old item</div>",
        {"ring_sense_bulleted_summary": "- New item\n- Next item\n"},
        "<div><b>ACE bulleted summary</b><br>- New item<br>- Next item</div>",
    ),
    (
        "",
        {"ring_sense_link": "https://ringsense.example.com/rec/123"},
        '<li><b>ACE recording link</b>: <a target="_blank" '
        'href="https://ringsense.example.com/rec/123">open</a></li>',
    ),
    (
        '<li><b>ACE recording link</b>: <a target="_blank" href="https://old.link">open</a></li>',
        {"ring_sense_link": "https://ringsense.example.com/new"},
        '<li><b>ACE recording link</b>: <a target="_blank" '
        'href="https://ringsense.example.com/new">open</a></li>',
    ),
    (
        "",
        {"call_log": {"legs": LEGS}},
        "<div><b>Call journey</b><br>Made call from Agent, +100, ext 101<br>Transferred to Queue, "
        "ext 500, duration: 45 seconds</div>",
    ),
    (
        "<div><b>Call journey</b><br>Made call from Agent, +000, ext 101<br>Transferred to Queue, "
        "ext 500, duration: 12 seconds</div>",
        {"call_log": {"legs": LEGS}},
        "<div><b>Call journey</b><br>Made call from Agent, +100, ext 101<br>Transferred to Queue, "
        "ext 500, duration: 45 seconds</div>",
    ),
    (
        "<div><b>Call journey</b><br>Old journey</div>",
        {
            "call_log": {
                "legs": [
                    {
                        "direction": "Inbound",
                        "from": {"phoneNumber": "+15550000001"},
                        "to": {"extensionNumber": "101"},
                        "duration": 1,
                    }
                ]
            }
        },
        "<div><b>Call journey</b><br>Received call at ext 101</div>",
    ),
]

# --------------------------------------------------------------------------- 9.1 text/markdown

MD_CASES = [
    ("", {"note": "Test note"}, "## Agent notes\nTest note\n\n## Call details\n"),
    ("", {"call_log": {"sessionId": "session-123"}}, "**Session Id**: session-123\n"),
    (
        "**Summary**: Old subject\n**Duration**: 5 minutes",
        {"subject": "New subject"},
        "**Summary**: New subject\n**Duration**: 5 minutes",
    ),
    (
        "**Contact Number**: +111\n",
        {"call_log": INBOUND, "contact_info": {"phoneNumber": "+222"}},
        "**Contact Number**: +222\n",
    ),
    (
        "**Date/Time**: 2024-01-01 09:00:00 AM\n",
        {"start_time": "2024-01-15T10:30:00Z", "offset": "+00:00", "settings": HM},
        "**Date/Time**: 2024-01-15 10:30\n",
    ),
    ("", {"duration": 120}, "**Duration**: 2 minutes\n"),
    ("**Duration**: 1 minute\n", {"duration": 180}, "**Duration**: 3 minutes\n"),
    ("**Result**: Pending\n", {"result": "Completed"}, "**Result**: Completed\n"),
    (
        "**Call recording link**: https://old-link.com\n",
        {"recording_link": "https://new-link.com/456"},
        "**Call recording link**: https://new-link.com/456\n",
    ),
    (
        "**Voicemail recording link**: https://old-link.example.com\n",
        {"voicemail_link": "https://voicemail.example.com/new"},
        "**Voicemail recording link**: https://voicemail.example.com/new\n",
    ),
    ("**RingCentral user name**: (pending...)\n", RC_USER, "**RingCentral user name**: John Doe\n"),
    ("**Call score**: 10\n", {"ring_sense_ai_score": "99"}, "**Call score**: 99\n"),
    (
        "### ACE transcript\nOld transcript\n",
        {"ring_sense_transcript": "New transcript\n"},
        "### ACE transcript\nNew transcript\n\n",
    ),
    (
        "### ACE summary\nOld summary\n",
        {"ring_sense_summary": "New summary"},
        "### ACE summary\nNew summary\n\n",
    ),
    (
        "### ACE bulleted summary\nOld item\n",
        {"ring_sense_bulleted_summary": "- New item"},
        "### ACE bulleted summary\n- New item\n\n",
    ),
    (
        "",
        {"call_log": {"legs": LEGS}},
        "### Call journey\nMade call from Agent, +100, ext 101\nTransferred to Queue, ext 500, "
        "duration: 45 seconds\n",
    ),
    (
        "### Call journey\nMade call from Agent, +000, ext 101\nTransferred to Queue, ext 500, "
        "duration: 12 seconds\n",
        {"call_log": {"legs": LEGS}},
        "### Call journey\nMade call from Agent, +100, ext 101\nTransferred to Queue, ext 500, "
        "duration: 45 seconds\n\n",
    ),
]


@pytest.mark.parametrize(("body", "inputs", "expected"), PLAIN_CASES)
def test_plain_single_section(body: str, inputs: dict[str, Any], expected: str) -> None:
    assert run(PLAIN, body, inputs) == expected


@pytest.mark.parametrize(("body", "inputs", "expected"), HTML_CASES)
def test_html_single_section(body: str, inputs: dict[str, Any], expected: str) -> None:
    assert run(HTML, body, inputs) == expected


@pytest.mark.parametrize(("body", "inputs", "expected"), MD_CASES)
def test_markdown_single_section(body: str, inputs: dict[str, Any], expected: str) -> None:
    assert run(MD, body, inputs) == expected


def test_plain_default_date_pattern_shape() -> None:
    assert re.fullmatch(
        r"- Date/Time: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [AP]M\n",
        compose(PLAIN, start_time=START),
    )


def test_html_voicemail_inside_list() -> None:
    body = compose(HTML, "<ul></ul>", voicemail_link="https://voicemail.example.com/123")
    assert body == (
        '<ul><li><b>Voicemail recording link</b>: <a target="_blank" '
        'href="https://voicemail.example.com/123">open</a></li></ul>'
    )


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_rc_user_name_added_when_absent(fmt: str) -> None:
    assert "RingCentral user name" in run(fmt, "", RC_USER)
    assert "John Doe" in run(fmt, "", RC_USER)


def test_markdown_note_added_above_existing_call_details() -> None:
    body = "## Call details\n**Duration**: 2 minutes\n"
    assert compose(MD, body, note="Later") == (
        "## Agent notes\nLater\n\n## Call details\n**Duration**: 2 minutes\n"
    )
    assert compose(MD, "**Duration**: 2 minutes\n", note="N") == (
        "## Agent notes\nN\n\n## Call details\n**Duration**: 2 minutes\n"
    )


# --------------------------------------------------------------------------- 9.2 full compositions

BASE_CALL = {
    "sessionId": "session-123",
    "direction": "Outbound",
    "startTime": "2024-01-15T10:30:00Z",
    "duration": 120,
    "result": "Completed",
    "from": {"phoneNumber": "+1234567890", "name": "John Doe"},
    "to": {"phoneNumber": "+0987654321", "name": "Jane Smith"},
}


def full(fmt: str, settings: dict[str, Any], **extra: Any) -> str:
    """The 9.2.1/9.2.2 input, composed from an empty body."""
    return compose_call_log(
        log_format=fmt,
        existing_body="",
        call_log=BASE_CALL,
        contact_info={"phoneNumber": "+0987654321"},
        user={"userSettings": settings, "timezoneOffset": "+00:00"},
        note="Test note",
        subject="Test Call",
        start_time=BASE_CALL["startTime"],
        duration=BASE_CALL["duration"],
        result=BASE_CALL["result"],
        **extra,
    )


DEFAULTS_EXPECTED = {
    PLAIN: "- Note: Test note\n- Summary: Test Call\n- Date/Time: 2024-01-15 10:30:00 AM\n"
    "- Duration: 2 minutes\n- Result: Completed\n",
    HTML: "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br><li><b>Summary</b>: Test "
    "Call</li><li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li><li><b>Duration</b>: 2 "
    "minutes</li><li><b>Result</b>: Completed</li>",
    MD: "## Agent notes\nTest note\n\n## Call details\n**Summary**: Test Call\n**Date/Time**: "
    "2024-01-15 10:30:00 AM\n**Duration**: 2 minutes\n**Result**: Completed\n",
}


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_full_defaults(fmt: str) -> None:
    """9.2.1: the settings come from the user row when ``user_settings`` is not given."""
    assert full(fmt, {}) == DEFAULTS_EXPECTED[fmt]


def test_full_defaults_with_switches_off() -> None:
    off = {
        key: {"value": False}
        for key in ("addCallLogNote", "addCallLogSubject", "addCallLogDuration")
    }
    body = compose_call_log(
        log_format=PLAIN,
        call_log=BASE_CALL,
        user={"userSettings": off},
        note="Test note",
        subject="Test Call",
        duration=120,
        result="Completed",
    )
    assert "Note:" not in body and "Summary:" not in body and "Duration:" not in body
    assert "Result: Completed" in body


EVERY: dict[str, Any] = {
    "recording_link": "https://recording.example.com/123",
    "voicemail_link": "https://voicemail.example.com/123",
    "ai_note": "AI generated summary",
    "transcript": "Speaker 1: Hello",
    "ring_sense_transcript": "ACE transcript",
    "ring_sense_summary": "ACE summary",
    "ring_sense_ai_score": "92",
    "ring_sense_bulleted_summary": "- First item\n- Second item",
    "ring_sense_link": "https://ringsense.example.com/recording",
}
EVERY_SETTINGS = {
    key: {"value": True}
    for key in (
        "addCallSessionId",
        "addRingCentralUserName",
        "addRingCentralNumber",
        "addCallLogContactNumber",
    )
}
EVERY_EXPECTED = {
    PLAIN: "- Note: Test note\n- Session Id: session-123\n- RingCentral user name: John Doe\n- "
    "RingCentral number and extension: +1234567890 \n- Summary: Test Call\n- Contact Number: "
    "+0987654321\n- Date/Time: 2024-01-15 10:30:00 AM\n- Duration: 2 minutes\n- Result: Completed"
    "\n- Call recording link: https://recording.example.com/123\n- Voicemail recording link: "
    "https://voicemail.example.com/123\n\n- AI Note:\nAI generated summary\n--- END\n\n- "
    "Transcript:\nSpeaker 1: Hello\n--- END\n\n- ACE transcript:\nACE transcript\n--- END\n\n- "
    "ACE summary:\nACE summary\n--- END\n- Call score: 92\n\n- ACE bulleted summary:\n- First "
    "item\n- Second item\n--- END\n- ACE recording link: https://ringsense.example.com/recording\n",
    HTML: "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br><li><b>Session Id</b>: "
    "session-123</li><li><b>RingCentral user name</b>: John Doe</li><li><b>RingCentral number and "
    "extension</b>: +1234567890 </li><li><b>Summary</b>: Test Call</li><li><b>Recipient phone "
    "number</b>: +0987654321</li><li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li><li><b>Duration"
    "</b>: 2 minutes</li><li><b>Result</b>: Completed</li><li><b>Call recording link</b>: <a "
    'target="_blank" href="https://recording.example.com/123">open</a></li><li><b>Voicemail '
    'recording link</b>: <a target="_blank" href="https://voicemail.example.com/123">open</a>'
    "</li><div><b>AI Note</b><br>AI generated summary</div><br><div><b>Transcript</b><br>Speaker "
    "1: Hello</div><br><div><b>ACE transcript</b><br>ACE transcript</div><div><b>ACE summary</b>"
    "<br>ACE summary</div><li><b>Call score</b>: 92</li><div><b>ACE bulleted summary</b><br>- "
    'First item<br>- Second item</div><li><b>ACE recording link</b>: <a target="_blank" href="'
    'https://ringsense.example.com/recording">open</a></li>',
    MD: "## Agent notes\nTest note\n\n## Call details\n**Session Id**: session-123\n**RingCentral "
    "user name**: John Doe\n**RingCentral number and extension**: +1234567890 \n**Summary**: Test "
    "Call\n**Contact Number**: +0987654321\n**Date/Time**: 2024-01-15 10:30:00 AM\n**Duration**: 2"
    " minutes\n**Result**: Completed\n**Call recording link**: https://recording.example.com/123\n"
    "**Voicemail recording link**: https://voicemail.example.com/123\n### AI Note\nAI generated "
    "summary\n### Transcript\nSpeaker 1: Hello\n### ACE transcript\nACE transcript\n### ACE "
    "summary\nACE summary\n**Call score**: 92\n### ACE bulleted summary\n- First item\n- Second "
    "item\n**ACE recording link**: https://ringsense.example.com/recording\n",
}


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_full_every_section(fmt: str) -> None:
    """9.2.2."""
    assert full(fmt, EVERY_SETTINGS, **EVERY) == EVERY_EXPECTED[fmt]


INBOUND_SETTINGS = {
    key: {"value": True}
    for key in (
        "addCallLogNote",
        "addCallLogSubject",
        "addCallLogDateTime",
        "addCallLogDuration",
        "addCallLogResult",
        "addCallLogRecording",
        "addCallLogAiNote",
        "addCallLogTranscript",
        "addCallSessionId",
        "addCallLogContactNumber",
    )
}
INBOUND_USER = {"timezoneOffset": "+05:30", "userSettings": INBOUND_SETTINGS}
INBOUND_CALL = {
    "sessionId": "session123",
    "startTime": START,
    "duration": 90,
    "result": "Answered",
    "direction": "Inbound",
}
INBOUND_EXPECTED = {
    PLAIN: "- Note: Test note\n- Session Id: session123\n- Summary: Test subject\n- Contact Number"
    ": +1234567890\n- Date/Time: 2023-01-01 05:30:00 PM\n- Duration: 1 minute, 30 seconds\n- "
    "Result: Answered\n- Call recording link: https://example.com/recording.mp3\n\n- AI Note:\nAI "
    "generated note\n--- END\n\n- Transcript:\nCall transcript\n--- END\n",
    HTML: "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br><li><b>Session Id</b>: "
    "session123</li><li><b>Summary</b>: Test subject</li><li><b>Caller phone number</b>: "
    "+1234567890</li><li><b>Date/time</b>: 2023-01-01 05:30:00 PM</li><li><b>Duration</b>: 1 "
    "minute, 30 seconds</li><li><b>Result</b>: Answered</li><li><b>Call recording link</b>: <a "
    'target="_blank" href="https://example.com/recording.mp3">open</a></li><div><b>AI Note</b>'
    "<br>AI generated note</div><br><div><b>Transcript</b><br>Call transcript</div><br>",
    MD: "## Agent notes\nTest note\n\n## Call details\n**Session Id**: session123\n**Summary**: "
    "Test subject\n**Contact Number**: +1234567890\n**Date/Time**: 2023-01-01 05:30:00 PM\n**"
    "Duration**: 1 minute, 30 seconds\n**Result**: Answered\n**Call recording link**: https://"
    "example.com/recording.mp3\n### AI Note\nAI generated note\n### Transcript\nCall transcript\n",
}


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_full_inbound_with_offset(fmt: str) -> None:
    """9.2.3."""
    body = compose_call_log(
        log_format=fmt,
        call_log=INBOUND_CALL,
        user=INBOUND_USER,
        contact_info={"phoneNumber": "+1234567890", "name": "John Doe"},
        note="Test note",
        subject="Test subject",
        ai_note="AI generated note",
        transcript="Call transcript",
        recording_link=REC,
        duration=90,
        result="Answered",
    )
    assert body == INBOUND_EXPECTED[fmt]


def test_full_inbound_update_of_foreign_body() -> None:
    """9.2.3: missing sections are appended after the replaced ones."""
    body = compose_call_log(
        log_format=PLAIN,
        existing_body="- Note: Old note\n- Duration: 30 seconds\n",
        call_log=INBOUND_CALL,
        user=INBOUND_USER,
        contact_info={"phoneNumber": "+1234567890"},
        note="New note",
        duration=90,
        result="Answered",
    )
    assert body == (
        "- Note: New note\n- Duration: 1 minute, 30 seconds\n- Session Id: session123\n- Contact "
        "Number: +1234567890\n- Date/Time: 2023-01-01 05:30:00 PM\n- Result: Answered\n"
    )


DETAILED_LEGS = [
    {"direction": "Inbound", "to": {"phoneNumber": "+14155550101"}},
    {
        "direction": "Inbound",
        "duration": 54,
        "to": {"phoneNumber": "+14155550101", "extensionNumber": "101", "name": "Test Agent"},
    },
    {
        "direction": "Outbound",
        "legType": "FindMe",
        "duration": 50,
        "from": {"phoneNumber": "+14155550199", "name": "Test Agent"},
        "to": {"phoneNumber": "+14155550188", "name": "Agent Mobile"},
    },
]
JOURNEY = (
    "Received call at +14155550101\nTransferred to Test Agent, +14155550101, ext 101, "
    "duration: 54 seconds\nTransferred to Test Agent, +14155550199, duration: 50 seconds"
)
DETAILED_EXPECTED = {
    PLAIN: "- Note: Called back about invoice\n- Summary: Inbound call from Test Contact\n- Contact"
    " Number: +14155550199\n- Date/Time: 07/13/2026 19:30\n- Duration: 54 seconds\n- Result: "
    f"Accepted\n- Call journey:\n{JOURNEY}\n--- JOURNEY END\n",
    HTML: "<b>Agent notes</b><br>Called back about invoice<br><br><b>Call details</b><br><li><b>"
    "Summary</b>: Inbound call from Test Contact</li><li><b>Caller phone number</b>: +14155550199"
    "</li><li><b>Date/time</b>: 07/13/2026 19:30</li><li><b>Duration</b>: 54 seconds</li><li><b>"
    "Result</b>: Accepted</li><div><b>Call journey</b><br>"
    + JOURNEY.replace("\n", "<br>")
    + "</div>",
    MD: "## Agent notes\nCalled back about invoice\n\n## Call details\n**Summary**: Inbound call "
    "from Test Contact\n**Contact Number**: +14155550199\n**Date/Time**: 07/13/2026 19:30\n**"
    f"Duration**: 54 seconds\n**Result**: Accepted\n### Call journey\n{JOURNEY}\n",
}


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_full_detailed_inbound_with_legs(fmt: str) -> None:
    """9.2.4: custom date pattern, negative offset, and a three-leg journey."""
    log_info = {
        "direction": "Inbound",
        "startTime": "2026-07-14T02:30:00.000Z",
        "duration": 54,
        "result": "Accepted",
        "customSubject": "Inbound call from Test Contact",
        "legs": DETAILED_LEGS,
    }
    user = {
        "timezoneOffset": "-07:00",
        "userSettings": {
            "addCallLogContactNumber": {"value": True},
            "logDateFormat": {"value": "MM/DD/YYYY HH:mm"},
        },
    }
    body = compose_call_log(
        log_format=fmt,
        call_log=log_info,
        user=user,
        contact_info={"phoneNumber": "+14155550199"},
        note="Called back about invoice",
        subject=log_info["customSubject"],
        start_time=log_info["startTime"],
        duration=log_info["duration"],
        result=log_info["result"],
    )
    assert body == DETAILED_EXPECTED[fmt]


def test_edge_inputs() -> None:
    """9.2.5."""
    assert compose_call_log(log_format=PLAIN, call_log={}, contact_info={}, user={}) == ""
    assert "Result: Completed" in compose_call_log(
        log_format=PLAIN, call_log={"direction": "Outbound"}, user={}, result="Completed"
    )
    body = compose_call_log(
        log_format=PLAIN, user={"userSettings": None}, call_log={}, note="Test", duration=60
    )
    assert "Note: Test" in body and "Duration:" in body


def test_edge_markdown_ace_only() -> None:
    body = compose(
        MD,
        ring_sense_transcript="Agent: hi\nCustomer: hello\n",
        ring_sense_summary="Discussed pricing\n",
        ring_sense_ai_score=88,
        ring_sense_bulleted_summary="- pricing\n- follow-up",
        ring_sense_link="https://rs/3",
    )
    assert body == (
        "### ACE transcript\nAgent: hi\nCustomer: hello\n### ACE summary\nDiscussed pricing\n\n"
        "**Call score**: 88\n### ACE bulleted summary\n- pricing\n- follow-up\n"
        "**ACE recording link**: https://rs/3\n"
    )


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
def test_edge_ace_and_legs_switched_off(fmt: str) -> None:
    off = {key: {"value": False} for key in SETTING_IDS if "RingSense" in key or "Legs" in key}
    body = compose(fmt, settings=off, call_log={"legs": LEGS}, **EVERY)
    for label in (
        "ACE transcript",
        "ACE summary",
        "Call score",
        "ACE bulleted summary",
        "ACE recording link",
        "Call journey",
    ):
        assert label not in body
    assert "AI Note" in body


# --------------------------------------------------------------------------- 9.3 create -> update

SEQ_USER = {"timezoneOffset": "-05:00", "userSettings": {"addCallSessionId": {"value": True}}}
SEQ_START = "2024-03-01T15:04:05.000Z"
SEQ_PARTIES = {
    "from": {"phoneNumber": "+14155550100"},
    "to": {"phoneNumber": "+16505550199", "name": "Agent A"},
}
SEQ_SUBJECT = "Inbound call from Jane"


def sequence(fmt: str) -> list[str]:
    """Create, then the three updates of 9.3, each starting from the previous output."""
    create = compose_call_log(
        log_format=fmt,
        user=SEQ_USER,
        contact_info={"phoneNumber": "+14155550100"},
        call_log={
            "sessionId": "4001",
            "direction": "Inbound",
            "startTime": SEQ_START,
            "duration": "pending",
            "result": "In Progress",
            **SEQ_PARTIES,
        },
        note="First note",
        subject=SEQ_SUBJECT,
        start_time=SEQ_START,
        duration="pending",
        result="In Progress",
        recording_link="pending",
    )
    final_call = {
        "sessionId": "4001",
        "startTime": SEQ_START,
        "duration": 125,
        "result": "Accepted",
        "direction": "Inbound",
        **SEQ_PARTIES,
        "legs": [],
    }
    common: dict[str, Any] = {
        "log_format": fmt,
        "user": SEQ_USER,
        "contact_info": None,
        "subject": SEQ_SUBJECT,
        "start_time": SEQ_START,
        "duration": 125,
        "result": "Accepted",
    }
    update1 = compose_call_log(
        existing_body=create,
        call_log=final_call,
        **common,
        note="Edited note\nsecond line",
        recording_link="https://media.example.com/rec/1",
    )
    update2 = compose_call_log(
        existing_body=update1,
        call_log=final_call,
        **common,
        note="Edited note again",
        ai_note="Summary A\n\n",
        transcript="T1",
    )
    update3 = compose_call_log(
        log_format=fmt,
        existing_body=update2,
        user=SEQ_USER,
        note="Edited note again",
        call_log={"sessionId": "4001", "direction": "Inbound", "legs": []},
        ai_note="Summary B",
        transcript="T2",
    )
    return [create, update1, update2, update3]


PLAIN_FINAL = (
    "- Session Id: 4001\n- Summary: Inbound call from Jane\n- Date/Time: 2024-03-01 "
    "10:04:05 AM\n- Duration: 2 minutes, 5 seconds\n- Result: Accepted\n- Call "
    "recording link: https://media.example.com/rec/1\n"
)
HTML_FINAL = (
    "<br><br><b>Call details</b><br><li><b>Session Id</b>: 4001</li><li><b>Summary</b>: "
    "Inbound call from Jane</li><li><b>Date/time</b>: 2024-03-01 10:04:05 AM</li><li><b>"
    "Duration</b>: 2 minutes, 5 seconds</li><li><b>Result</b>: Accepted</li><li><b>Call "
    'recording link</b>: <a target="_blank" href="https://media.example.com/rec/1">'
    "open</a></li>"
)
MD_FINAL = (
    "\n\n## Call details\n**Session Id**: 4001\n**Summary**: Inbound call from Jane\n**"
    "Date/Time**: 2024-03-01 10:04:05 AM\n**Duration**: 2 minutes, 5 seconds\n**Result**: "
    "Accepted\n**Call recording link**: https://media.example.com/rec/1\n"
)
SEQUENCE_EXPECTED = {
    PLAIN: [
        "- Note: First note\n- Session Id: 4001\n- Summary: Inbound call from Jane\n- Date/Time: "
        "2024-03-01 10:04:05 AM\n- Duration: pending\n- Result: In Progress\n- Call recording "
        "link: pending\n",
        "- Note: Edited note\nsecond line\n" + PLAIN_FINAL,
        "- Note: Edited note again\n"
        + PLAIN_FINAL
        + "\n- AI Note:\nSummary A\n--- END\n\n- Transcript:\nT1\n--- END\n",
        "- Note: Edited note again\n"
        + PLAIN_FINAL
        + "\n- AI Note:\nSummary B\n--- END\n\n- Transcript:\nT2\n--- END\n",
    ],
    HTML: [
        "<b>Agent notes</b><br>First note<br><br><b>Call details</b><br><li><b>Session Id</b>: "
        "4001</li><li><b>Summary</b>: Inbound call from Jane</li><li><b>Date/time</b>: 2024-03-01 "
        "10:04:05 AM</li><li><b>Duration</b>: pending</li><li><b>Result</b>: In Progress</li><li>"
        "<b>Call recording link</b>: (pending...)</li>",
        "<b>Agent notes</b><br>Edited note\nsecond line" + HTML_FINAL,
        "<b>Agent notes</b><br>Edited note again"
        + HTML_FINAL
        + "<div><b>AI Note</b><br>Summary A</div><br><div><b>Transcript</b><br>T1</div><br>",
        "<b>Agent notes</b><br>Edited note again"
        + HTML_FINAL
        + "<div><b>AI Note</b><br>Summary B</div><br><div><b>Transcript</b><br>T2</div><br>",
    ],
    MD: [
        "## Agent notes\nFirst note\n\n## Call details\n**Session Id**: 4001\n**Summary**: Inbound "
        "call from Jane\n**Date/Time**: 2024-03-01 10:04:05 AM\n**Duration**: pending\n**Result**: "
        "In Progress\n**Call recording link**: pending\n",
        "## Agent notes\nEdited note\nsecond line" + MD_FINAL,
        "## Agent notes\nEdited note again"
        + MD_FINAL
        + "### AI Note\nSummary A\n### Transcript\nT1\n",
        "## Agent notes\nEdited note again"
        + MD_FINAL
        + "### AI Note\nSummary B\n\n### Transcript\nT2\n\n",  # quirk 8.4
    ],
}


@pytest.mark.parametrize("fmt", COMPOSED_FORMATS)
@pytest.mark.parametrize("step", range(4), ids=["create", "update1", "update2", "update3"])
def test_create_then_updates(fmt: str, step: int) -> None:
    """9.3: placeholders replaced once the recording and AI notes arrive, sections kept in place."""
    assert sequence(fmt)[step] == SEQUENCE_EXPECTED[fmt][step]


def test_server_side_logging_sequence() -> None:
    """9.3.1: note prepended, new link appended at the end, blank line collapsed (quirk 8.5)."""
    user = {"timezoneOffset": "+00:00", "userSettings": {}}
    common: dict[str, Any] = {
        "log_format": PLAIN,
        "user": user,
        "call_log": {"direction": "Outbound"},
        "subject": "Outbound call to Jane",
        "start_time": 1705314600000,
        "result": "Call connected",
    }
    create = compose_call_log(
        **common, note="", duration="pending", voicemail_link="https://vm/1", ai_note="Sum"
    )
    assert create == (
        "- Summary: Outbound call to Jane\n- Date/Time: 2024-01-15 10:30:00 AM\n- Duration: "
        "pending\n- Result: Call connected\n- Voicemail recording link: https://vm/1\n\n- AI Note:"
        "\nSum\n--- END\n"
    )
    update = compose_call_log(
        **common,
        existing_body=create,
        note="Follow up Friday",
        duration=75,
        recording_link="https://media/rec/9",
        voicemail_link="https://vm/2",
    )
    assert update == (
        "- Note: Follow up Friday\n- Summary: Outbound call to Jane\n- Date/Time: 2024-01-15 "
        "10:30:00 AM\n- Duration: 1 minute, 15 seconds\n- Result: Call connected\n- Voicemail "
        "recording link: https://vm/2\n- AI Note:\nSum\n--- END\n- Call recording link: "
        "https://media/rec/9\n"
    )


def test_html_note_added_later() -> None:
    """9.3.2."""
    user = {"timezoneOffset": "+00:00"}
    create = compose_call_log(
        log_format=HTML,
        user=user,
        call_log=INBOUND,
        subject="Missed call",
        duration=30,
        result="Missed",
        start_time="2024-01-15T10:30:00Z",
    )
    details = (
        "<li><b>Summary</b>: Missed call</li><li><b>Date/time</b>: 2024-01-15 10:30:00 AM"
        "</li><li><b>Duration</b>: 30 seconds</li><li><b>Result</b>: Missed</li>"
    )
    assert create == details
    update = compose_call_log(
        log_format=HTML, existing_body=create, user=user, call_log=INBOUND, note="Left VM"
    )
    assert update == "<b>Agent notes</b><br>Left VM<br><br><b>Call details</b><br>" + details


# --------------------------------------------------------------------------- 8 quirks


def test_quirk_plain_contact_number_keeps_old_line_break() -> None:
    body = compose(
        PLAIN,
        "- Contact Number: +0987654321\n- Duration: 30 seconds\n",
        call_log=INBOUND,
        contact_info={"phoneNumber": "+1234567890"},
    )
    assert body == "- Contact Number: +1234567890\n\n- Duration: 30 seconds\n"


def test_quirk_plain_values_with_dash_are_not_replaced() -> None:
    assert compose(PLAIN, "- Result: Voice-mail\n", result="Done") == (
        "- Result: Voice-mail\n- Result: Done\n"
    )


def test_quirk_plain_bulleted_summary_replaces_only_first_line() -> None:
    body = compose(
        PLAIN,
        "\n- ACE bulleted summary:\n- A\n- B\n--- END\n",
        ring_sense_bulleted_summary="- C\n- D",
    )
    assert body == "\n- ACE bulleted summary:\n- C\n- D\n--- END\n- B\n--- END\n"


def test_quirk_markdown_headings_gain_blank_line() -> None:
    body = compose(MD, "### AI Note\nX\n### Transcript\nY\n", ai_note="X2")
    assert body == "### AI Note\nX2\n\n### Transcript\nY\n"
    body = compose(
        MD,
        "**ACE recording link**: https://old.example.com\n",
        ring_sense_link="https://new.example.com",
    )
    assert body == "**ACE recording link**: https://new.example.com\n\n"


def test_quirk_field_rules_collapse_following_blank_lines() -> None:
    body = compose(
        PLAIN, "- Voicemail recording link: a\n\n- AI Note:\nX\n--- END\n", voicemail_link="b"
    )
    assert body == "- Voicemail recording link: b\n- AI Note:\nX\n--- END\n"


def test_quirk_html_note_is_not_escaped() -> None:
    assert compose(HTML, note="a < b\nc") == (
        "<b>Agent notes</b><br>a < b\nc<br><br><b>Call details</b><br>"
    )


def test_html_div_with_raw_newline_is_not_matched() -> None:
    """6.2: ``<div>`` rules do not cross line breaks, so a second block is appended."""
    body = compose(HTML, "<div><b>AI Note</b><br>old\nline</div>", ai_note="New")
    assert body == "<div><b>AI Note</b><br>old\nline</div><div><b>AI Note</b><br>New</div><br>"


def test_replacement_text_is_inserted_literally() -> None:
    """6.4 item 5: ``$&``/``$1``/backslashes are not template syntax in the Python port."""
    value = r"price $& now $1 $$ \1 \g<0>"
    assert compose(PLAIN, "- Note: old\n", note=value) == f"- Note: {value}\n"
    assert compose(HTML, "<ul></ul>", recording_link="http://x/$&") == (
        '<ul><li><b>Call recording link</b>: <a target="_blank" href="http://x/$&">open</a></li>'
        "</ul>"
    )


# --------------------------------------------------------------------------- switches and inputs


@pytest.mark.parametrize("fmt", ["custom", "", "text/csv"])
def test_non_composed_formats_return_empty(fmt: str) -> None:
    assert compose(fmt, "- Note: x\n", note="y", duration=5) == ""


def test_switched_off_section_is_left_untouched() -> None:
    body = "- Summary: Old\n- Duration: 30 seconds\n"
    off = {"addCallLogSubject": {"value": False}, "addCallLogDuration": {"value": 0}}
    assert compose(PLAIN, body, settings=off, subject="New", duration=99) == body


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("false", True),
        ([], True),
        ({}, True),
        ("x", True),
        (1, True),
        (False, False),
        (0, False),
        ("", False),
    ],
)
def test_setting_values_use_javascript_truthiness(value: Any, on: bool) -> None:
    body = compose(PLAIN, settings={"addCallLogNote": {"value": value}}, note="N")
    assert (body == "- Note: N\n") is on


def test_null_setting_value_means_default() -> None:
    settings = {"addCallLogNote": {"value": None}, "addCallSessionId": {"value": None}}
    body = compose(PLAIN, settings=settings, note="N", call_log={"sessionId": "s"})
    assert body == "- Note: N\n"


def test_duration_unset_versus_null() -> None:
    """Only an omitted duration leaves the section alone; ``None`` (JSON null) renders 0."""
    assert compose(PLAIN, "- Duration: 30 seconds\n") == "- Duration: 30 seconds\n"
    assert compose(PLAIN, "- Duration: 30 seconds\n", duration=UNSET) == "- Duration: 30 seconds\n"
    assert compose(PLAIN, "- Duration: 30 seconds\n", duration=None) == "- Duration: 0 seconds\n"


@pytest.mark.parametrize("score", [0, "", None])
def test_zero_score_is_skipped(score: Any) -> None:
    assert compose(PLAIN, ring_sense_ai_score=score) == ""


def test_object_score_renders_like_javascript() -> None:
    assert compose(PLAIN, ring_sense_ai_score={"a": 1}) == "- Call score: [object Object]\n"
    assert compose(PLAIN, ring_sense_ai_score=92.5) == "- Call score: 92.5\n"


def test_start_time_falls_back_to_call_log_and_accepts_epoch_and_datetime() -> None:
    from datetime import UTC, datetime

    expected = "- Date/Time: 2024-01-15 10:30:00 AM\n"
    assert compose(PLAIN, call_log={"startTime": "2024-01-15T10:30:00Z"}) == expected
    assert compose(PLAIN, start_time=1705314600000) == expected
    assert compose(PLAIN, start_time=datetime(2024, 1, 15, 10, 30, tzinfo=UTC)) == expected
    assert compose(PLAIN, start_time="not a date") == "- Date/Time: Invalid date\n"


def test_contact_number_needs_contact_info() -> None:
    assert compose(PLAIN, "x", call_log=INBOUND, contact_info=None) == "x"


def test_rc_number_for_outbound_reads_extension_from_callee() -> None:
    call = {
        "direction": "Outbound",
        "from": {"phoneNumber": "+1", "extensionNumber": "9"},
        "to": {"phoneNumber": "+2", "extensionNumber": "7"},
    }
    assert compose(HTML, call_log=call) == (
        "<li><b>RingCentral number and extension</b>: +1 7</li>"
    )


def test_user_object_with_snake_case_attributes() -> None:
    class Row:
        def __init__(self) -> None:
            self.timezone_offset = "+05:30"
            self.user_settings = {"addCallLogNote": {"value": False}}

    body = compose_call_log(log_format=PLAIN, user=Row(), note="N", start_time=START)
    assert body == "- Date/Time: 2023-01-01 05:30:00 PM\n"


def test_existing_body_none_is_empty() -> None:
    assert compose_call_log(log_format=PLAIN, existing_body=None, note="N") == "- Note: N\n"


# --------------------------------------------------------------------------- 5.x value formatting

DURATIONS = [
    (0, "0 seconds"),
    (1, "1 second"),
    (2, "2 seconds"),
    (60, "1 minute"),
    (61, "1 minute, 1 second"),
    (90, "1 minute, 30 seconds"),
    (120, "2 minutes"),
    (125, "2 minutes, 5 seconds"),
    (3600, "1 hour"),
    (3601, "1 hour, 1 second"),
    (3661, "1 hour, 1 minute, 1 second"),
    (7322, "2 hours, 2 minutes, 2 seconds"),
    (86400, "24 hours"),
    ("45", "45 seconds"),
    (None, "0 seconds"),
    ("pending", "pending"),
    (90.5, "1 minute, 30.5 seconds"),
    (-5, "0 seconds"),
    (" 12 ", "12 seconds"),
]


@pytest.mark.parametrize(("duration", "expected"), DURATIONS)
def test_format_duration(duration: Any, expected: str) -> None:
    assert format_duration(duration) == expected


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("+05:30", "2023-01-01 05:30:00 PM"),
        (330, "2023-01-01 05:30:00 PM"),
        ("330", "2023-01-01 05:30:00 PM"),
        ("-4", "2023-01-01 08:00:00 AM"),
        (-4, "2023-01-01 08:00:00 AM"),
        ("+08:00", "2023-01-01 08:00:00 PM"),
        (15, "2023-01-02 03:00:00 AM"),
        ("+0530", "2023-01-01 08:50:00 PM"),
        (5.5, "2023-01-01 05:30:00 PM"),
        (16, "2023-01-01 12:16:00 PM"),
        ("05:30", "2023-01-01 12:00:00 PM"),
        ("abc", "2023-01-01 12:00:00 PM"),
        ("UTC", "2023-01-01 12:00:00 PM"),
        (None, "2023-01-01 12:00:00 PM"),
        ("", "2023-01-01 12:00:00 PM"),
        (0, "2023-01-01 12:00:00 PM"),
        (" -08:00", "2023-01-01 04:00:00 AM"),
    ],
)
def test_user_timezone_offsets(offset: Any, expected: str) -> None:
    assert compose(PLAIN, start_time=START, offset=offset) == f"- Date/Time: {expected}\n"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("MMM Do YYYY, h:mm a", "Jan 5th 2023, 9:07 am"),
        ("ddd, MMMM D YYYY", "Thu, January 5 2023"),
        ("DD/MM/YYYY HH:mm:ss", "05/01/2023 09:07:03"),
        ("MM/DD/YYYY hh:mm A", "01/05/2023 09:07 AM"),
        ("YYYY-MM-DD [at] HH:mm", "2023-01-05 at 09:07"),
        ("LLL", "January 5, 2023 9:07 AM"),
        ("LLLL", "Thursday, January 5, 2023 9:07 AM"),
        ("LT | LTS | L | LL", "9:07 AM | 9:07:03 AM | 01/05/2023 | January 5, 2023"),
        ("l ll lll", "1/5/2023 Jan 5, 2023 Jan 5, 2023 9:07 AM"),
        ("YY M MM D d dddd", "23 1 01 5 4 Thursday"),
        ("H HH h hh m mm s ss", "9 09 9 09 7 07 3 03"),
        ("S SS SSS SSSS", "1 12 123 1230"),
        ("Z ZZ X x", "+00:00 +0000 1672909623 1672909623123"),
        ("[LT] \\H", "LT H"),
        ("Do Mo DDDo wo Wo Qo", "5th 1st 5th 1st 1st 1st"),
    ],
)
def test_moment_tokens(pattern: str, expected: str) -> None:
    instant = parse_instant("2023-01-05T09:07:03.123Z")
    assert format_instant(instant, user_offset("+00:00"), pattern) == expected


def test_moment_offset_tokens_and_ordinals() -> None:
    instant = parse_instant("2023-01-05T09:07:03Z")
    assert format_instant(instant, user_offset("+05:30"), "Z ZZ HH:mm") == "+05:30 +0530 14:37"
    assert format_instant(instant, user_offset("-4"), "Z") == "-04:00"
    days = [parse_instant(f"2023-01-{day:02d}T00:00:00Z") for day in (1, 2, 3, 11, 12, 13, 21, 22)]
    assert [format_instant(d, None, "Do") for d in days] == [
        "1st",
        "2nd",
        "3rd",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
    ]
    assert format_instant(None, None, "YYYY") == "Invalid date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15", "2024-01-15 00:00"),
        ("2024-01-15T10:30", "2024-01-15 10:30"),
        ("2024-01-15 10:30:00.5+05:30", "2024-01-15 05:00"),
        ("20240115T103000Z", "2024-01-15 10:30"),
        ("2024-W03-2", "2024-01-16 00:00"),
        ("2024-015", "2024-01-15 00:00"),
        ("2024-01-15T24:00:00Z", "2024-01-16 00:00"),
        ("2024-13-01", "Invalid date"),
        ("2024-02-30", "Invalid date"),
        ("1705314600000", "Invalid date"),
        ("old date", "Invalid date"),
    ],
)
def test_iso_parsing(text: str, expected: str) -> None:
    assert format_instant(parse_instant(text), None, "YYYY-MM-DD HH:mm") == expected


def test_journey_examples() -> None:
    """5.7 examples."""
    assert journey_text(LEGS) == (
        "Made call from Agent, +100, ext 101\nTransferred to Queue, ext 500, duration: 45 seconds"
    )
    legs = [
        {
            "direction": "Outbound",
            "from": {"extensionNumber": "101"},
            "to": {"phoneNumber": "+15550000001"},
            "duration": 2,
        },
        {
            "direction": "Outbound",
            "legType": "PstnToSip",
            "from": {"phoneNumber": "+15550000002"},
            "to": {"extensionNumber": "202"},
            "duration": 1,
        },
        {
            "direction": "Inbound",
            "from": {"phoneNumber": "+15550000003"},
            "to": {"name": "Support", "phoneNumber": "+15550000004"},
            "duration": 3,
        },
        {"direction": "Inbound", "to": {"name": "Name only"}, "duration": 0},
        {"direction": "Inbound"},
    ]
    assert journey_text(legs).split("\n") == [
        "Made call from ext 101",
        "Transferred to ext 202, duration: 1 second",
        "Transferred to Support, +15550000004, duration: 3 seconds",
        "Transferred to , duration: 0 second",
        "Transferred to , duration: undefined second",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (UNSET, False),
        (0, False),
        (0.0, False),
        (float("nan"), False),
        ("", False),
        (False, False),
        ("0", True),
        ("false", True),
        ([], True),
        ({}, True),
        (-1, True),
    ],
)
def test_js_truthy(value: Any, expected: bool) -> None:
    assert js_truthy(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.0, "2"),
        (30.5, "30.5"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.00001, "0.00001"),
        (-0.0, "0"),
        (123456789012345680000.0, "123456789012345680000"),
        (float("inf"), "Infinity"),
    ],
)
def test_js_number_str(value: float, expected: str) -> None:
    assert js_number_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45", 45.0),
        (" 0x10 ", 16.0),
        ("", 0.0),
        (None, 0.0),
        (True, 1.0),
        ("1e3", 1000.0),
    ],
)
def test_js_to_number(value: Any, expected: float) -> None:
    assert js_to_number(value) == expected


@pytest.mark.parametrize("value", ["pending", "inf", "1_000", UNSET, {"a": 1}])
def test_js_to_number_nan(value: Any) -> None:
    assert js_to_number(value) != js_to_number(value)


def test_markdown_recomposition_keeps_the_call_score() -> None:
    """The reference's heading rule let ``### ACE summary`` swallow ``**Call score**`` on
    re-composition, and with a bulleted summary the score was lost; ours keeps it, once."""
    inputs: dict[str, Any] = {
        "log_format": "text/markdown",
        "user_settings": {},
        "call_log": {"direction": "Inbound"},
        "contact_info": {},
        "user": {},
        "ring_sense_summary": "Discussed pricing",
        "ring_sense_ai_score": "88",
        "ring_sense_bulleted_summary": "- pricing\n- follow-up",
    }
    first = compose_call_log(**inputs)
    again = compose_call_log(existing_body=first, **inputs)
    assert first.count("**Call score**: 88") == 1
    assert again.count("**Call score**: 88") == 1
    assert compose_call_log(existing_body=again, **inputs) == again
