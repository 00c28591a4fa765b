"""Plugin credentials: account-scoped HS256 JWTs (spec plugins.md §9.2).

A credential carries ``rcAccountId``, ``pluginId``, ``iat`` and ``exp`` (14 days). A credential
presented during its last 7 days is renewed: the plugin server answers with a fresh one in
``x-refreshed-jwt-token``, which App Connect stores (it reads the header on token sync and
synchronous invocation).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
LIFETIME = timedelta(days=14)
RENEW_WITHIN = timedelta(days=7)


class CredentialError(Exception):
    """The request's plugin credential is missing, invalid or for another plugin."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PluginIdentity:
    """Who is calling: the account (and plugin) the credential was issued for."""

    rc_account_id: str
    plugin_id: str | None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)


def secret_from_env() -> str | None:
    return os.environ.get("PLUGIN_SERVER_SECRET_KEY") or os.environ.get("APP_SERVER_SECRET_KEY")


class CredentialIssuer:
    """Issues and checks the credentials of one plugin."""

    def __init__(
        self,
        secret: str | None,
        plugin_id: str | None,
        *,
        lifetime: timedelta = LIFETIME,
        renew_within: timedelta = RENEW_WITHIN,
    ) -> None:
        self._secret = secret
        self.plugin_id = plugin_id
        self.lifetime = lifetime
        self.renew_within = renew_within

    def _key(self) -> str:
        if not self._secret:
            raise RuntimeError(
                "no signing key: set PLUGIN_SERVER_SECRET_KEY (or APP_SERVER_SECRET_KEY) "
                "or pass secret= to PluginServer"
            )
        return self._secret

    def issue(self, rc_account_id: str, *, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {"rcAccountId": str(rc_account_id), "iat": issued}
        if self.plugin_id is not None:
            claims["pluginId"] = self.plugin_id
        claims["exp"] = issued + int(self.lifetime.total_seconds())
        return jwt.encode(claims, self._key(), algorithm=ALGORITHM)

    def verify(self, authorization: str | None) -> tuple[PluginIdentity, str | None]:
        """The caller's identity and, in the renewal window, a fresh credential."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise CredentialError(401, "Bearer token is required")
        try:
            claims = jwt.decode(
                token, self._key(), algorithms=[ALGORITHM], options={"require": ["exp"]}
            )
        except jwt.PyJWTError:
            raise CredentialError(401, "Invalid bearer token") from None
        account = claims.get("rcAccountId")
        if not isinstance(account, str) or not account:
            raise CredentialError(401, "Invalid bearer token")
        if self.plugin_id is not None and claims.get("pluginId") != self.plugin_id:
            raise CredentialError(403, "Token pluginId does not match route pluginId")
        fresh: str | None = None
        if claims["exp"] - time.time() <= self.renew_within.total_seconds():
            fresh = self.issue(account)
            claims = jwt.decode(fresh, self._key(), algorithms=[ALGORITHM])
        identity = PluginIdentity(account, claims.get("pluginId"), dict(claims))
        return identity, fresh
