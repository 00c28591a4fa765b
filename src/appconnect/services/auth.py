"""Login and session workflows: API-key login, OAuth callback, logout, validation, licence.

Each function returns ``(status, body)``; a ``str`` body is sent as the reference's plain text,
anything else as JSON. They never see a Request: the route hands over query, body and headers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from sqlalchemy.exc import SQLAlchemyError

from appconnect.connectors.args import UNSET, given
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.runtime import Runtime
from appconnect.services import account_data, managed_auth
from appconnect.services.credentials import load_proxy_config, refresh_if_needed
from appconnect.services.errors import DB_FAILURE_MESSAGE, client_message, warning
from appconnect.services.oauth import OAuthApp
from appconnect.services.ringcentral import admin_identity, extract_rc_token, user_identity
from appconnect.services.sessions import issue_session, revoke_sessions
from appconnect.store.users import User

logger = logging.getLogger("appconnect.auth")

Reply = tuple[int, Any]
_DB_FAILURE = {"returnMessage": warning(DB_FAILURE_MESSAGE)}
_LICENSE_INVALID = "Invalid (Connect to get license status)"


def _login_reply(jwt: str, name: Any, result: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"jwtToken": jwt, "name": name}
    if result.get("returnMessage") is not None:
        body["returnMessage"] = result["returnMessage"]
    return body


async def _finish_login(
    rt: Runtime,
    view: ConnectorView,
    platform: str,
    user: User,
    name: Any,
    oauth_app: OAuthApp | None = None,
) -> dict[str, Any]:
    """``postSaveUserInfo`` may replace ``{id, name}`` (the JWT subject and the reply's name)."""
    info: dict[str, Any] = {"id": user.id, "name": name}
    if view.has("postSaveUserInfo"):
        kwargs: dict[str, Any] = {"user_info": info}
        if oauth_app is not None:
            kwargs["oauth_app"] = oauth_app
        replaced = to_wire(await view.call("postSaveUserInfo", **kwargs))
        if not isinstance(replaced, dict) or replaced.get("id") is None:
            raise ValueError("postSaveUserInfo must return the user info ({id, name})")
        info = replaced
    return info


def _or_absent(value: Any, body: Mapping[str, Any], key: str) -> Any:
    """``value``, or :data:`UNSET` when it is ``None`` only because ``body`` lacks ``key``."""
    return UNSET if value is None and key not in body else value


# -- API key ---------------------------------------------------------------------------------


async def api_key_login(
    rt: Runtime, body: Mapping[str, Any], headers: Mapping[str, str], query: Mapping[str, Any]
) -> Reply:
    platform = body.get("platform")
    if not platform:
        return 400, "Missing platform name"
    platform = str(platform)
    try:
        return await _api_key_login(rt, platform, body, headers, query)
    except SQLAlchemyError:
        logger.exception("database failure during API-key login")
        return 200, _DB_FAILURE
    except Exception as exc:
        return 400, {"error": client_message(exc)}


async def _api_key_login(
    rt: Runtime,
    platform: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    query: Mapping[str, Any],
) -> Reply:
    view = rt.registry.get_connector(platform)
    api_key = body.get("apiKey")
    additional_info = body.get("additionalInfo")
    rc_token = extract_rc_token(headers, body, query)
    account_id: str | None = None
    extension_id = ""
    can_persist = False
    if rc_token:
        identity = await user_identity(rt, rc_token)
        account_id, extension_id = identity.account_id, identity.extension_id
        if isinstance(additional_info, dict) and additional_info:
            can_persist = (await admin_identity(rt, rc_token)).is_admin

    definitions: list[dict[str, Any]] = []
    managed: list[dict[str, Any]] = []
    resolved_info = additional_info
    resolved_key = api_key
    if account_id:
        definitions = await managed_auth.field_definitions(
            rt,
            platform,
            connector_id=body.get("connectorId"),
            rc_account_id=account_id,
            dev_account=body.get("devRcAccountId"),
            is_private=bool(body.get("isPrivate")),
        )
        managed = [d for d in definitions if d.get("managed")]
        failed_before = (
            bool(managed)
            and await account_data.get(
                rt, account_id, platform, managed_auth.failure_key(extension_id)
            )
            is not None
        )
        resolved, missing = managed_auth.resolve_login_fields(
            definitions,
            api_key=api_key,
            additional_info=additional_info if isinstance(additional_info, dict) else None,
            org=await managed_auth.stored_fields(rt, account_id, platform, managed_auth.ORG_KEY),
            user=await managed_auth.stored_fields(
                rt, account_id, platform, managed_auth.user_key(extension_id)
            ),
            prefer_submitted=failed_before,
        )
        if missing:
            message: dict[str, Any] = {
                "messageType": "warning",
                "message": "Missing required authentication fields.",
                "ttl": 3000,
                "missingRequiredFieldConsts": missing,
            }
            return 400, {"returnMessage": message}
        resolved_info = resolved
        resolved_key = resolved.get("apiKey") if resolved.get("apiKey") is not None else api_key

    # Connectors see an absent value as UNSET (a key neither submitted nor resolved).
    resolved_key_arg = _or_absent(resolved_key, body, "apiKey")
    basic = await view.call("getBasicAuth", api_key=resolved_key_arg)
    result = to_wire(
        await view.call(
            "getUserInfo",
            auth_header=f"Basic {basic}",
            hostname=given(body, "hostname"),
            platform=platform,
            additional_info=_or_absent(resolved_info, body, "additionalInfo"),
            api_key=resolved_key_arg,
            proxy_id=given(body, "proxyId"),
        )
    )
    if not isinstance(result, dict) or not result.get("successful"):
        if managed and account_id:
            await managed_auth.mark_login_failure(rt, account_id, platform, extension_id)
        failed = result.get("returnMessage") if isinstance(result, dict) else None
        return 400, {"returnMessage": failed}

    if account_id:
        await account_data.remove(rt, account_id, platform, managed_auth.failure_key(extension_id))
    info = result.get("platformUserInfo") or {}
    user = await rt.users.upsert_login(
        user_id=str(info.get("id")),
        platform=platform,
        hostname=body.get("hostname"),
        access_token=info.get("overridingApiKey") or resolved_key,
        refresh_token=None,
        token_expiry=None,
        timezone_name=info.get("timezoneName"),
        timezone_offset=info.get("timezoneOffset"),
        rc_account_id=account_id,
        hashed_rc_extension_id=headers.get("rc-extension-id"),
        platform_additional_info={
            **(info.get("platformAdditionalInfo") or {}),
            "proxyId": body.get("proxyId"),
        },
    )
    user_info = await _finish_login(rt, view, platform, user, info.get("name"))
    if can_persist and managed and account_id and isinstance(additional_info, dict):
        await managed_auth.persist_submitted(
            rt,
            account_id,
            platform,
            extension_id,
            definitions,
            additional_info,
            user_info.get("name"),
        )
    jwt = await issue_session(rt, user_info["id"], platform)
    return 200, _login_reply(jwt, user_info.get("name"), result)


# -- OAuth -----------------------------------------------------------------------------------


def _query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def _after_platform(text: str | None) -> str | None:
    match = re.search(r"platform=([^&]*)", text or "")
    return match.group(1) if match and match.group(1) else None


async def oauth_callback(
    rt: Runtime, query: Mapping[str, Any], headers: Mapping[str, str]
) -> Reply:
    try:
        return await _oauth_callback(rt, query, headers)
    except SQLAlchemyError:
        logger.exception("database failure during OAuth login")
        return 200, _DB_FAILURE
    except Exception as exc:
        return 400, {"error": client_message(exc)}


async def _oauth_callback(
    rt: Runtime, query: Mapping[str, Any], headers: Mapping[str, str]
) -> Reply:
    callback_uri = query.get("callbackUri")
    code = query.get("code")
    if not callback_uri or callback_uri == "undefined":
        if not code:
            return 400, "Missing callbackUri"
        callback_uri = f"{rt.settings.app_server or ''}/oauth-callback?code={code}"
    elif code and "code=" not in callback_uri:
        callback_uri += f"&code={code}"
    state_text = _query_value(callback_uri, "state") or query.get("state") or ""
    state = dict(parse_qsl(unquote(state_text)))
    platform = state.get("platform") or _after_platform(callback_uri) or _after_platform(state_text)
    if not platform:
        return 400, "Missing platform name"
    hostname = query.get("hostname") or given(state, "hostname")
    view = rt.registry.get_connector(platform)
    proxy_id = query.get("proxyId")
    proxy_config = await load_proxy_config(rt, proxy_id)

    info, source = await managed_auth.managed_oauth_info(rt, query.get("rcAccountId"), platform)
    if info is None:
        info = await view.call_object(
            "getOauthInfo",
            token_url=given(query, "tokenUrl"),
            hostname=hostname,
            rc_account_id=given(query, "rcAccountId"),
            proxy_id=given(query, "proxyId"),
            proxy_config=proxy_config,
            user_email=given(query, "userEmail"),
            is_from_mcp=bool(state.get("sessionId")),
        )
    hostname = info.get("hostname") or hostname
    token_url = info.get("accessTokenUri") or given(query, "tokenUrl")
    if info.get("failMessage"):
        return 200, {"returnMessage": {"messageType": "danger", "message": info["failMessage"]}}

    oauth_app = OAuthApp(info, rt.http.client())
    options = None
    if view.has("getOverridingOAuthOption"):
        options = to_wire(
            await view.call(
                "getOverridingOAuthOption", code=_query_value(callback_uri, "code"), oauth_info=info
            )
        )
    tokens = await oauth_app.get_token(callback_uri, options)
    result = to_wire(
        await view.call(
            "getUserInfo",
            auth_header=f"Bearer {tokens.access_token}",
            token_url=token_url,
            api_url=given(query, "apiUrl"),
            hostname=hostname,
            platform=platform,
            username=given(query, "username"),
            callback_uri=callback_uri,
            query=dict(query),
            proxy_id=given(query, "proxyId"),
            proxy_config=proxy_config,
            user_email=given(query, "userEmail"),
            data=tokens.data,
        )
    )
    if not isinstance(result, dict) or not result.get("successful"):
        message = result.get("returnMessage") if isinstance(result, dict) else None
        return 200, {"returnMessage": message}
    details = result.get("platformUserInfo") or {}
    user = await rt.users.upsert_login(
        user_id=str(details.get("id")),
        platform=platform,
        hostname=details.get("overridingHostname") or (None if hostname is UNSET else hostname),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expiry=tokens.expires,
        timezone_name=details.get("timezoneName"),
        timezone_offset=details.get("timezoneOffset"),
        rc_account_id=query.get("rcAccountId"),
        hashed_rc_extension_id=headers.get("rc-extension-id"),
        platform_additional_info={
            **(details.get("platformAdditionalInfo") or {}),
            "proxyId": proxy_id,
        },
    )
    user_info = await _finish_login(rt, view, platform, user, details.get("name"), oauth_app)
    if source == "pending":
        await account_data.promote_pending_oauth(rt, str(query.get("rcAccountId")), platform)
    jwt = await issue_session(rt, user_info["id"], platform)
    return 200, _login_reply(jwt, user_info.get("name"), result)


# -- session routes --------------------------------------------------------------------------


async def unauthorize(rt: Runtime, user_id: str | None, platform: str | None) -> Reply:
    """Log out: every session token of the user is refused from now on (ours), then the
    connector's ``unAuthorize`` clears the CRM credentials."""
    try:
        if user_id is not None:
            await revoke_sessions(rt, user_id)
        user = await rt.users.get(user_id)
        if user is None:
            return 400, "User not found"
        view = rt.registry.get_connector(platform or user.platform or "")
        result = to_wire(await view.call("unAuthorize", user=user))
    except Exception as exc:
        return 400, {"error": client_message(exc)}
    message = result.get("returnMessage") if isinstance(result, dict) else None
    return 200, message


async def auth_validation(rt: Runtime, user_id: str | None, platform: str | None) -> Reply:
    try:
        user = await rt.users.get(user_id, platform)
        if user is None:
            return 200, {"successful": False}
        view = rt.registry.get_connector(platform or "")
        proxy_config = await load_proxy_config(rt, user.proxy_id)
        auth_type = await view.call(
            "getAuthType", proxy_id=user.proxy_id, proxy_config=proxy_config
        )
        current: User | None = user
        # The reference resolves OAuth for every connector, which breaks API-key connectors
        # without getOauthInfo (spec quirk 5); we only do it where the session is OAuth.
        if auth_type == "oauth":
            info, _ = await managed_auth.managed_oauth_info(rt, user.rc_account_id, view.platform)
            if info is None:
                info = to_wire(
                    await view.call(
                        "getOauthInfo",
                        token_url=(user.platform_additional_info or {}).get("tokenUrl"),
                        hostname=user.hostname,
                        proxy_id=user.proxy_id,
                    )
                )
            current = await refresh_if_needed(rt, OAuthApp(info, rt.http.client()), user)
        result = to_wire(await view.call("authValidation", user=current))
    except Exception as exc:
        return 400, {"error": client_message(exc)}
    body = {"successful": bool(result.get("successful"))} if isinstance(result, dict) else {}
    if isinstance(result, dict) and result.get("returnMessage") is not None:
        body["returnMessage"] = result["returnMessage"]
    return 200, body


def _license(status: str) -> dict[str, Any]:
    return {"isLicenseValid": False, "licenseStatus": status, "licenseStatusDescription": ""}


async def license_status(rt: Runtime, user_id: str | None, platform: str | None) -> Reply:
    try:
        user = await rt.users.get(user_id)
        if user is None:
            return 200, _license("Invalid (User not found)")
        view = rt.registry.get_connector(platform or user.platform or "")
        result = to_wire(
            await view.call("getLicenseStatus", user_id=user_id, platform=platform, user=user)
        )
    except Exception:
        logger.warning("license status failed for %s", user_id, exc_info=True)
        return 200, _license(_LICENSE_INVALID)
    return 200, result
