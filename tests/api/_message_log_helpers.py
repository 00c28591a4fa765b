"""Test harness for ``POST /messageLog``: a test connector, its mocked CRM, a running app.

The connector is a small but real one: it turns each interface call into an HTTP request to a
CRM (``https://crm.test``) through the framework's pooled clients, and the CRM is an
``httpx2.MockTransport`` that records every request. Tests assert on what reached the CRM.
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
from fastapi import FastAPI
from pydantic.alias_generators import to_camel
from sqlalchemy import select

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.connectors.results import LogResult, ReturnMessage
from appconnect.runtime import Runtime
from appconnect.services.message_links import Conversation
from appconnect.settings import Settings
from appconnect.store.models import ConversationLogRow, MessageLogRow
from appconnect.testing import message_log_body, sms_message

PLATFORM = "testcrm"
OAUTH_PLATFORM = "oauthcrm"
CRM = "https://crm.test"
USER_ID = "u-1"
API_KEY = "crm-api-key"
RC_ACCOUNT_ID = "rc-account-1"
HASH_KEY = "test-hash-key"
SECRET = "a-test-secret-that-is-long-enough-0123456789"
POSTGRES_ENV = "APPCONNECT_TEST_POSTGRES_URL"

_PRIVATE = ("user", "auth_header", "proxy_config")


def _payload(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Everything the connector received, camelCased, as JSON (the user by id)."""
    out = {to_camel(k): v for k, v in kwargs.items() if k not in _PRIVATE}
    out["userId"] = kwargs["user"].id
    return out


class MessageCRM(Connector):
    """Logs messages as CRM "activities": POST /logs creates, PATCH /logs/{id} updates."""

    platform = PLATFORM
    auth_type = "apiKey"
    base_url = CRM

    def __init__(self, log_format: str = "text/plain") -> None:
        self.log_format = log_format

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    def get_log_format_type(self, platform: str, proxy_config: Any) -> str:
        return self.log_format

    async def create_call_log(self, **_: Any) -> dict[str, Any]:  # required by the registry
        return {"logId": None}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def create_message_log(self, **kwargs: Any) -> LogResult:
        response = await self.http().post(
            "/logs", json=_payload(kwargs), headers={"Authorization": kwargs["auth_header"]}
        )
        response.raise_for_status()
        return LogResult(
            log_id=response.json().get("id"),
            return_message=ReturnMessage(message="Message logged", ttl=2000),
        )

    async def update_message_log(self, **kwargs: Any) -> dict[str, Any]:
        log_id = kwargs["existing_message_log"]["thirdPartyLogId"]
        response = await self.http().patch(
            f"/logs/{log_id}",
            json=_payload(kwargs),
            headers={"Authorization": kwargs["auth_header"]},
        )
        response.raise_for_status()
        updated = {"message": "Message updated", "messageType": "success", "ttl": 3000}
        return {"returnMessage": updated}


class RevokedCRM(MessageCRM):
    """An OAuth connector whose refresh token was revoked."""

    platform = OAUTH_PLATFORM
    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "c", "clientSecret": "s", "accessTokenUri": f"{CRM}/token"}

    async def check_and_refresh_access_token(self, oauth_app: Any, user: Any, timeout: Any) -> None:
        return None


@dataclass
class CRMCall:
    method: str
    path: str
    json: Any
    authorization: str | None


@dataclass
class FakeCRM:
    """The CRM behind the mock transport: records calls, can be slow or fail."""

    delay: float = 0.0
    create_status: list[int] = field(default_factory=list)  # statuses for the next creates
    update_status: list[int] = field(default_factory=list)
    empty_id: bool = False
    calls: list[CRMCall] = field(default_factory=list)
    _next_id: int = 0

    @property
    def creates(self) -> list[CRMCall]:
        return [c for c in self.calls if c.method == "POST"]

    @property
    def updates(self) -> list[CRMCall]:
        return [c for c in self.calls if c.method == "PATCH"]

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = orjson.loads(request.content) if request.content else None
        self.calls.append(
            CRMCall(request.method, request.url.path, body, request.headers.get("authorization"))
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.method == "POST" and request.url.path == "/logs":
            status = self.create_status.pop(0) if self.create_status else 200
            if status != 200:
                return httpx2.Response(status, json={"error": "nope"})
            self._next_id += 1
            log_id = "" if self.empty_id else f"crm-{self._next_id}"
            return httpx2.Response(200, json={"id": log_id})
        if request.method == "PATCH" and request.url.path.startswith("/logs/"):
            status = self.update_status.pop(0) if self.update_status else 200
            return httpx2.Response(status, json={})
        return httpx2.Response(404, json={"error": "unknown route"})


@dataclass
class Harness:
    app: FastAPI
    rt: Runtime
    client: httpx2.AsyncClient
    crm: FakeCRM
    token: str

    async def post(
        self, body: Any, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx2.Response:
        sent = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        return await self.client.post("/messageLog", json=body, headers=sent)

    async def message_rows(self) -> dict[str, MessageLogRow]:
        async with self.rt.db.session() as session:
            rows = (await session.scalars(select(MessageLogRow))).all()
        return {row.id: row for row in rows}

    async def claim_rows(self) -> dict[str, ConversationLogRow]:
        """Claims by conversation-day id (the stored key is a digest scoped to the owner; keys
        of the conversation-days this test's messages name are translated back)."""
        async with self.rt.db.session() as session:
            rows = (await session.scalars(select(ConversationLogRow))).all()
        days = {m.conversation_log_id for m in (await self.message_rows()).values()}
        known = {claim_key(day, user_id=r.user_id or ""): day for r in rows for day in days}
        return {known.get(row.conversation_log_id, row.conversation_log_id): row for row in rows}

    async def add_rows(self, *rows: Any) -> None:
        async with self.rt.db.transaction() as session:
            session.add_all(rows)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
        return
    import asyncpg

    admin_url = os.environ[POSTGRES_ENV]
    name = f"appconnect_ml_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(admin_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def database_kinds() -> list[Any]:
    """SQLite always; PostgreSQL when ``APPCONNECT_TEST_POSTGRES_URL`` is set."""
    import pytest

    skip = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} not set")
    return ["sqlite", pytest.param("postgres", marks=skip)]


@asynccontextmanager
async def running(
    db_url: str,
    crm: FakeCRM | None = None,
    *,
    log_format: str = "text/plain",
    timezone_offset: Any = None,
) -> AsyncIterator[Harness]:
    """The app with both test connectors, one stored user, and a client with its session."""
    crm = crm or FakeCRM()
    registry = ConnectorRegistry()
    registry.register(MessageCRM(log_format))
    registry.register(RevokedCRM())
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY=SECRET, HASH_KEY=HASH_KEY)
    app = create_app(registry, settings=settings, http_transport=httpx2.MockTransport(crm.handle))
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.appconnect.runtime
        for user_id, platform in ((USER_ID, PLATFORM), ("u-oauth", OAUTH_PLATFORM)):
            await rt.users.upsert_login(
                user_id=user_id,
                platform=platform,
                hostname="crm.test",
                access_token=API_KEY,
                refresh_token="refresh" if platform == OAUTH_PLATFORM else None,
                token_expiry=None,
                timezone_name=None,
                timezone_offset=timezone_offset,
                rc_account_id=RC_ACCOUNT_ID,
                hashed_rc_extension_id=None,
                platform_additional_info={},
            )
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://app.test") as client:
            yield Harness(app, rt, client, crm, rt.sessions.issue(USER_ID, PLATFORM))


def claim_key(conversation_log_id: str, user_id: str = USER_ID, platform: str = PLATFORM) -> str:
    """The stored key of a user's claim on a conversation-day."""
    return Conversation(conversation_log_id, None, platform, user_id).claim_key


# -- request bodies --------------------------------------------------------------------------------

CONTACT_NUMBER = "+14155550199"


def sms(message_id: Any, text: str = "hello", **extra: Any) -> dict[str, Any]:
    return sms_message(
        message_id,
        text,
        contact=(CONTACT_NUMBER, "Message Contact"),
        agent=("+14155550101", "Test Agent"),
        creation_time="2026-07-14T03:00:00.000Z",
        **extra,
    )


def submission(
    messages: list[dict[str, Any]],
    *,
    conversation: str = "8031152018338945901",
    day: str = "2026-07-14",
    **log_info: Any,
) -> dict[str, Any]:
    return message_log_body(
        messages,
        conversation_id=conversation,
        day=day,
        contact_id="12345",
        contact_name="Message Contact",
        contact_number=CONTACT_NUMBER,
        log_info={"accountId": "178009004", **log_info},
        additionalSubmission={"deals": "d-1"},
    )
