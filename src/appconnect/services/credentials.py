"""CRM credentials for a stored user: the auth header, and token refresh under a lock.

Every flow that calls the CRM for a user goes through :func:`authenticate` first. For OAuth
connectors it refreshes an access token that expires within two minutes. The refresh runs under a
per-user lock from the key-value store (in-process by default, Redis when configured), and the user
is re-read once the lock is held: of N concurrent requests, the first refreshes and the rest find a
fresh token, so the CRM sees exactly one refresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from appconnect.connectors.registry import ConnectorNotFound, ConnectorView
from appconnect.kv import LockTimeout
from appconnect.runtime import Runtime
from appconnect.services.oauth import OAuthApp, OAuthError
from appconnect.store.users import User

logger = logging.getLogger("appconnect.credentials")

REFRESH_MARGIN = timedelta(minutes=2)
TOKEN_LOCK_TIMEOUT = 20


@dataclass
class AuthContext:
    """What a connector call on behalf of a user needs."""

    user: User
    auth_header: str
    proxy_config: Any = None


async def load_proxy_config(runtime: Runtime, proxy_id: str | None) -> Any:
    """The declarative config for a proxy user (supplied by the proxy connector, when present)."""
    if not proxy_id:
        return None
    loader = runtime.state.get("proxy_config_loader")
    return await loader(proxy_id) if loader else None


async def oauth_app_for(runtime: Runtime, view: ConnectorView, **kwargs: Any) -> OAuthApp:
    """Build the OAuth client from the connector's ``get_oauth_info``."""
    info = await view.get_oauth_info(**kwargs)
    return OAuthApp(info, runtime.http.client())


def needs_refresh(user: User, now: datetime | None = None) -> bool:
    """The reference's rule: both tokens set and expiry within two minutes (no expiry: never)."""
    if not user.access_token or not user.refresh_token or user.token_expiry is None:
        return False
    return user.token_expiry < (now or datetime.now(UTC)) + REFRESH_MARGIN


async def refresh_if_needed(runtime: Runtime, oauth_app: OAuthApp, user: User) -> User | None:
    """Return a user with a usable access token, or ``None`` if the grant was revoked."""
    try:
        own = runtime.registry.get_connector(user.platform or "")
    except ConnectorNotFound:
        own = None
    if own is not None and own.has("checkAndRefreshAccessToken"):
        result = await own.call_positional(
            "checkAndRefreshAccessToken", oauth_app, user, TOKEN_LOCK_TIMEOUT
        )
        return result if isinstance(result, User) or result is None else user
    if not needs_refresh(user):
        return user
    try:
        async with runtime.kv.lock(
            f"token-refresh:{user.id}", timeout=TOKEN_LOCK_TIMEOUT, wait=TOKEN_LOCK_TIMEOUT
        ):
            current = await runtime.users.get(user.id, fresh=True)
            if current is None:
                return None
            if not needs_refresh(current):
                return current  # someone refreshed while we waited
            return await _refresh(runtime, oauth_app, current)
    except LockTimeout as exc:
        raise RuntimeError("Token lock timeout") from exc


async def _refresh(runtime: Runtime, oauth_app: OAuthApp, user: User) -> User | None:
    used_refresh_token = user.refresh_token
    try:
        tokens = await oauth_app.refresh(user.access_token, user.refresh_token)
    except OAuthError as exc:
        if (exc.error_code or "").lower() != "invalid_grant":
            raise
        reloaded = await runtime.users.get(user.id, fresh=True)
        if reloaded is not None and reloaded.refresh_token != used_refresh_token:
            return reloaded  # another process rotated the token first
        logger.info("refresh token of user %s was revoked", user.id)
        return None
    user.access_token = tokens.access_token
    user.refresh_token = tokens.refresh_token
    user.token_expiry = tokens.expires
    await user.save()
    return user


async def authenticate(runtime: Runtime, view: ConnectorView, user: User) -> AuthContext | None:
    """The authenticated context of the reference (§4.1); ``None`` means the session is revoked."""
    proxy_config = await load_proxy_config(runtime, user.proxy_id)
    auth_type = await view.get_auth_type(proxy_id=user.proxy_id, proxy_config=proxy_config)
    if auth_type == "oauth":
        oauth_app = await oauth_app_for(
            runtime,
            view,
            token_url=(user.platform_additional_info or {}).get("tokenUrl"),
            hostname=user.hostname,
            proxy_id=user.proxy_id,
            proxy_config=proxy_config,
        )
        refreshed = await refresh_if_needed(runtime, oauth_app, user)
        if refreshed is None:
            return None
        return AuthContext(refreshed, f"Bearer {refreshed.access_token}", proxy_config)
    if auth_type == "apiKey":
        basic = await view.get_basic_auth(api_key=user.access_token)
        return AuthContext(user, f"Basic {basic}", proxy_config)
    return AuthContext(user, "", proxy_config)
