"""Helpers for tests that drive the ASGI app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from fastapi import FastAPI

from appconnect.app import AppConnect
from appconnect.runtime import Runtime


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    """Run the app's lifespan and give a client bound to it, plus the live runtime."""
    async with app.router.lifespan_context(app):
        core: AppConnect = app.state.appconnect
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, core.runtime


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
