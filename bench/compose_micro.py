"""Microbenchmark of the call-log composer: CPU µs per ``compose_call_log`` call.

The inputs are the ones the routes pass for ``bench/scenarios.py``'s POST and PATCH /callLog
bodies (see ``services/call_log_create.py`` and ``call_log_update.py``): a create composes from
``""``; an update recomposes the body the create wrote, as the CRM hands it back. The user is a
store row as the bench connector creates it (``timezoneOffset`` stored as the string ``"0"``,
no user settings, so every section uses its default). Each call gets its own session id,
recording link, start time and (from a realistic range) duration, as in production, so that no
per-call result can be reused; an update repeats its create's start time, as the client does.

Run: ``.venv/bin/python bench/compose_micro.py [--calls N] [--repeat R]``. CPU time
(``time.process_time``) is used because the machine's cores are shared; the best of ``R`` runs is
printed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from appconnect.compose import COMPOSED_FORMATS, compose_call_log
from appconnect.store.users import User

USER = User(id="bench-user", platform="bench", timezone_name="UTC", timezone_offset="0")
NO_SENSE = dict.fromkeys(
    (
        "ring_sense_transcript",
        "ring_sense_summary",
        "ring_sense_ai_score",
        "ring_sense_bulleted_summary",
        "ring_sense_link",
    )
)


FIRST_START = datetime(2026, 6, 24, 2, 30)


class Call:
    """The per-call values of one benchmarked call session."""

    def __init__(self, index: int) -> None:
        self.uid = f"bench-{index:06d}"
        start = FIRST_START + timedelta(seconds=index * 7, milliseconds=index * 37 % 1000)
        self.start_time = start.isoformat(timespec="milliseconds") + "Z"
        self.duration = index * 53 % 900  # seconds, as short calls dominate


def _create_log_info(call: Call) -> dict[str, Any]:
    """``logInfo`` of the POST /callLog scenario."""
    uid = call.uid
    return {
        "id": uid,
        "sessionId": uid,
        "telephonySessionId": f"s-{uid}",
        "accountId": "400100000001",
        "direction": "Inbound",
        "type": "Voice",
        "action": "Phone Call",
        "result": "Accepted",
        "reason": "Accepted",
        "startTime": call.start_time,
        "duration": call.duration,
        "from": {"phoneNumber": "+16505550001", "name": "Contact 1"},
        "to": {"phoneNumber": "+16505559999", "extensionNumber": "101", "name": "Agent"},
        "recording": {"link": f"https://media.example/recording/{uid}"},
        "customSubject": "Inbound call from Contact 1",
        "hashedExtensionId": "bench-ext-101",
        "extensionNumber": "101",
    }


def create_args(fmt: str, call: Call) -> dict[str, Any]:
    """What ``call_log_create._call_connector`` passes to the composer."""
    log_info = _create_log_info(call)
    return dict(
        log_format=fmt,
        existing_body="",
        call_log=log_info,
        contact_info={
            "id": "c-1",
            "phoneNumber": "+16505550001",
            "type": "Contact",
            "name": "Contact 1",
        },
        user=USER,
        note="Discussed renewal options.",
        ai_note=None,
        transcript=None,
        recording_link=log_info["recording"]["link"],
        voicemail_link=None,
        subject=log_info["customSubject"],
        start_time=log_info["startTime"],
        duration=log_info["duration"],
        result=log_info["result"],
        **NO_SENSE,
    )


def update_args(fmt: str, call: Call, existing_body: str) -> dict[str, Any]:
    """What ``call_log_update._recompose`` passes for the PATCH /callLog scenario."""
    duration = call.duration + 120  # the update carries the final duration
    call_log = {
        "sessionId": call.uid,
        "startTime": call.start_time,
        "duration": duration,
        "result": "Call connected",
        "direction": "Inbound",
        "legs": [],
    }
    return dict(
        log_format=fmt,
        existing_body=existing_body,
        call_log=call_log,
        contact_info=None,
        user=USER,
        note="Customer agreed to renew for two years.",
        ai_note=None,
        transcript=None,
        recording_link=f"https://media.example/recording/{call.uid}",
        voicemail_link=None,
        subject="Inbound call from Contact 1 (updated)",
        start_time=call.start_time,
        duration=duration,
        result="Call connected",
        **NO_SENSE,
    )


def _cpu_us_per_call(calls: Sequence[dict[str, Any]], repeat: int) -> float:
    """Only the composer is timed: the arguments are built beforehand, as the route does."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for args in calls:
            compose_call_log(**args)
        best = min(best, time.process_time() - start)
    return best / len(calls) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is printed")
    args = parser.parse_args()
    calls = [Call(index) for index in range(args.calls)]
    print(f"compose_call_log, CPU µs per call (best of {args.repeat} x {args.calls} calls)")
    total = 0.0
    for fmt in COMPOSED_FORMATS:
        creates = [create_args(fmt, call) for call in calls]
        # The body an update starts from is the one its create wrote, as the CRM returns it.
        updates = [
            update_args(fmt, call, compose_call_log(**create))
            for call, create in zip(calls, creates, strict=True)
        ]
        create_us = _cpu_us_per_call(creates, args.repeat)
        update_us = _cpu_us_per_call(updates, args.repeat)
        total += create_us + update_us
        print(f"  {fmt:<14} create {create_us:7.1f}   update {update_us:7.1f}")
    print(f"  mean of the six: {total / 6:.1f}")


if __name__ == "__main__":
    main()
