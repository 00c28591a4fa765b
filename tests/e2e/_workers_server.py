"""The app ``tests/e2e/test_workers.py`` serves with ``appconnect serve --workers 2``.

One OAuth connector over the loopback fake CRM (``CRM_URL``). Test-only additions: every
response carries ``x-worker-pid`` (so the test knows which worker answered and can prove that
both did), and every CRM request carries the same pid (so the fake CRM knows which worker sent it).
"""

from __future__ import annotations

import os
from typing import Any

from appconnect import (
    Connector,
    ConnectorRegistry,
    ContactMatch,
    FindContactResult,
    LicenseStatus,
    LogResult,
    create_app,
)
from appconnect.store.users import User

CRM_URL = os.environ["CRM_URL"]


def _pid() -> str:
    return str(os.getpid())


class WorkersCRM(Connector):
    platform = "wcrm"
    auth_type = "oauth"
    base_url = CRM_URL

    async def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {"clientId": "cid", "clientSecret": "csecret",
                "accessTokenUri": f"{CRM_URL}/oauth/token",
                "redirectUri": "https://app.example/callback"}  # fmt: skip

    async def get_user_info(self, **_: Any) -> dict[str, Any]:
        return {"successful": True, "platformUserInfo": {"id": "w-wcrm", "name": "W"}}

    async def find_contact(self, *, auth_header: str, phone_number: str, **_: Any) -> Any:
        found = await self.http().get(
            "/contacts",
            params={"phone": phone_number},
            headers={"Authorization": auth_header, "X-Worker-Pid": _pid()},
        )
        found.raise_for_status()
        return FindContactResult(
            matched_contact_info=[
                ContactMatch(id=c["id"], name=c["name"], phone=phone_number) for c in found.json()
            ]
        )

    async def create_call_log(self, *, call_log: dict[str, Any], **_: Any) -> LogResult:
        made = await self.http().post(
            "/activities", json={"sessionId": call_log["sessionId"]},
            headers={"X-Worker-Pid": _pid()},
        )  # fmt: skip
        made.raise_for_status()
        return LogResult(log_id=made.json()["id"])

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def get_license_status(self, **_: Any) -> LicenseStatus:
        return LicenseStatus(is_license_valid=True, license_status="Basic")

    async def unauthorize(self, *, user: User) -> dict[str, Any]:
        user.access_token = ""
        await user.save()
        return {"successful": True, "returnMessage": {"message": "Logged out"}}


class WorkerPid:
    """Adds ``x-worker-pid`` to every response (test server only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_pid(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-worker-pid", _pid().encode())]  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_with_pid)


registry = ConnectorRegistry()
registry.register(WorkersCRM())
app = create_app(registry)
app.add_middleware(WorkerPid)
