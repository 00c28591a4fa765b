"""Managed authentication: values an admin stores so agents need not type them.

Field definitions come from the manifest's ``auth.apiKey.page.content``. Stored values live in
``accountData`` (org scope ``managed-auth-org``, user scope ``managed-auth-user:<ext>``), each
value in an encrypted envelope ``{"version", "encrypted": true, "value"}``. We write version 2
(AES-256-GCM via :class:`~appconnect.security.SecretBox`, random nonce); version 1 (the
reference's AES-CBC with a fixed IV) and legacy plain values are still read, so a reference
database can be adopted as is.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from appconnect.jsvalues import js_iso_string, js_stringify
from appconnect.runtime import Runtime
from appconnect.security.crypto import decrypt_field
from appconnect.services import account_data

logger = logging.getLogger("appconnect.managed_auth")

PORTAL = "https://appconnect.labs.ringcentral.com/public-api/connectors"
ORG_KEY = "managed-auth-org"
OAUTH_KEY = "managed-oauth-account"


def user_key(extension_id: str) -> str:
    return f"managed-auth-user:{extension_id}"


def failure_key(extension_id: str) -> str:
    return f"managed-auth-login-failure:{extension_id}"


def filled(value: Any) -> bool:
    return value is not None and value != ""


def seal(rt: Runtime, value: Any) -> dict[str, Any]:
    """One managed value as stored: JSON, encrypted with AES-GCM."""
    plain = js_stringify(value) or "null"  # JSON.stringify
    return {"version": 2, "encrypted": True, "value": rt.box.encrypt(plain)}


def unseal(rt: Runtime, stored: Any) -> Any:
    """Read a stored managed value (ours, the reference's envelope, or legacy plain)."""
    if isinstance(stored, dict) and stored.get("encrypted") and stored.get("value"):
        sealed = str(stored["value"])
        if rt.box.is_encrypted(sealed):
            return json.loads(rt.box.decrypt(sealed) or "null")
    return decrypt_field(stored, rt.secret)


async def _portal_manifest(
    rt: Runtime,
    connector_id: str,
    rc_account_id: str | None,
    dev_account: str | None,
    is_private: bool,
) -> dict[str, Any] | None:
    client = rt.http.client()
    internal = f"{PORTAL}/{connector_id}/manifest?access=internal&type=connector&accountId="
    try:
        if dev_account:
            url = internal + dev_account
        elif is_private:
            listing = (await client.get(f"{PORTAL}/internal?accountId={rc_account_id}")).json()
            private = {str(c.get("id")) for c in listing.get("privateConnectors") or []}
            shared = {str(c.get("id")): c for c in listing.get("sharedConnectors") or []}
            if connector_id in private:
                url = internal + str(rc_account_id)
            elif connector_id in shared:
                url = internal + str(shared[connector_id].get("accountId"))
            else:
                return None
        else:
            url = f"{PORTAL}/{connector_id}/manifest"
        response = await client.get(url)
        response.raise_for_status()
        data = response.json()
        return data if isinstance(data, dict) else None
    except Exception as exc:  # any failure means "no portal manifest"
        logger.warning("developer portal manifest %s unavailable: %s", connector_id, exc)
        return None


async def field_definitions(
    rt: Runtime,
    platform: str,
    *,
    connector_id: str | None = None,
    rc_account_id: str | None = None,
    dev_account: str | None = None,
    is_private: bool = False,
) -> list[dict[str, Any]]:
    """The auth-page fields of ``platform`` (portal manifest when ``connector_id`` is given)."""
    if connector_id:
        portal = await _portal_manifest(rt, connector_id, rc_account_id, dev_account, is_private)
        content = (
            ((((portal or {}).get("platforms") or {}).get(platform) or {}).get("auth") or {})
            .get("apiKey", {})
            .get("page", {})
            .get("content")
            if portal
            else None
        )
        if isinstance(content, list):
            return [f for f in content if isinstance(f, dict)]
    try:
        manifest = rt.registry.get_manifest(platform, fallback_to_default=True)
    except LookupError:
        return []
    return [f for f in manifest.auth_fields(platform) if isinstance(f, dict)]


async def stored_fields(rt: Runtime, rc_account_id: str, platform: str, key: str) -> dict[str, Any]:
    data = await account_data.get(rt, rc_account_id, platform, key)
    fields = (data or {}).get("fields") if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        return {}
    return {k: unseal(rt, v) for k, v in fields.items()}


def resolve_login_fields(
    definitions: list[dict[str, Any]],
    *,
    api_key: Any,
    additional_info: dict[str, Any] | None,
    org: dict[str, Any],
    user: dict[str, Any],
    prefer_submitted: bool,
) -> tuple[dict[str, Any], list[str]]:
    """Merge stored managed values into the submitted ones; report required fields still empty."""
    resolved = dict(additional_info or {})
    if "apiKey" not in resolved and api_key is not None:
        resolved["apiKey"] = api_key
    missing: list[str] = []
    for field in definitions:
        const = field.get("const")
        if not const:
            continue
        if field.get("managed"):
            stored = (user if field.get("managedScope") == "user" else org).get(const)
            if filled(stored) and not (prefer_submitted and filled(resolved.get(const))):
                resolved[const] = stored
        if field.get("required") and not filled(resolved.get(const)):
            missing.append(const)
    return resolved, missing


async def persist_submitted(
    rt: Runtime,
    rc_account_id: str,
    platform: str,
    extension_id: str,
    definitions: list[dict[str, Any]],
    submitted: dict[str, Any],
    user_name: str | None,
) -> None:
    """An admin's login stores the managed values they typed, at each field's scope."""
    org_new: dict[str, Any] = {}
    user_new: dict[str, Any] = {}
    for field in definitions:
        const = field.get("const")
        if not const or not field.get("managed") or not filled(submitted.get(const)):
            continue
        target = user_new if field.get("managedScope") == "user" else org_new
        target[const] = seal(rt, submitted[const])
    if org_new:
        current = await account_data.get(rt, rc_account_id, platform, ORG_KEY) or {}
        fields = {**(current.get("fields") or {}), **org_new}
        await account_data.put(rt, rc_account_id, platform, ORG_KEY, {**current, "fields": fields})
    if user_new and extension_id:
        key = user_key(extension_id)
        current = await account_data.get(rt, rc_account_id, platform, key) or {}
        fields = {**(current.get("fields") or {}), **user_new}
        await account_data.put(
            rt,
            rc_account_id,
            platform,
            key,
            {**current, "rcExtensionId": extension_id, "rcUserName": user_name, "fields": fields},
        )


async def mark_login_failure(rt: Runtime, rc_account_id: str, platform: str, ext: str) -> None:
    await account_data.put(
        rt,
        rc_account_id,
        platform,
        failure_key(ext),
        {"failedAt": js_iso_string(datetime.now(UTC))},
    )


async def managed_oauth_info(
    rt: Runtime, rc_account_id: str | None, platform: str
) -> tuple[dict[str, Any] | None, str | None]:
    """Admin-supplied OAuth values: account values, else pending ones (≤ 24 h); with the source."""
    if not rc_account_id:
        return None, None
    account = await stored_fields(rt, rc_account_id, platform, OAUTH_KEY)
    if account:
        return account, "account"
    pending = await account_data.pending_managed_oauth(rt, rc_account_id)
    if pending:
        return {k: unseal(rt, v) for k, v in pending.items()}, "pending"
    return None, None
