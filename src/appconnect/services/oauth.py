"""The OAuth 2 client a connector's ``oauth_app`` argument is.

It does the two things App Connect needs (authorization-code exchange and refresh) with the
reference's request shapes, over the server's pooled HTTP client.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from appconnect.crm_client import CrmClient

_TOKEN_HEADERS = {
    "Accept": "application/json, application/x-www-form-urlencoded",
    "Content-Type": "application/x-www-form-urlencoded",
}


class OAuthError(Exception):
    """The token endpoint refused; ``code`` is ``EAUTH`` (OAuth error body) or ``ESTATUS``."""

    def __init__(self, message: str, *, code: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.body = body

    @property
    def error_code(self) -> str | None:
        """The OAuth ``error`` field of the body (JSON, form or already parsed), if any."""
        body = self.body
        if isinstance(body, (str, bytes)):
            body = _parse_body(body if isinstance(body, str) else body.decode("utf-8", "replace"))
        if isinstance(body, dict) and body.get("error"):
            return str(body["error"])
        return None


@dataclass
class TokenSet:
    access_token: str | None
    refresh_token: str | None
    expires: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


def _parse_body(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            return parsed
    except ValueError:
        pass
    return dict(parse_qsl(text, keep_blank_values=True))


def _expiry(data: dict[str, Any]) -> datetime | None:
    try:
        seconds = float(data["expires_in"])
    except (KeyError, TypeError, ValueError):
        return None
    return datetime.now(UTC) + timedelta(seconds=seconds)


class OAuthApp:
    """Built from an OAuthInfo (``clientId``, ``clientSecret``, ``accessTokenUri`` ...)."""

    def __init__(self, options: dict[str, Any], client: CrmClient) -> None:
        self.options = options
        self._client = client

    def _basic(self, options: dict[str, Any]) -> str:
        raw = f"{options.get('clientId') or ''}:{options.get('clientSecret') or ''}"
        return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")

    async def _post(
        self, url: str, form: dict[str, Any], headers: dict[str, str], query: dict[str, Any]
    ) -> dict[str, Any]:
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
        sent = {k: v for k, v in headers.items() if v != ""}  # "" removes a default header
        response = await self._client.post(url, content=urlencode(form, doseq=True), headers=sent)
        body = _parse_body(response.text)
        if body.get("error"):
            raise OAuthError(
                str(body.get("error_description") or body["error"]),
                code="EAUTH",
                status=response.status_code,
                body=body,
            )
        if not 200 <= response.status_code < 399:
            raise OAuthError(
                f"HTTP status {response.status_code}",
                code="ESTATUS",
                status=response.status_code,
                body=response.text,
            )
        return body

    async def get_token(self, callback_uri: str, options: dict[str, Any] | None = None) -> TokenSet:
        """Exchange the authorization code carried by ``callback_uri``."""
        overrides = dict(options or {})
        opts = {
            **self.options,
            **{k: v for k, v in overrides.items() if k not in ("headers", "query", "body")},
        }
        redirect_uri = opts.get("redirectUri")
        parts = urlsplit(callback_uri)
        if isinstance(redirect_uri, str) and urlsplit(redirect_uri).path != parts.path:
            raise OAuthError(
                f"Redirected path should match configured path, but got: {parts.path}", code="EAUTH"
            )
        if not parts.query:
            raise OAuthError(f"Unable to process uri: {callback_uri}", code="EAUTH")
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if params.get("error"):
            raise OAuthError(
                params.get("error_description") or params["error"], code="EAUTH", body=params
            )
        if not params.get("code"):
            raise OAuthError("Missing code, unable to request token", code="EAUTH")
        headers = dict(_TOKEN_HEADERS)
        form: dict[str, Any] = {
            "code": params["code"],
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if opts.get("clientSecret"):
            headers["Authorization"] = self._basic(opts)
        else:
            form["client_id"] = opts.get("clientId")
        headers.update({k: str(v) for k, v in (overrides.get("headers") or {}).items()})
        form.update(overrides.get("body") or {})
        form = {k: v for k, v in form.items() if v is not None}
        data = await self._post(
            str(opts["accessTokenUri"]), form, headers, dict(overrides.get("query") or {})
        )
        return TokenSet(data.get("access_token"), data.get("refresh_token"), _expiry(data), data)

    async def refresh(self, access_token: str | None, refresh_token: str | None) -> TokenSet:
        """Use the refresh token; fields the provider leaves out keep their old values."""
        headers = {**_TOKEN_HEADERS, "Authorization": self._basic(self.options)}
        form = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        data = await self._post(str(self.options["accessTokenUri"]), form, headers, {})
        return TokenSet(
            data.get("access_token") or access_token,
            data.get("refresh_token") or refresh_token,
            _expiry(data),
            data,
        )
