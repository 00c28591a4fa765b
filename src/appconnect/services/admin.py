"""Admin workflows: the admin check, admin settings, user mapping, server-side logging settings.

Every admin route derives the account from the caller's RingCentral token (validated against
RingCentral), never from anything the client names, so an admin reaches only their own account's
row. Functions return ``(status, body)``; a ``str`` body is the reference's plain text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appconnect.connectors.results import to_wire
from appconnect.runtime import Runtime
from appconnect.services import admin_settings
from appconnect.services.credentials import authenticate, oauth_app_for
from appconnect.services.errors import (
    DB_FAILURE_MESSAGE,
    SESSION_REVOKED,
    client_message,
    failure,
    warning,
)
from appconnect.services.ringcentral import RcIdentity, admin_identity
from appconnect.store.users import User

logger = logging.getLogger("appconnect.admin")

Reply = tuple[int, Any]
NOAUTH = "Please go to Settings and authorize CRM platform"
USER_NOT_FOUND = "User not found"
ADMIN_REFUSED = "Admin validation failed"
EMPTY_ADMIN_SETTINGS: dict[str, Any] = {"customConnector": None, "userSettings": {}}


class Refused(Exception):
    """A workflow ends early with this reply (the admin check failed, no user...)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.reply: Reply = (status, body)


async def require_admin(rt: Runtime, rc_token: str | None) -> RcIdentity:
    """The caller's identity if RingCentral says they are an admin; else :class:`Refused` 403.

    A token RingCentral rejects raises :class:`~appconnect.services.ringcentral.RingCentralError`
    (the routes answer 400 ``{"error": ...}`` as the reference does).
    """
    identity = await admin_identity(rt, rc_token)
    if not identity.is_admin:
        raise Refused(403, ADMIN_REFUSED)
    return identity


async def require_user(rt: Runtime, user_id: str | None) -> User:
    user = await rt.users.get(user_id) if user_id else None
    if user is None:
        raise Refused(400, USER_NOT_FOUND)
    return user


async def guarded(work: Any) -> Reply:
    """Run a workflow coroutine: :class:`Refused` gives its reply, other errors the EXC reply."""
    try:
        result: Reply = await work
        return result
    except Refused as refused:
        return refused.reply
    except Exception as exc:
        logger.info("admin workflow failed: %r", exc)
        return 400, {"error": client_message(exc)}


# -- admin settings --------------------------------------------------------------------------


async def post_admin_settings(rt: Runtime, rc_token: str | None, body: Mapping[str, Any]) -> Reply:
    async def work() -> Reply:
        identity = await require_admin(rt, rc_token)
        hashed = admin_settings.config_id(rt, identity.account_id)
        values = body.get("adminSettings")
        await admin_settings.update_admin_settings(
            rt, hashed, values if isinstance(values, Mapping) else None
        )
        return 200, "Admin settings updated"

    return await guarded(work())


async def get_admin_settings(rt: Runtime, user_id: str | None, rc_token: str | None) -> Reply:
    async def work() -> Reply:
        await require_user(rt, user_id)
        identity = await require_admin(rt, rc_token)
        config = await admin_settings.get_config(
            rt, admin_settings.config_id(rt, identity.account_id)
        )
        return 200, (config.public_view() if config is not None else dict(EMPTY_ADMIN_SETTINGS))

    return await guarded(work())


# -- user mapping ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _ext_name(ext: Mapping[str, Any]) -> str:
    if ext.get("name") is not None:
        return str(ext["name"])
    parts = [ext.get("firstName"), ext.get("lastName")]
    return " ".join(str(p) for p in parts if p is not None)


def _rc_user(ext: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "extensionId": ext.get("id"),
        "name": _ext_name(ext),
        "extensionNumber": ext.get("extensionNumber")
        if ext.get("extensionNumber") is not None
        else "",
        "email": _text(ext.get("email")),
    }


def _filled(value: Any) -> bool:
    return value is not None and value != ""


def auto_match(
    crm_user: Mapping[str, Any], extensions: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The first extension with the CRM user's email, name, or "first last" as its name.

    Only filled values match: two users who both lack an email are not the same person (the
    reference's strict comparison pairs them).
    """
    email, name = crm_user.get("email"), crm_user.get("name")
    for ext in extensions:
        if _filled(email) and ext.get("email") == email:
            return ext
        if _filled(name) and (
            ext.get("name") == name
            or f"{_text(ext.get('firstName'))} {_text(ext.get('lastName'))}" == name
        ):
            return ext
    return None


def _mapped_ids(mapping: Mapping[str, Any]) -> list[str]:
    value = mapping.get("rcExtensionId")
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def match_users(
    crm_users: list[Any],
    extensions: list[Mapping[str, Any]],
    stored: Sequence[Mapping[str, Any]],
    *,
    reinitialize: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The route's answer and the new matches (``{crmUserId, rcExtensionId: [id]}``)."""
    answer: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    for crm_user in crm_users:
        if not isinstance(crm_user, Mapping):
            continue
        crm_id = crm_user.get("id")
        existing = None
        if not reinitialize:
            existing = next((m for m in stored if str(m.get("crmUserId")) == str(crm_id)), None)
        if existing is not None:
            ids = set(_mapped_ids(existing))
            rc_users = [_rc_user(ext) for ext in extensions if str(ext.get("id")) in ids]
        else:
            ext = auto_match(crm_user, extensions)
            rc_users = [] if ext is None else [_rc_user(ext)]
            if ext is not None:
                matches.append({"crmUserId": str(crm_id), "rcExtensionId": [str(ext.get("id"))]})
        answer.append(
            {
                "crmUser": {
                    "id": crm_id,
                    "name": _text(crm_user.get("name")),
                    "email": _text(crm_user.get("email")),
                },
                "rcUser": rc_users,
            }
        )
    return answer, matches


def _stored_mappings(raw: Any) -> list[dict[str, Any]]:
    """Stored mappings with legacy single-string extension ids turned into lists."""
    if not isinstance(raw, list):
        return []
    return [{**m, "rcExtensionId": _mapped_ids(m)} for m in raw if isinstance(m, Mapping)]


async def user_mapping(
    rt: Runtime,
    user_id: str | None,
    rc_token: str | None,
    body: Mapping[str, Any],
    *,
    reinitialize: bool = False,
) -> Reply:
    async def work() -> Reply:
        user = await require_user(rt, user_id)
        identity = await require_admin(rt, rc_token)
        hashed = admin_settings.config_id(rt, identity.account_id)
        view = rt.registry.get_connector(user.platform or "")
        if not view.has("getUserList"):
            return 200, []
        auth = await authenticate(rt, view, user)
        if auth is None:
            return 401, {**SESSION_REVOKED, "errorCode": "CRM_SESSION_REVOKED"}
        config = auth.proxy_config
        if isinstance(config, Mapping) and "getUserList" not in (config.get("operations") or {}):
            return 200, []
        crm_users = to_wire(
            await view.call(
                "getUserList", user=auth.user, auth_header=auth.auth_header, proxy_config=config
            )
        )
        extensions = [e for e in body.get("rcExtensionList") or [] if isinstance(e, Mapping)]
        current = await admin_settings.get_config(rt, hashed)
        stored = _stored_mappings(current.user_mappings if current is not None else None)
        answer, matches = match_users(
            crm_users if isinstance(crm_users, list) else [],
            extensions,
            stored,
            reinitialize=reinitialize,
        )
        try:
            if reinitialize:
                await admin_settings.set_user_mappings(rt, hashed, matches)
            elif matches:
                await admin_settings.set_user_mappings(rt, hashed, [*stored, *matches])
        except SQLAlchemyError:
            logger.exception("storing user mappings failed")
            return 200, failure(DB_FAILURE_MESSAGE)
        return 200, answer

    return await guarded(work())


# -- server-side logging settings ------------------------------------------------------------


async def get_server_logging_settings(rt: Runtime, user_id: str | None) -> Reply:
    async def work() -> Reply:
        user = await require_user(rt, user_id)
        view = rt.registry.get_connector(user.platform or "")
        if not view.has("getServerLoggingSettings"):
            return 200, {}
        result = to_wire(await view.call("getServerLoggingSettings", user=user))
        return 200, result if result is not None else {}

    return await guarded(work())


_LOGGING_UPDATE_FAILED = {
    "successful": False,
    "returnMessage": warning("Server logging settings update failed"),
}


async def update_server_logging_settings(rt: Runtime, user_id: str | None, values: Any) -> Reply:
    async def work() -> Reply:
        user = await require_user(rt, user_id)
        view = rt.registry.get_connector(user.platform or "")
        try:
            oauth_app = None
            if view.has("getOauthInfo"):
                oauth_app = await oauth_app_for(
                    rt,
                    view,
                    token_url=(user.platform_additional_info or {}).get("tokenUrl"),
                    hostname=user.hostname,
                )
            if not view.has("updateServerLoggingSettings"):
                return 200, {}
            result = to_wire(
                await view.call(
                    "updateServerLoggingSettings",
                    user=user,
                    additional_field_values=values,
                    oauth_app=oauth_app,
                )
            )
        except Exception as exc:
            logger.warning("updateServerLoggingSettings failed: %r", exc)
            return 400, dict(_LOGGING_UPDATE_FAILED)
        result = result if isinstance(result, Mapping) else {}
        reply: dict[str, Any] = {"successful": bool(result.get("successful"))}
        if result.get("returnMessage") is not None:
            reply["returnMessage"] = result["returnMessage"]
        return 200, reply

    return await guarded(work())
