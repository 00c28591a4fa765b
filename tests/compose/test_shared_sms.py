"""Shared-SMS conversation composer (spec section 10), with the spec's exact strings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from appconnect.compose import compose_shared_sms, html_escape

PLAIN, HTML, MD = "text/plain", "text/html", "text/markdown"
AT_1030 = "2024-01-15T10:30:00Z"


def compose(
    fmt: str,
    conversation: dict[str, Any],
    *,
    contact: str = "John Customer",
    offset: Any = "+00:00",
) -> dict[str, str]:
    return compose_shared_sms(
        log_format=fmt, conversation=conversation, contact_name=contact, timezone_offset=offset
    )


def body(fmt: str, entities: list[dict[str, Any]], **kwargs: Any) -> str:
    conversation = {"creationTime": AT_1030, "entities": entities}
    return compose(fmt, conversation, **kwargs)["body"]


# --------------------------------------------------------------------------- 10.7.2

REFERENCE_CONVERSATION: dict[str, Any] = {
    "creationTime": AT_1030,
    "messages": [{"lastModifiedTime": AT_1030}, {"lastModifiedTime": "2024-01-15T11:45:00Z"}],
    "entities": [
        {
            "recordType": "AliveMessage",
            "direction": "Inbound",
            "author": {"name": "John Customer"},
            "text": "Hello, I need help",
            "creationTime": AT_1030,
        },
        {
            "recordType": "AliveMessage",
            "direction": "Outbound",
            "author": {"name": "Agent Smith"},
            "text": "Hi! How can I assist you?",
            "creationTime": "2024-01-15T10:35:00Z",
        },
        {
            "recordType": "ThreadAssignedHint",
            "assignee": {"name": "Agent Smith"},
            "creationTime": "2024-01-15T10:32:00Z",
        },
        {
            "recordType": "AliveNote",
            "author": {"name": "Agent Smith"},
            "text": "Customer prefers email contact",
            "creationTime": "2024-01-15T10:40:00Z",
        },
        {"recordType": "ThreadCreatedHint", "creationTime": "2024-01-15T10:29:00Z"},
    ],
    "owner": {"name": "Support Team", "extensionType": "User", "extensionId": "12345"},
}
REFERENCE_EXPECTED = {
    PLAIN: (
        "SMS conversation with John Customer",
        "Conversation summary\nStarted: Monday, January 15, 2024 at 10:30 AM\nEnded: Thursday, "
        "January 01, 1970 at 12:00 AM\nDuration: -19737 d -473698 h \n\nParticipants\n* John "
        "Customer (customer)\n* John Customer\n* Agent Smith\n\nOwner: Support Team\n\nConversation"
        " (2 messages, 1 note)\nBEGIN\n------------\nJohn Customer said on 2024-01-15 10:30 AM:\n"
        "Hello, I need help\n\nAgent Smith said on 2024-01-15 10:35 AM:\nHi! How can I assist you?"
        "\n\nConversation assigned to Agent Smith\n\nAgent Smith left a note on 2024-01-15 10:40 AM"
        ":\nCustomer prefers email contact\n\n------------\nEND",
    ),
    HTML: (
        "SMS conversation with John Customer",
        "<div><b>Conversation summary</b><br>Started: Monday, January 15, 2024 at 10:30 AM<br>"
        "Ended: Thursday, January 01, 1970 at 12:00 AM<br>Duration: -19737 d -473698 h<br></div>"
        "<br><div><b>Participants</b><ul><li>John Customer (customer)</li><li>John Customer</li>"
        "<li>Agent Smith</li></ul></div><div>Owner: <b>Support Team</b></div><br><div><b>"
        "Conversation (2 messages, 1 note)</b></div><div>BEGIN</div><hr><p><b>John Customer</b> "
        "said on 2024-01-15 10:30 AM:<br>Hello, I need help</p><p><b>Agent Smith</b> said on "
        "2024-01-15 10:35 AM:<br>Hi! How can I assist you?</p><p><i>Conversation assigned to <b>"
        "Agent Smith</b></i></p><p><b>Agent Smith</b> left a note on 2024-01-15 10:40 AM:<br>"
        "Customer prefers email contact</p><hr><div>END</div>",
    ),
    MD: (
        "**SMS conversation with John Customer**",
        "## Conversation summary\nStarted: Monday, January 15, 2024 at 10:30 AM\nEnded: Thursday, "
        "January 01, 1970 at 12:00 AM\nDuration: -19737 d -473698 h \n\n### Participants\n* John "
        "Customer (customer)\n* John Customer\n* Agent Smith\n\nOwner: **Support Team**\n\n### "
        "Conversation (2 messages, 1 note)\nBEGIN\n---\n**John Customer** said on 2024-01-15 10:30 "
        "AM:\nHello, I need help\n\n**Agent Smith** said on 2024-01-15 10:35 AM:\nHi! How can I "
        "assist you?\n\n*Conversation assigned to **Agent Smith***\n\n**Agent Smith** left a note "
        "on 2024-01-15 10:40 AM:\nCustomer prefers email contact\n\n---\nEND",
    ),
}


@pytest.mark.parametrize("fmt", [PLAIN, HTML, MD])
def test_reference_conversation(fmt: str) -> None:
    """10.7.2: epoch "Ended" and input-order timeline for ISO timestamps (parity quirks)."""
    subject, expected = REFERENCE_EXPECTED[fmt]
    assert compose(fmt, REFERENCE_CONVERSATION) == {"subject": subject, "body": expected}


def test_unknown_format_uses_plain_text() -> None:
    assert compose("custom", REFERENCE_CONVERSATION) == compose(PLAIN, REFERENCE_CONVERSATION)


# --------------------------------------------------------------------------- 10.7.3

QUEUE_CONVERSATION: dict[str, Any] = {
    "creationTime": 1705314600000,
    "messages": [{"lastModifiedTime": 1705314600000}, {"lastModifiedTime": 1705319100000}],
    "owner": {"name": "Support Queue", "extensionType": "Department"},
    "entities": [
        {"recordType": "ThreadCreatedHint", "creationTime": 1705314500000},
        {
            "recordType": "AliveMessage",
            "direction": "Inbound",
            "from": {"name": "+14155550100"},
            "text": "Hi, my order is late",
            "creationTime": 1705314600000,
        },
        {
            "recordType": "ThreadAssignedHint",
            "assignee": {"name": "Agent Smith"},
            "creationTime": 1705314720000,
        },
        {
            "recordType": "AliveMessage",
            "direction": "Outbound",
            "author": {"name": "Agent Smith"},
            "text": "Sorry! Checking now <1 min>",
            "creationTime": 1705314900000,
        },
        {
            "recordType": "AliveNote",
            "author": {"name": "Agent Smith"},
            "text": "Escalated to shipping",
            "creationTime": 1705315200000,
        },
    ],
}
QUEUE_EXPECTED = {
    PLAIN: "Conversation summary\nStarted: Monday, January 15, 2024 at 05:30 AM\nEnded: Monday, "
    "January 15, 2024 at 06:45 AM\nDuration: 0 d 1 h \n\nParticipants\n* Jane Smith (customer)\n* "
    "+14155550100\n* Agent Smith\n\nReceiving call queue: Support Queue\n\nConversation (2 messages"
    ", 1 note)\nBEGIN\n------------\nAgent Smith left a note on 2024-01-15 05:40 AM:\nEscalated to "
    "shipping\n\nAgent Smith said on 2024-01-15 05:35 AM:\nSorry! Checking now <1 min>\n\n"
    "Conversation assigned to Agent Smith\n\nJane Smith said on 2024-01-15 05:30 AM:\nHi, my order"
    " is late\n\n------------\nEND",
    HTML: "<div><b>Conversation summary</b><br>Started: Monday, January 15, 2024 at 05:30 AM<br>"
    "Ended: Monday, January 15, 2024 at 06:45 AM<br>Duration: 0 d 1 h<br></div><br><div><b>"
    "Participants</b><ul><li>Jane Smith (customer)</li><li>+14155550100</li><li>Agent Smith</li>"
    "</ul></div><div>Receiving call queue: <b>Support Queue</b></div><br><div><b>Conversation (2 "
    "messages, 1 note)</b></div><div>BEGIN</div><hr><p><b>Agent Smith</b> left a note on "
    "2024-01-15 05:40 AM:<br>Escalated to shipping</p><p><b>Agent Smith</b> said on 2024-01-15 "
    "05:35 AM:<br>Sorry! Checking now &lt;1 min&gt;</p><p><i>Conversation assigned to <b>Agent "
    "Smith</b></i></p><p><b>Jane Smith</b> said on 2024-01-15 05:30 AM:<br>Hi, my order is late"
    "</p><hr><div>END</div>",
    MD: "## Conversation summary\nStarted: Monday, January 15, 2024 at 05:30 AM\nEnded: Monday, "
    "January 15, 2024 at 06:45 AM\nDuration: 0 d 1 h \n\n### Participants\n* Jane Smith (customer)"
    "\n* +14155550100\n* Agent Smith\n\nReceiving call queue: **Support Queue**\n\n### "
    "Conversation (2 messages, 1 note)\nBEGIN\n---\n**Agent Smith** left a note on 2024-01-15 "
    "05:40 AM:\nEscalated to shipping\n\n**Agent Smith** said on 2024-01-15 05:35 AM:\nSorry! "
    "Checking now <1 min>\n\n*Conversation assigned to **Agent Smith***\n\n**Jane Smith** said on"
    " 2024-01-15 05:30 AM:\nHi, my order is late\n\n---\nEND",
}


@pytest.mark.parametrize("fmt", [PLAIN, HTML, MD])
def test_queue_owner_numeric_timestamps(fmt: str) -> None:
    """10.7.3: numeric timestamps sort newest first and give a real end time."""
    result = compose(fmt, QUEUE_CONVERSATION, contact="Jane Smith", offset="-05:00")
    subject = "SMS conversation with Jane Smith"
    assert result == {
        "subject": f"**{subject}**" if fmt == MD else subject,
        "body": QUEUE_EXPECTED[fmt],
    }


def test_empty_conversation_with_queue_owner() -> None:
    """10.7.4."""
    conversation = {
        "creationTime": AT_1030,
        "owner": {"name": "Sales Queue", "extensionType": "Department"},
    }
    assert compose(PLAIN, conversation, offset="+05:00")["body"] == (
        "Conversation summary\nStarted: Monday, January 15, 2024 at 03:30 PM\nEnded: Thursday, "
        "January 01, 1970 at 05:00 AM\nDuration: -19737 d -473698 h \n\nParticipants\n* John "
        "Customer (customer)\n\nReceiving call queue: Sales Queue\n\nConversation (0 messages)\n"
        "BEGIN\n------------\n------------\nEND"
    )


# --------------------------------------------------------------------------- 10.7.1 entries


def test_assignment_entry() -> None:
    entity = {
        "recordType": "ThreadAssignedHint",
        "assignee": {"name": "Agent Smith"},
        "creationTime": AT_1030,
    }
    assert "------------\nConversation assigned to Agent Smith\n\n------------" in body(
        PLAIN, [entity]
    )
    assert "<p><i>Conversation assigned to <b>Agent Smith</b></i></p>" in body(HTML, [entity])
    assert "*Conversation assigned to **Agent Smith***" in body(MD, [entity])


def test_note_entry() -> None:
    entity = {
        "recordType": "AliveNote",
        "author": {"name": "Agent Smith"},
        "text": "Important note here",
        "creationTime": AT_1030,
    }
    plain = body(PLAIN, [entity])
    assert "left a note" in plain and "Important note here" in plain
    assert "<p><b>Agent Smith</b> left a note" in body(HTML, [entity])
    assert "**Agent Smith** left a note" in body(MD, [entity])


def test_message_without_sender_or_text() -> None:
    entity = {"recordType": "AliveMessage", "direction": "Outbound", "creationTime": AT_1030}
    assert "BEGIN\n------------\nundefined said on 2024-01-15 10:30 AM:\n\n\n------------" in body(
        PLAIN, [entity]
    )
    assert "<hr><p><b></b> said on 2024-01-15 10:30 AM:<br></p><hr>" in body(HTML, [entity])
    assert "---\n**undefined** said on 2024-01-15 10:30 AM:\n\n\n---" in body(MD, [entity])


def test_entry_time_uses_offset() -> None:
    entity = {
        "recordType": "AliveMessage",
        "direction": "Outbound",
        "author": {"name": "A"},
        "creationTime": AT_1030,
    }
    assert "A said on 2024-01-15 03:30 PM:" in body(PLAIN, [entity], offset="+05:00")


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ({"recordType": "ThreadAssignedHint"}, "Conversation assigned to Unknown"),
        ({"recordType": "AliveNote"}, "Unknown left a note"),
        (
            {"recordType": "AliveNote", "initiator": {"name": "Note Initiator"}},
            "Note Initiator left a note",
        ),
        (
            {
                "recordType": "AliveMessage",
                "direction": "Outbound",
                "author": {"name": "A"},
                "subject": "Subject text",
            },
            "AM:\nSubject text\n",
        ),
        (
            {"recordType": "AliveNote", "author": {"name": "A"}, "body": "Body text"},
            "AM:\nBody text\n",
        ),
        (
            {
                "recordType": "AliveMessage",
                "direction": "Outbound",
                "from": {"name": "Agent via from"},
            },
            "Agent via from said on",
        ),
    ],
)
def test_entry_fallbacks(entity: dict[str, Any], expected: str) -> None:
    assert expected in body(PLAIN, [{**entity, "creationTime": AT_1030}])


@pytest.mark.parametrize(
    ("entities", "counts"),
    [
        ([{"recordType": "AliveMessage"}] * 3, "3 messages"),
        ([{"recordType": "AliveNote"}] * 2, "2 notes"),
        ([{"recordType": "NoteHint"}, {"recordType": "ThreadNoteAddedHint"}], "0 messages"),
        ([{"recordType": "AliveMessage"}, {"recordType": "AliveNote"}], "1 message, 1 note"),
        ([], "0 messages"),
    ],
)
def test_counts(entities: list[dict[str, Any]], counts: str) -> None:
    timed = [{**entity, "creationTime": AT_1030} for entity in entities]
    assert f"Conversation ({counts})\n" in body(PLAIN, timed)


def test_missing_entities_count_as_empty() -> None:
    assert "Conversation (0 messages)" in compose(PLAIN, {"creationTime": AT_1030})["body"]


@pytest.mark.parametrize(
    ("entities", "participants"),
    [
        (
            [
                {"author": {"name": "Agent Smith"}},
                {"from": {"name": "Agent Smith"}},
                {"initiator": {"name": "Agent Smith"}},
            ],
            ["Agent Smith"],
        ),
        ([{"author": {}}, {"from": None}, {}], []),
    ],
)
def test_participants(entities: list[dict[str, Any]], participants: list[str]) -> None:
    text = body(PLAIN, entities)
    listed = text.split("Participants\n")[1].split("\n\n")[0].split("\n")
    assert listed == ["* John Customer (customer)", *(f"* {p}" for p in participants)]


@pytest.mark.parametrize(
    ("owner", "line"),
    [
        (
            {"name": "Sales Queue", "extensionType": "Department"},
            "Receiving call queue: Sales Queue",
        ),
        ({"name": "Support Queue", "extensionType": "User"}, "Receiving call queue: Support Queue"),
        ({"name": "Dept", "extensionType": "Department"}, "Receiving call queue: Dept"),
        ({"name": "Support Team", "extensionType": "User"}, "Owner: Support Team"),
        ({}, "Owner: \n"),
    ],
)
def test_owner_block(owner: dict[str, Any], line: str) -> None:
    conversation = {"creationTime": AT_1030, "owner": owner}
    assert line in compose(PLAIN, conversation)["body"]


def test_no_owner_block() -> None:
    text = compose(PLAIN, {"creationTime": AT_1030})["body"]
    assert "Owner:" not in text and "Receiving call queue:" not in text


def test_html_escapes_names_and_texts() -> None:
    entity = {
        "recordType": "AliveMessage",
        "direction": "Inbound",
        "author": {"name": '<script>alert("XSS")</script>'},
        "text": "Test <b>bold</b>",
        "creationTime": AT_1030,
    }
    text = body(HTML, [entity], contact="Tom & Jerry")
    assert "&lt;script&gt;alert(&quot;XSS&quot;)&lt;/script&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "<li>Tom &amp; Jerry (customer)</li>" in text
    assert compose(HTML, {"creationTime": AT_1030}, contact="Tom & Jerry")["subject"] == (
        "SMS conversation with Tom & Jerry"
    )


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("a < b", "a &lt; b"),
        ("a > b", "a &gt; b"),
        ('say "hello"', "say &quot;hello&quot;"),
        ("it's fine", "it&#039;s fine"),
        ('<script>alert("XSS")</script>', "&lt;script&gt;alert(&quot;XSS&quot;)&lt;/script&gt;"),
        ("Hello World", "Hello World"),
        (None, ""),
        ("", ""),
    ],
)
def test_html_escape(raw: Any, escaped: str) -> None:
    assert html_escape(raw) == escaped


# --------------------------------------------------------------------------- 10.2 time handling


@pytest.mark.parametrize(
    ("offset", "started"),
    [
        ("+05:30", "04:00 PM"),
        ("+0530", "04:00 PM"),
        ("-08", "02:30 AM"),
        ("-0800", "02:30 AM"),
        ("-08:00", "02:30 AM"),
        ("+05", "03:30 PM"),
        ("Z", "10:30 AM"),
        ("-8", "10:30 AM"),
        ("+5", "10:30 AM"),
        ("330", "10:30 AM"),
        ("5.5", "10:30 AM"),
        ("UTC+3", "10:30 AM"),
        (-8, "02:30 AM"),
        (5.5, "04:00 PM"),
        (330, "04:00 PM"),
        (None, "10:30 AM"),
        ("", "10:30 AM"),
    ],
)
def test_offsets_are_given_to_moment_unconverted(offset: Any, started: str) -> None:
    text = compose(PLAIN, {"creationTime": AT_1030}, offset=offset)["body"]
    assert f"Started: Monday, January 15, 2024 at {started}\n" in text


def test_missing_creation_time_is_now_and_null_is_invalid() -> None:
    now = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
    text = compose_shared_sms(log_format=PLAIN, conversation={}, contact_name="C", now=now)
    assert "Started: Thursday, February 01, 2024 at 09:00 AM\n" in text["body"]
    text = compose(PLAIN, {"creationTime": None})
    assert "Started: Invalid date at Invalid date\nEnded: Thursday" in text["body"]
    assert "Duration: NaN d NaN h \n" in text["body"]


def test_numeric_string_modification_time_is_invalid() -> None:
    """10.2: a numeric *string* wins the loose comparison, then fails to parse."""
    conversation = {
        "creationTime": AT_1030,
        "messages": [{"lastModifiedTime": 1705314600000}, {"lastModifiedTime": "1705319100000"}],
    }
    text = compose(PLAIN, conversation)["body"]
    assert "Ended: Invalid date at Invalid date\nDuration: NaN d NaN h \n" in text


def test_duration_counts_total_hours() -> None:
    conversation = {
        "creationTime": 1705314600000,
        "messages": [{"lastModifiedTime": 1705314600000 + 26 * 3_600_000}],
    }
    assert "Duration: 1 d 26 h \n" in compose(PLAIN, conversation)["body"]


def test_missing_contact_name() -> None:
    result = compose_shared_sms(
        log_format=MD, conversation={"creationTime": AT_1030}, contact_name=None
    )
    assert result["subject"] == "**SMS conversation with **"
    assert "* (customer)\n" not in result["body"] and "*  (customer)\n" in result["body"]
