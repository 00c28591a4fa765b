"""Installing, removing and querying the license of a plugin (spec plugins.md §3, §5.1-§5.3).

Every function returns ``(status, body)`` as the route sends it; a ``str`` body is text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from appconnect.runtime import Runtime
from appconnect.services.errors import client_message
from appconnect.services.plugins import client, records
from appconnect.services.ringcentral import admin_identity

logger = logging.getLogger("appconnect.plugins")

MANIFEST_BASE = "https://appconnect.labs.ringcentral.com/public-api/connectors"
REQUIRED = "pluginId and rcAccountId are required"
NO_RC_TOKEN = "Missing RingCentral access token"
NOT_ADMIN = "Admin validation failed"
MISMATCH = "rcAccountId mismatch"
NO_JWT = "Plugin register API did not return jwtToken"
LICENSE_UNAVAILABLE = "Plugin license status unavailable"

Reply = tuple[int, Any]


def _fail(status: int, message: str) -> Reply:
    return status, {"successful": False, "returnMessage": message}


def _text(value: Any) -> str:
    """A JSON id as JavaScript's ``String()`` renders it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value is not False and value != 0


async def _check_admin(
    rt: Runtime, plugin_id: Any, rc_account_id: Any, rc_token: str | None
) -> Reply | None:
    """Steps 1-4 of register and unregister; ``None`` when the caller may go on."""
    if not _present(plugin_id) or not _present(rc_account_id):
        return _fail(400, REQUIRED)
    if not rc_token:
        return _fail(400, NO_RC_TOKEN)
    identity = await admin_identity(rt, rc_token)
    if not identity.is_admin:
        return _fail(403, NOT_ADMIN)
    if identity.account_id != _text(rc_account_id):
        return _fail(403, MISMATCH)
    return None


def manifest_urls(plugin_id: str, access: Any, owner: Any) -> list[str]:
    base = f"{MANIFEST_BASE}/{quote(plugin_id, safe='')}/manifest"
    public = f"{base}?type=plugin"
    owner_text = "undefined" if owner is None else quote(_text(owner), safe="")
    internal = f"{base}?access=internal&type=plugin&accountId={owner_text}"
    if access == "public":
        return [public]
    if access in ("private", "shared"):
        return [internal]
    return [public, internal]


async def resolve_manifest(
    rt: Runtime, plugin_id: str, access: Any, owner: Any, plugin_name: Any
) -> dict[str, Any]:
    """The plugin's platform entry from the Developer Console (§3.1)."""
    last: Exception | None = None
    document: Any = None
    for url in manifest_urls(plugin_id, access, owner):
        try:
            response = await rt.http.client().get(url)
            response.raise_for_status()
            document = response.json()
            break
        except Exception as exc:
            last = exc
    else:
        raise last or RuntimeError(f"Unable to resolve manifest for plugin {plugin_id}")
    platforms = document.get("platforms") if isinstance(document, Mapping) else None
    platforms = platforms if isinstance(platforms, Mapping) else {}
    key = _text(plugin_name) if _present(plugin_name) else next(iter(platforms), None)
    entry = platforms.get(key) if key is not None else None
    if not isinstance(entry, Mapping):
        raise RuntimeError(f"Unable to resolve platform manifest for plugin {plugin_id}")
    return dict(entry)


async def register(rt: Runtime, body: Mapping[str, Any], rc_token: str | None) -> Reply:
    plugin_id, rc_account_id = body.get("pluginId"), body.get("rcAccountId")
    try:
        denied = await _check_admin(rt, plugin_id, rc_account_id, rc_token)
        if denied is not None:
            return denied
        pid, account = _text(plugin_id), _text(rc_account_id)
        manifest = await resolve_manifest(
            rt, pid, body.get("pluginAccess"), body.get("ownerRcAccountId"), body.get("pluginName")
        )
        if not manifest.get("endpointUrl"):
            raise RuntimeError(f"Plugin endpoint URL not found for {pid}")
        register_url = manifest.get("userRegisterEndpointUrl")
        if not isinstance(register_url, str) or not register_url:
            raise RuntimeError(f"Plugin register URL not found for {pid}")
        answer = await client.post_unauthenticated(
            rt, register_url, {"rcAccessToken": rc_token, "rcAccountId": account}
        )
        token = answer.get("jwtToken") if isinstance(answer, Mapping) else None
        if not isinstance(token, str) or not token:
            raise RuntimeError(NO_JWT)
        manifest.pop("jwtToken", None)
        await records.save(rt, account, pid, manifest, token)
    except Exception as exc:
        logger.warning("plugin registration failed: %r", exc)
        return _fail(400, client_message(exc))
    return 200, {"successful": True}


async def unregister(
    rt: Runtime, plugin_id: Any, rc_account_id: Any, rc_token: str | None
) -> Reply:
    try:
        denied = await _check_admin(rt, plugin_id, rc_account_id, rc_token)
        if denied is not None:
            return denied
        await records.remove(rt, _text(rc_account_id), _text(plugin_id))
    except Exception as exc:
        logger.warning("plugin unregistration failed: %r", exc)
        return _fail(400, client_message(exc))
    return 200, {"successful": True}


async def license_status(rt: Runtime, rc_account_id: str, plugin_id: str) -> Reply:
    """The plugin's advisory license answer; never an error status (§5.3)."""
    try:
        plugin = await records.find(rt, rc_account_id, plugin_id)
        if plugin is None:
            return 200, None
        answer = await client.get(
            rt, plugin.license_url, plugin.token, missing="Plugin license status URL is not set"
        )
    except Exception as exc:
        return 200, {"licenseStatus": False, "licenseStatusDescription": client_message(exc)}
    if not isinstance(answer, Mapping) or "licenseStatus" not in answer:
        return 200, {"licenseStatus": False, "licenseStatusDescription": LICENSE_UNAVAILABLE}
    return 200, dict(answer)
