"""Helpers for the call-logging route tests: a stateful fake CRM, a test connector, the app.

The fake CRM (:class:`ActivityCrm`) is an ``httpx2.MockTransport`` holding "activities" (the CRM
call logs): ``POST /activities`` creates one, ``GET/PUT/PATCH /activities/{id}`` read and change
it. Every request is recorded. ``fail_with`` makes the next matching request answer a status or
raise; ``gate`` holds create requests until the test opens it (how the race test keeps the
first create in flight while the others arrive).

:class:`ActivityConnector` is a small but real connector over that API: it sends
``composedLogDetails`` as the activity body, so the tests can assert what reached the CRM.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import orjson
from sqlalchemy import select

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.connectors.results import (
    CallLogInfo,
    GetCallLogResult,
    LogResult,
    ReturnMessage,
    UpdateLogResult,
)
from appconnect.runtime import Runtime
from appconnect.services.sessions import issue_session
from appconnect.settings import Settings
from appconnect.store.models import CallLogRow
from appconnect.testing import call_log_body

PLATFORM = "testcrm"
CRM_HOST = "crm.test"
API_KEY = "crm-api-key"
HASH_KEY = "test-hash-key"
POSTGRES_ENV = "APPCONNECT_TEST_POSTGRES_URL"


@dataclass
class Seen:
    """One request as the fake CRM received it."""

    method: str
    path: str
    headers: httpx2.Headers
    body: Any


@dataclass
class ActivityCrm:
    """A CRM with an ``/activities`` API, behind ``httpx2.MockTransport``."""

    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    failures: dict[str, Any] = field(default_factory=dict)  # method -> status | exception
    gate: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    next_id: int = 1

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self._handle)

    def fail_with(self, method: str, failure: Any) -> None:
        """Make requests with ``method`` answer ``failure`` (an HTTP status or an exception)."""
        self.failures[method.upper()] = failure

    def calls(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if method is None or r.method == method.upper()]

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = orjson.loads(request.content) if request.content else None
        self.requests.append(Seen(request.method, request.url.path, request.headers, body))
        self.arrived.set()
        if request.method == "POST" and self.gate is not None:
            await self.gate.wait()
        failure = self.failures.get(request.method)
        if isinstance(failure, int):
            return httpx2.Response(failure, json={"error": "simulated"})
        if isinstance(failure, type) and issubclass(failure, httpx2.RequestError):
            raise failure("simulated", request=request)
        if failure is not None:
            raise failure
        return self._answer(request.method, request.url.path, body)

    def _answer(self, method: str, path: str, body: Any) -> httpx2.Response:
        if method == "POST" and path == "/activities":
            activity_id = f"act-{self.next_id}"
            self.next_id += 1
            self.activities[activity_id] = {"id": activity_id, **(body or {})}
            return httpx2.Response(201, json=self.activities[activity_id])
        activity = self.activities.get(path.removeprefix("/activities/"))
        if activity is None:
            return httpx2.Response(404, json={"error": "not found"})
        if method in ("PUT", "PATCH"):
            activity.update(body or {})
        return httpx2.Response(200, json=activity)


class ActivityConnector(Connector):
    """API-key connector writing call logs as activities; records what each interface got."""

    platform = PLATFORM
    auth_type = "apiKey"
    base_url = f"https://{CRM_HOST}"

    def __init__(self, log_format: str | None = None) -> None:
        self.log_format = log_format
        self.received: dict[str, list[dict[str, Any]]] = {}

    def _record(self, name: str, kwargs: dict[str, Any]) -> None:
        self.received.setdefault(name, []).append(kwargs)

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    def __getattr__(self, name: str) -> Any:
        # ``get_log_format_type`` exists only when a format was configured, so the framework's
        # "interface absent -> text/plain" rule can be exercised too.
        if name == "get_log_format_type" and self.__dict__.get("log_format") is not None:
            return lambda platform, proxy_config: self.__dict__["log_format"]
        raise AttributeError(name)

    async def create_call_log(self, **kwargs: Any) -> LogResult:
        self._record("createCallLog", kwargs)
        response = await self.http().post(
            "/activities",
            json={
                "subject": kwargs["call_log"].get("customSubject"),
                "body": kwargs["composed_log_details"],
                "contactId": kwargs["contact_info"]["id"],
            },
            headers={"Authorization": kwargs["auth_header"]},
        )
        response.raise_for_status()
        return LogResult(
            log_id=response.json()["id"],
            return_message=ReturnMessage(message="Call logged", message_type="success"),
        )

    async def get_call_log(self, **kwargs: Any) -> GetCallLogResult:
        self._record("getCallLog", kwargs)
        response = await self.http().get(f"/activities/{kwargs['call_log_id']}")
        response.raise_for_status()
        data = response.json()
        return GetCallLogResult(
            call_log_info=CallLogInfo(
                subject=data.get("subject"),
                note=data.get("note", ""),
                full_body=data.get("body"),
                full_log_response=data,
            )
        )

    async def update_call_log(self, **kwargs: Any) -> UpdateLogResult:
        self._record("updateCallLog", kwargs)
        log_id = kwargs["existing_call_log"]["thirdPartyLogId"]
        response = await self.http().put(
            f"/activities/{log_id}", json={"body": kwargs["composed_log_details"]}
        )
        response.raise_for_status()
        return UpdateLogResult(
            updated_note=kwargs.get("note"),
            return_message=ReturnMessage(message="Call log updated", message_type="success"),
        )

    async def upsert_call_disposition(self, **kwargs: Any) -> LogResult:
        self._record("upsertCallDisposition", kwargs)
        log_id = kwargs["existing_call_log"]["thirdPartyLogId"]
        response = await self.http().patch(
            f"/activities/{log_id}", json={"dispositions": kwargs["dispositions"]}
        )
        response.raise_for_status()
        return LogResult(
            log_id=log_id, return_message=ReturnMessage(message="Disposition saved")
        )


class RevokedConnector(ActivityConnector):
    """An OAuth connector whose refresh step reports the grant as revoked."""

    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "c", "clientSecret": "s", "accessTokenUri": f"https://{CRM_HOST}/t"}

    async def check_and_refresh_access_token(self, *_: Any) -> None:
        return None


@dataclass
class Harness:
    """A running app with its client, runtime, fake CRM and connector."""

    client: httpx2.AsyncClient
    rt: Runtime
    crm: ActivityCrm
    connector: ActivityConnector

    async def login(
        self,
        user_id: str = "u1",
        *,
        settings: dict[str, Any] | None = None,
        timezone_offset: str | None = "+00:00",
        access_token: str | None = API_KEY,
    ) -> dict[str, str]:
        """Create the user row and return the ``Authorization`` header of its session."""
        user = await self.rt.users.upsert_login(
            user_id=user_id,
            platform=PLATFORM,
            hostname=CRM_HOST,
            access_token=access_token,
            refresh_token=None,
            token_expiry=None,
            timezone_name=None,
            timezone_offset=timezone_offset,
            rc_account_id="rc-acc-1",
            hashed_rc_extension_id=None,
            platform_additional_info={},
        )
        if settings:
            user.user_settings = settings
            await user.save()
        # As a login does: the token carries the user's session generation (none before logout).
        return {"Authorization": f"Bearer {await issue_session(self.rt, user_id, PLATFORM)}"}

    async def link_rows(self) -> list[CallLogRow]:
        async with self.rt.db.session() as session:
            return list((await session.scalars(select(CallLogRow))).all())


@asynccontextmanager
async def running_app(
    database_url: str,
    connector: ActivityConnector | None = None,
    crm: ActivityCrm | None = None,
    **settings: Any,
) -> AsyncIterator[Harness]:
    connector = connector or ActivityConnector()
    crm = crm or ActivityCrm()
    registry = ConnectorRegistry()
    registry.register_connector(PLATFORM, connector)
    app = create_app(
        registry,
        settings=Settings(
            DATABASE_URL=database_url,
            APP_SERVER_SECRET_KEY="call-log-tests-secret-0123456789abcdef",
            HASH_KEY=HASH_KEY,
            **settings,
        ),
        http_transport=crm.transport,
    )
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://app") as client:
            yield Harness(client, app.state.appconnect.runtime, crm, connector)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 't.db'}"


@asynccontextmanager
async def postgres_database(base_url: str) -> AsyncIterator[str]:
    """A throw-away database on the server of ``base_url``; yields its URL, drops it after."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"appconnect_test_{uuid.uuid4().hex[:12]}"
    dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield dsn.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def log_body(
    session_id: str = "s-1",
    *,
    contact_id: Any = "c-1",
    note: str | None = "Test note",
    **extra: Any,
) -> dict[str, Any]:
    """A ``POST /callLog`` body for an outbound call (the composer spec's 9.2.1 input)."""
    return call_log_body(
        session_id,
        contact_id=contact_id,
        contact_name="Jane Smith",
        note=note,
        agent=("+1234567890", "John Doe"),
        contact=("+0987654321", "Jane Smith"),
        start_time="2024-01-15T10:30:00Z",
        **extra,
    )


# -- expected wire values (composer spec 9.2.1 / 9.3, http spec 1.6) -----------------------

PLAIN_921 = (
    "- Note: Test note\n- Summary: Test Call\n- Date/Time: 2024-01-15 10:30:00 AM\n"
    "- Duration: 2 minutes\n- Result: Completed\n"
)
HTML_921 = (
    "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br><li><b>Summary</b>: Test Call"
    "</li><li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li><li><b>Duration</b>: 2 minutes</li>"
    "<li><b>Result</b>: Completed</li>"
)
MARKDOWN_921 = (
    "## Agent notes\nTest note\n\n## Call details\n**Summary**: Test Call\n"
    "**Date/Time**: 2024-01-15 10:30:00 AM\n**Duration**: 2 minutes\n**Result**: Completed\n"
)
SEQ_SETTINGS = {"addCallSessionId": {"value": True}}
SEQ_PARTIES = {"from": {"phoneNumber": "+14155550100"},
               "to": {"phoneNumber": "+16505550199", "name": "Agent A"}}
SEQ_CREATE = {
    "logInfo": {"id": "c-4001", "sessionId": "4001", "direction": "Inbound",
                "startTime": "2024-03-01T15:04:05.000Z", "duration": "pending",
                "result": "In Progress", "customSubject": "Inbound call from Jane",
                "recording": {"link": "pending"}, **SEQ_PARTIES},
    "contactId": "c-1", "note": "First note",
}
SEQ_UPDATE_1 = {
    "sessionId": "4001", "startTime": "2024-03-01T15:04:05.000Z", "duration": 125,
    "result": "Accepted", "direction": "Inbound", **SEQ_PARTIES,
    "note": "Edited note\nsecond line", "subject": "Inbound call from Jane",
    "recordingLink": "https://media.example.com/rec/1",
}
SEQ_PLAIN = {
    "create": "- Note: First note\n- Session Id: 4001\n- Summary: Inbound call from Jane\n"
    "- Date/Time: 2024-03-01 10:04:05 AM\n- Duration: pending\n- Result: In Progress\n"
    "- Call recording link: pending\n",
    "update": "- Note: Edited note\nsecond line\n- Session Id: 4001\n"
    "- Summary: Inbound call from Jane\n- Date/Time: 2024-03-01 10:04:05 AM\n"
    "- Duration: 2 minutes, 5 seconds\n- Result: Accepted\n"
    "- Call recording link: https://media.example.com/rec/1\n",
}
SEQ_HTML = {
    "create": "<b>Agent notes</b><br>First note<br><br><b>Call details</b><br><li><b>Session Id"
    "</b>: 4001</li><li><b>Summary</b>: Inbound call from Jane</li><li><b>Date/time</b>: "
    "2024-03-01 10:04:05 AM</li><li><b>Duration</b>: pending</li><li><b>Result</b>: In Progress"
    "</li><li><b>Call recording link</b>: (pending...)</li>",
    "update": "<b>Agent notes</b><br>Edited note\nsecond line<br><br><b>Call details</b><br><li>"
    "<b>Session Id</b>: 4001</li><li><b>Summary</b>: Inbound call from Jane</li><li><b>Date/time"
    "</b>: 2024-03-01 10:04:05 AM</li><li><b>Duration</b>: 2 minutes, 5 seconds</li><li><b>"
    'Result</b>: Accepted</li><li><b>Call recording link</b>: <a target="_blank" '
    'href="https://media.example.com/rec/1">open</a></li>',
}


AUTH_TEXT = (
    "It seems like there's something wrong with your authorization of testcrm. Please Logout "
    "and then Connect your testcrm account within this extension."
)
RATE_TEXT = (
    "You have exceeded the maximum number of requests allowed by testcrm. Please try again in "
    "the next minute. If the problem persists please contact support."
)
CREATE_TEXT = "Please check if your account has permission to CREATE logs."


def mapped(message: str, text: str, item_id: Any) -> dict[str, Any]:
    details = [{"title": "Details", "items": [{"id": item_id, "type": "text", "text": text}]}]
    return {"successful": False, "returnMessage": {
        "message": message, "messageType": "warning", "details": details, "ttl": 5000}}


def warning(message: str, ttl: int = 5000) -> dict[str, Any]:
    message_obj = {"message": message, "messageType": "warning", "ttl": ttl}
    return {"successful": False, "returnMessage": message_obj}
