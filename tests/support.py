"""Helpers for tests that drive the ASGI app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from fastapi import FastAPI

from appconnect.app import AppConnect
from appconnect.runtime import Runtime
from appconnect.services.sessions import issue_session


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    """Run the app's lifespan and give a client bound to it, plus the live runtime."""
    async with app.router.lifespan_context(app):
        core: AppConnect = app.state.appconnect
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, core.runtime


async def add_user(rt: Runtime, user_id: str, platform: str, **fields: Any) -> str:
    """Store a connected user as a login would, and return a session token for it."""
    values: dict[str, Any] = {
        "hostname": None, "access_token": "token", "refresh_token": None, "token_expiry": None,
        "timezone_name": None, "timezone_offset": None, "rc_account_id": None,
        "hashed_rc_extension_id": None, "platform_additional_info": {},
    }  # fmt: skip
    values.update(fields)
    await rt.users.upsert_login(user_id=user_id, platform=platform, **values)
    return await issue_session(rt, user_id, platform)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
