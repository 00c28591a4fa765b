"""Microbenchmark: parsing a POST /callLog body (issue 13 item 2: typed wire layer).

Compares the old route parse (``orjson.loads`` + dict check, ``api.body.read_body``), the typed
parse used now (``TypeAdapter(CallLogCreate).validate_json``) and, for reference, a ``BaseModel``
with ``model_validate_json`` + ``model_dump(exclude_unset=True)``.

    .venv/bin/python bench/parse_call_log.py
"""

from __future__ import annotations

import timeit
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from appconnect.api.body import decode_body
from appconnect.api.wire import CallLogCreate, adapter

BODY = {
    "logInfo": {
        "id": "123456789", "sessionId": "987654321", "telephonySessionId": "s-a1b2c3",
        "accountId": "400100000001", "direction": "Inbound", "type": "Voice",
        "action": "Phone Call", "result": "Accepted", "startTime": "2026-06-24T02:30:00.000Z",
        "duration": 125, "from": {"phoneNumber": "+14155550100", "name": "Jane Smith"},
        "to": {"phoneNumber": "+16505550199", "extensionNumber": "101", "name": "Test Agent"},
        "recording": {"id": "r-1", "link": "https://media.example/r-1"},
        "legs": [{"legType": "Accept", "direction": "Inbound", "duration": 54,
                  "from": {"phoneNumber": "+14155550100"}, "to": {"phoneNumber": "+16505550199"}}],
        "customSubject": "Inbound call from Jane Smith",
    },
    "contactId": "crm-contact-123", "contactType": "Contact", "contactName": "Jane Smith",
    "note": "Discussed renewal options. " * 4, "additionalSubmission": {"matters": "m-123"},
}  # fmt: skip
RAW = orjson.dumps(BODY)


class AsModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    logInfo: dict[str, Any] | None = None
    contactId: str | int | None = None
    contactType: str | None = None
    contactName: str | None = None
    note: str | None = None
    additionalSubmission: dict[str, Any] | None = None


def main() -> None:
    typed = adapter(CallLogCreate)
    runs = {
        "before: orjson.loads (read_body)": lambda: decode_body(RAW, "application/json"),
        "now: TypedDict validate_json": lambda: typed.validate_json(RAW),
        "BaseModel validate + dump": lambda: AsModel.model_validate_json(RAW).model_dump(
            exclude_unset=True
        ),
    }
    n = 20_000
    for name, fn in runs.items():
        best = min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6
        print(f"{name:36s} {best:6.2f} µs per body ({len(RAW)} bytes)")


if __name__ == "__main__":
    main()
