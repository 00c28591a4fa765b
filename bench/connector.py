"""The benchmark's connector: an API-key connector for the fake CRM of :mod:`bench.fake_crm`.

It behaves like a small real connector: every interface is one HTTP request to the CRM through
the framework's pooled client (``self.http()``), with the ``auth_header`` it is given, except the
message-log update, which reads the conversation record before writing it (two); it returns the
typed results the docs recommend. It asks for ``text/plain`` bodies, so the framework
composes call logs and, on update, reads the current CRM body first (``getCallLog``): a call-log
update is therefore one read and one write, as for most real CRMs.

``app_factory`` is the target of ``appconnect serve bench.connector:app_factory``; it reads the
fake CRM's URL from ``BENCH_CRM_URL``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from appconnect.app import create_app
from appconnect.connectors.base import Connector
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.connectors.results import (
    CallLogInfo,
    ContactMatch,
    FindContactResult,
    GetCallLogResult,
    LogResult,
    PlatformUserInfo,
    ReturnMessage,
    UpdateLogResult,
    UserInfoResult,
)

PLATFORM = "bench"
CRM_URL_ENV = "BENCH_CRM_URL"
DEFAULT_CRM_URL = "http://127.0.0.1:7070"


class BenchConnector(Connector):
    """Platform ``bench``: contacts, call activities and message activities in the fake CRM."""

    platform = PLATFORM
    auth_type = "apiKey"

    def __init__(self, crm_url: str = DEFAULT_CRM_URL) -> None:
        self.crm_url = crm_url.rstrip("/")

    def _headers(self, auth_header: str) -> dict[str, str]:
        return {"Authorization": auth_header}

    # -- auth ---------------------------------------------------------------------------------

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, auth_header: str) -> UserInfoResult:
        response = await self.http(self.crm_url).get("/me", headers=self._headers(auth_header))
        if response.status_code != 200:
            return UserInfoResult(
                successful=False,
                return_message=ReturnMessage(message="Invalid API key", message_type="warning"),
            )
        me = response.json()
        return UserInfoResult(
            successful=True,
            platform_user_info=PlatformUserInfo(
                id=me["id"], name=me["name"], timezone_name="UTC", timezone_offset=0
            ),
        )

    # -- contacts -----------------------------------------------------------------------------

    async def find_contact(self, auth_header: str, phone_number: str) -> FindContactResult:
        response = await self.http(self.crm_url).get(
            "/contacts", params={"phone": phone_number}, headers=self._headers(auth_header)
        )
        response.raise_for_status()
        matches = [ContactMatch(**c) for c in response.json()]
        return FindContactResult(matched_contact_info=matches)

    # -- call logs ----------------------------------------------------------------------------

    def get_log_format_type(self, platform: str | None = None, proxy_config: Any = None) -> str:
        return "text/plain"

    async def create_call_log(
        self,
        auth_header: str,
        contact_info: dict[str, Any],
        call_log: dict[str, Any],
        composed_log_details: str = "",
    ) -> LogResult:
        response = await self.http(self.crm_url).post(
            "/activities",
            json={
                "contactId": contact_info.get("id"),
                "sessionId": call_log.get("sessionId"),
                "subject": call_log.get("customSubject") or "Call",
                "body": composed_log_details,
            },
            headers=self._headers(auth_header),
        )
        response.raise_for_status()
        return LogResult(log_id=response.json()["id"])

    async def get_call_log(self, auth_header: str, call_log_id: str) -> GetCallLogResult:
        response = await self.http(self.crm_url).get(
            f"/activities/{call_log_id}", headers=self._headers(auth_header)
        )
        response.raise_for_status()
        record = response.json()
        return GetCallLogResult(
            call_log_info=CallLogInfo(
                subject=record.get("subject"),
                full_body=record.get("body"),
                full_log_response=record,
            )
        )

    async def update_call_log(
        self,
        auth_header: str,
        existing_call_log: dict[str, Any],
        composed_log_details: str = "",
        subject: str | None = None,
    ) -> UpdateLogResult:
        changes: dict[str, Any] = {"body": composed_log_details}
        if subject:
            changes["subject"] = subject
        response = await self.http(self.crm_url).patch(
            f"/activities/{existing_call_log['thirdPartyLogId']}",
            json=changes,
            headers=self._headers(auth_header),
        )
        response.raise_for_status()
        return UpdateLogResult(updated_note=composed_log_details)

    # -- message logs -------------------------------------------------------------------------

    async def create_message_log(
        self,
        auth_header: str,
        contact_info: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> LogResult:
        response = await self.http(self.crm_url).post(
            "/messages",
            json={"contactId": contact_info.get("id"), "lines": [_line(message)]},
            headers=self._headers(auth_header),
        )
        response.raise_for_status()
        return LogResult(log_id=response.json()["id"])

    async def update_message_log(
        self,
        auth_header: str,
        existing_message_log: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> UpdateLogResult:
        # Read the conversation record before appending to it, as connectors that keep one
        # note per conversation-day do (the reference bench connector does the same): a message
        # log with three new SMS is one create and two read + write pairs, 5 CRM calls.
        http = self.http(self.crm_url)
        path = f"/messages/{existing_message_log['thirdPartyLogId']}"
        headers = self._headers(auth_header)
        current = await http.get(path, headers=headers)
        current.raise_for_status()
        response = await http.patch(path, json={"lastLine": _line(message)}, headers=headers)
        response.raise_for_status()
        return UpdateLogResult()


def _line(message: dict[str, Any] | None) -> str:
    message = message or {}
    return f"[{message.get('creationTime', '')}] {message.get('subject') or ''}"


def app_factory() -> FastAPI:
    """The server under test: the bench connector only, talking to ``$BENCH_CRM_URL``."""
    registry = ConnectorRegistry()
    registry.register(BenchConnector(os.environ.get(CRM_URL_ENV, DEFAULT_CRM_URL)))
    return create_app(registry)
