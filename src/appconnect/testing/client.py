"""Drive an appconnect app in-process: its lifespan, an HTTP client over ASGI, logins.

Nothing here opens a socket. The app runs its real start-up (database migration, HTTP clients,
connector ``startup`` hooks) on a real database, by default a SQLite file in a directory you give;
outbound CRM calls go to the transport you hand over (usually :class:`~appconnect.testing.FakeCrm`).

Example::

    async with app_client(MyCRM(), crm=crm, tmp_path=tmp_path) as ac:
        await ac.login(api_key="k")
        found = await ac.get("/contact", params={"phoneNumber": "+16505550100"})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from fastapi import FastAPI

from appconnect.app import AppConnect, create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.manifest import Manifest
from appconnect.runtime import Runtime
from appconnect.services.sessions import issue_session
from appconnect.settings import Settings

__all__ = [
    "TEST_SECRET",
    "AppClient",
    "add_user",
    "app_client",
    "bearer",
    "serve",
    "settings_for_test",
]

TEST_SECRET = "appconnect-testing-secret-key-0123456789"
BASE_URL = "http://testserver"


def settings_for_test(tmp_path: str | Path, **overrides: Any) -> Settings:
    """Settings for a test: a SQLite database and the secrets file inside ``tmp_path``.

    ``overrides`` take environment-variable names (``DATABASE_URL=...``, ``USE_CACHE="1"``).
    """
    folder = Path(tmp_path)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{folder / 'appconnect-test.db'}",
        "APP_SERVER_SECRET_KEY": TEST_SECRET,
        "HASH_KEY": "appconnect-testing-hash-key",
        "APPCONNECT_SECRET_FILE": str(folder / "appconnect-secret.json"),
    }
    values.update(overrides)
    return Settings(**values)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header of a session token."""
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    """Run ``app``'s lifespan; give a client bound to it over ASGI and the live runtime."""
    async with app.router.lifespan_context(app):
        core: AppConnect = app.state.appconnect
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client, core.runtime


async def add_user(rt: Runtime, user_id: str, platform: str, **fields: Any) -> str:
    """Store a connected user as a login would (no CRM call), and return a session token."""
    values: dict[str, Any] = {
        "hostname": None, "access_token": "token", "refresh_token": None, "token_expiry": None,
        "timezone_name": None, "timezone_offset": None, "rc_account_id": None,
        "hashed_rc_extension_id": None, "platform_additional_info": {},
    }  # fmt: skip
    values.update(fields)
    await rt.users.upsert_login(user_id=user_id, platform=platform, **values)
    return await issue_session(rt, user_id, platform)


@dataclass
class AppClient:
    """A running app: ``client`` (httpx2 over ASGI), ``runtime``, ``app`` and the fake ``crm``.

    After :meth:`login` (or :meth:`login_as`), ``get``/``post``/``patch``/``put``/``delete`` send
    the session's ``Authorization`` header unless you pass your own ``headers``.
    """

    client: httpx2.AsyncClient
    runtime: Runtime
    app: FastAPI
    crm: Any = None
    platform: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    login_reply: dict[str, Any] | None = None

    async def login(
        self,
        *,
        api_key: str = "test-api-key",
        platform: str | None = None,
        hostname: str | None = None,
        additional_info: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        """Log in through ``POST /apiKeyLogin`` as the client does; keep and return the header.

        Raises ``AssertionError`` with the server's answer when the login is refused.
        """
        body: dict[str, Any] = {"platform": platform or self.platform, "apiKey": api_key}
        if hostname is not None:
            body["hostname"] = hostname
        if additional_info is not None:
            body["additionalInfo"] = dict(additional_info)
        reply = await self.client.post("/apiKeyLogin", json=body)
        assert reply.status_code == 200, f"login refused: {reply.status_code} {reply.text}"
        self.login_reply = reply.json()
        token = self.login_reply.get("jwtToken") if self.login_reply else None
        assert token, f"login gave no session: {reply.text}"
        self.headers = bearer(token)
        return self.headers

    async def login_oauth(
        self, redirect_uri: str, *, code: str = "test-code", platform: str | None = None
    ) -> dict[str, str]:
        """Finish an OAuth login through ``GET /oauth-callback`` as the client does.

        ``redirect_uri`` is the one your ``get_oauth_info`` returns; the fake CRM must answer
        the token exchange (``access_token_uri``) and whatever ``get_user_info`` calls.
        """
        key = platform or self.platform
        callback = f"{redirect_uri}?code={code}&state=platform%3D{key}"
        reply = await self.client.get("/oauth-callback", params={"callbackUri": callback})
        assert reply.status_code == 200, f"login refused: {reply.status_code} {reply.text}"
        self.login_reply = reply.json()
        token = self.login_reply.get("jwtToken") if self.login_reply else None
        assert token, f"login gave no session: {reply.text}"
        self.headers = bearer(token)
        return self.headers

    async def login_as(self, user_id: str, platform: str | None = None, **fields: Any) -> dict:
        """Store a user directly (e.g. an OAuth user with tokens) and use its session."""
        token = await add_user(self.runtime, user_id, platform or self.platform or "", **fields)
        self.headers = bearer(token)
        return self.headers

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        if "headers" not in kwargs:
            kwargs["headers"] = self.headers
        return await self.client.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx2.Response:
        return await self.request("POST", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx2.Response:
        return await self.request("PATCH", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx2.Response:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx2.Response:
        return await self.request("DELETE", url, **kwargs)


def _registry_of(target: Any, manifest: Any) -> tuple[ConnectorRegistry, str | None]:
    if isinstance(target, ConnectorRegistry):
        platforms = target.registered_platforms()
        return target, platforms[0] if len(platforms) == 1 else None
    registry = ConnectorRegistry()
    registry.register(target, manifest=manifest)
    platforms = registry.registered_platforms()
    return registry, platforms[0] if platforms else None


@asynccontextmanager
async def app_client(
    target: Any = None,
    *,
    crm: Any = None,
    tmp_path: str | Path | None = None,
    settings: Settings | None = None,
    manifest: Manifest | Mapping[str, Any] | str | Path | None = None,
    app: FastAPI | None = None,
    **setting_overrides: Any,
) -> AsyncIterator[AppClient]:
    """An :class:`AppClient` for a connector (instance or class), a registry, or a built ``app``.

    ``crm`` is a :class:`~appconnect.testing.FakeCrm` (or any object with a ``transport``, or an
    ``httpx2`` transport) receiving every outbound request. Give ``tmp_path`` (a SQLite database
    goes there) or complete ``settings``. ``target=None`` serves the built-in demo connector.
    """
    platform: str | None = None
    if app is None:
        if settings is None:
            if tmp_path is None:
                raise TypeError("app_client() needs tmp_path or settings")
            settings = settings_for_test(tmp_path, **setting_overrides)
        registry: ConnectorRegistry | None = None
        if target is not None:
            registry, platform = _registry_of(target, manifest)
        transport = getattr(crm, "transport", crm)
        app = create_app(registry, settings=settings, http_transport=transport)
        if target is None:
            platform = "demo"
    async with serve(app) as (client, runtime):
        yield AppClient(client=client, runtime=runtime, app=app, crm=crm, platform=platform)
