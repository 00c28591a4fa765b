"""A user's settings: read (with the account admin's overrides), write, and refresh user info.

Settings live in ``users.userSettings`` as ``{settingId: {value, customizable, ...}}``; the call
and message-log composers read them from the user row, so a saved ``logDateFormat`` or section
toggle applies to the next log. A re-login keeps them (``UserStore.upsert_login``).

Functions return ``(status, body)`` like the other route workflows; :func:`effective_settings`,
:func:`stored_settings` and :func:`update_settings` are plain calls for other services (plugins).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.exc import SQLAlchemyError

from appconnect.connectors.args import given
from appconnect.connectors.registry import ConnectorNotFound
from appconnect.connectors.results import to_wire
from appconnect.jsvalues import js_truthy
from appconnect.runtime import Runtime
from appconnect.services import admin_settings
from appconnect.services.credentials import authenticate
from appconnect.services.errors import SESSION_REVOKED, api_error_result, client_message, failure
from appconnect.services.ringcentral import RingCentralError, user_identity
from appconnect.services.settings_merge import merge_user_settings
from appconnect.store.models import UserRow, utcnow
from appconnect.store.users import User

logger = logging.getLogger("appconnect.user_settings")

Reply = tuple[int, Any]
USER_NOT_FOUND = "User not found"
NO_RC_LOGIN = "Cannot find rc user login"


def apply_changes(
    current: Mapping[str, Any] | None,
    submitted: Mapping[str, Any] | None,
    keys_to_remove: Any,
) -> dict[str, Any]:
    """Each submitted key replaces its whole entry; then set keys in ``keys_to_remove`` go."""
    updated = copy.deepcopy(dict(current or {}))
    for key, value in (submitted or {}).items():
        updated[key] = copy.deepcopy(value)
    if isinstance(keys_to_remove, list):
        for key in keys_to_remove:
            if isinstance(key, str) and js_truthy(updated.get(key)):
                del updated[key]
    return updated


async def stored_settings(rt: Runtime, user_id: str) -> dict[str, Any] | None:
    """The user's own settings, or ``None`` when there is no such user."""
    user = await rt.users.get(user_id)
    return None if user is None else dict(user.user_settings or {})


async def update_settings(
    rt: Runtime,
    user_id: str,
    submitted: Mapping[str, Any] | None,
    keys_to_remove: Any = None,
) -> dict[str, Any] | None:
    """Apply a change to the stored settings atomically; the stored result (``None``: no user).

    The change is applied to the row as it is inside the transaction, so two concurrent saves of
    different keys both survive; only the ``userSettings`` column is written, so a token refresh
    running at the same time is not undone.
    """
    table = UserRow.__table__
    assert isinstance(table, Table)
    current = select(table.c.userSettings).where(table.c.id == user_id)
    if not rt.db.is_sqlite:
        current = current.with_for_update()

    def work(conn: Connection) -> dict[str, Any] | None:
        row = conn.execute(current).first()
        if row is None:
            return None
        changed = apply_changes(row[0], submitted, keys_to_remove)
        conn.execute(
            update(table)
            .where(table.c.id == user_id)
            .values(userSettings=changed, updatedAt=utcnow())
        )
        return changed

    # One write transaction (on SQLite: one hop to the writer thread, which serializes writers).
    updated = await rt.db.write(work)
    if updated is None:
        return None
    await rt.users.invalidate(user_id)
    return updated


async def admin_settings_for(
    rt: Runtime, user: User | None, hashed_account_id: str | None, rc_token: str | None
) -> dict[str, Any] | None:
    """The account admin's user settings that apply, or ``None`` (lookup errors are ignored).

    Consulted only when the client names an account (hashed ``rcAccountId`` or a RingCentral
    token). A user whose row records its RingCentral account always gets that account's admin
    settings: naming another account cannot pull a foreign organization's settings in.
    """
    if not hashed_account_id and not rc_token:
        return None
    try:
        if user is not None and user.rc_account_id:
            hashed = admin_settings.config_id(rt, user.rc_account_id)
        elif hashed_account_id:
            hashed = hashed_account_id
        else:
            identity = await user_identity(rt, rc_token)
            hashed = admin_settings.config_id(rt, identity.account_id)
        return await admin_settings.admin_user_settings(rt, hashed)
    except Exception as exc:  # the reference ignores failed look-ups here
        logger.info("admin settings look-up failed: %s", exc)
        return None


async def effective_settings(
    rt: Runtime, user: User, hashed_account_id: str | None = None, rc_token: str | None = None
) -> dict[str, Any]:
    """What ``GET /user/settings`` answers for ``user``: the merged map (``{}`` when empty)."""
    admin = await admin_settings_for(rt, user, hashed_account_id, rc_token)
    merged = merge_user_settings(admin, user.user_settings)
    return merged or {}


# -- route workflows -------------------------------------------------------------------------


async def preload_settings(
    rt: Runtime, hashed_account_id: str | None, rc_token: str | None
) -> Reply:
    if not hashed_account_id and not rc_token:
        return 400, NO_RC_LOGIN
    try:
        if hashed_account_id:
            hashed = hashed_account_id
        else:
            identity = await user_identity(rt, rc_token)
            hashed = admin_settings.config_id(rt, identity.account_id)
        config = await admin_settings.get_config(rt, hashed)
    except (RingCentralError, SQLAlchemyError, ValueError) as exc:
        return 400, {"error": client_message(exc)}
    if config is None or config.user_settings is None:
        return 200, {}
    return 200, {"userSettings": config.user_settings}


async def get_user_settings(
    rt: Runtime, user_id: str, hashed_account_id: str | None, rc_token: str | None
) -> Reply:
    user = await rt.users.get(user_id)
    if user is None:
        return 400, USER_NOT_FOUND
    return 200, await effective_settings(rt, user, hashed_account_id, rc_token)


async def save_user_settings(
    rt: Runtime, user_id: str, platform: str, body: Mapping[str, Any]
) -> Reply:
    """``POST /user/settings``; ``userSettings`` absent and ``null`` are told apart for the hook."""
    try:
        user = await rt.users.get(user_id)
        if user is None:
            return 400, USER_NOT_FOUND
        submitted = body.get("userSettings")
        if submitted is not None and not isinstance(submitted, Mapping):
            return 400, {"error": "userSettings must be an object"}
        keys_to_remove = body.get("settingKeysToRemove")
        view = rt.registry.get_connector(platform)
        if view.has("onUpdateUserSettings"):
            updated = apply_changes(user.user_settings, submitted, keys_to_remove)
            result = to_wire(
                await view.call(
                    "onUpdateUserSettings",
                    user=user,
                    user_settings=given(body, "userSettings"),  # absent: not passed
                    updated_settings=updated,
                )
            )
            if isinstance(result, Mapping) and js_truthy(result.get("successful")):
                await update_settings(rt, user_id, submitted, keys_to_remove)
            return 200, {}
        stored = await update_settings(rt, user_id, submitted, keys_to_remove)
        if stored is None:
            return 400, USER_NOT_FOUND
        return 200, {"userSettings": stored}
    except SQLAlchemyError:
        logger.exception("saving user settings failed")
        return 200, {}
    except ConnectorNotFound as exc:
        return 400, {"error": client_message(exc)}
    except Exception as exc:
        return 400, {"error": client_message(exc)}


async def refresh_user_info(rt: Runtime, user_id: str | None, platform: str | None) -> Reply:
    try:
        view = rt.registry.get_connector(platform or "")
    except ConnectorNotFound as exc:
        return 400, {"error": client_message(exc)}
    if not view.has("refreshUserInfo"):
        return 200, {"successful": True}
    user = await rt.users.get(user_id, platform)
    if user is None or not user.access_token:
        return 200, failure(USER_NOT_FOUND)
    try:
        auth = await authenticate(rt, view, user)
        if auth is None:
            return 200, dict(SESSION_REVOKED)
        result = to_wire(
            await view.call(
                "refreshUserInfo",
                user=auth.user,
                auth_header=auth.auth_header,
                proxy_config=auth.proxy_config,
            )
        )
    except Exception as exc:
        mapped = api_error_result(exc, platform or "", "refreshUserInfo")
        return 200, {k: mapped[k] for k in ("successful", "returnMessage")}
    result = result if isinstance(result, Mapping) else {}
    reply: dict[str, Any] = {"successful": bool(result.get("successful"))}
    if result.get("returnMessage") is not None:
        reply["returnMessage"] = result["returnMessage"]
    return 200, reply
