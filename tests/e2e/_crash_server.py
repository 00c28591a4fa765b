"""A real appconnect server for the crash test: one API-key connector over an HTTP fake CRM.

Run as ``python tests/e2e/_crash_server.py <port>``; the CRM's base URL comes from ``CRM_URL``,
the database and the rest of the configuration from the usual environment variables.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn

from appconnect import Connector, ConnectorRegistry, LogResult, create_app


class CrashCRM(Connector):
    platform = "crashcrm"
    auth_type = "apiKey"
    base_url = os.environ["CRM_URL"]

    def get_basic_auth(self, *, api_key: str, **_: Any) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, **_: Any) -> dict[str, Any]:
        return {"successful": True, "platformUserInfo": {"id": "agent-crashcrm", "name": "Agent"}}

    async def create_call_log(self, *, call_log: dict[str, Any], **_: Any) -> LogResult:
        made = await self.http().post("/activities", json={"sessionId": call_log["sessionId"]})
        made.raise_for_status()
        return LogResult(log_id=made.json()["id"])

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


def main() -> None:
    registry = ConnectorRegistry()
    registry.register(CrashCRM())
    uvicorn.run(create_app(registry), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")


if __name__ == "__main__":
    main()
