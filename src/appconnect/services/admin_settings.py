"""An account's admin configuration (``adminConfigs``), keyed by the hashed RingCentral account id.

Other services call these functions directly: :func:`config_id` turns a raw RingCentral account id
into the row key, :func:`admin_user_settings` reads the settings admins push to users, and
:func:`update_admin_settings` writes them. Admin RingCentral tokens are encrypted with
:class:`~appconnect.security.SecretBox`; rows a reference deployment wrote (plain text) are still
read and get encrypted on their next write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select

from appconnect.jsvalues import js_iso_string
from appconnect.runtime import Runtime
from appconnect.security.hashing import hash_id
from appconnect.store.db import conflict_insert
from appconnect.store.models import AdminConfigRow, utcnow

# The columns an admin may write through ``POST /admin/settings`` (wire name -> column).
WRITABLE = {
    "userSettings": "userSettings",
    "userMappings": "userMappings",
    "customAdapter": "customAdapter",
}


def config_id(rt: Runtime, rc_account_id: Any) -> str:
    """The ``adminConfigs`` key of a raw RingCentral account id."""
    return hash_id(rc_account_id, rt.hash_key)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _iso(value: datetime | None) -> str | None:
    """``Date.toISOString`` (a naive value is UTC, as the store keeps it)."""
    return None if value is None else js_iso_string(value)


@dataclass
class AdminConfig:
    id: str
    user_settings: dict[str, Any] | None
    custom_adapter: Any
    user_mappings: Any
    admin_access_token: str | None
    admin_refresh_token: str | None
    admin_token_expiry: datetime | None
    created_at: datetime | None
    updated_at: datetime | None

    def public_view(self) -> dict[str, Any]:
        """``GET /admin/settings``: every column but the admin tokens (never sent to a client)."""
        return {
            "id": self.id,
            "userSettings": self.user_settings,
            "customAdapter": self.custom_adapter,
            "userMappings": self.user_mappings,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
        }


_T = AdminConfigRow.__table__.c
_SELECT_BY_ID = select(AdminConfigRow.__table__).where(_T.id == bindparam("id"))


async def get_config(rt: Runtime, hashed_id: str) -> AdminConfig | None:
    # A plain Core read in one hop: GET /user/settings does this on every call with an account.
    values = await rt.db.read(
        lambda conn: conn.execute(_SELECT_BY_ID, {"id": hashed_id}).mappings().first()
    )
    if values is None:
        return None
    return AdminConfig(
        id=values[_T.id],
        user_settings=values[_T.userSettings],
        custom_adapter=values[_T.customAdapter],
        user_mappings=values[_T.userMappings],
        admin_access_token=rt.box.decrypt(values[_T.adminAccessToken]),
        admin_refresh_token=rt.box.decrypt(values[_T.adminRefreshToken]),
        admin_token_expiry=_aware(values[_T.adminTokenExpiry]),
        created_at=_aware(values[_T.createdAt]),
        updated_at=_aware(values[_T.updatedAt]),
    )


async def admin_user_settings(rt: Runtime, hashed_id: str | None) -> dict[str, Any] | None:
    """The admin's ``userSettings`` for an account (``None`` when the account has no row)."""
    if not hashed_id:
        return None
    config = await get_config(rt, hashed_id)
    if config is None:
        return None
    return config.user_settings if isinstance(config.user_settings, dict) else None


async def _upsert(rt: Runtime, hashed_id: str, columns: Mapping[str, Any]) -> None:
    """Create the row or update only ``columns`` (column names), as one atomic statement."""
    now = utcnow()
    insert = conflict_insert(rt.db.dialect)
    attrs = {
        "userSettings": "user_settings",
        "userMappings": "user_mappings",
        "customAdapter": "custom_adapter",
        "adminAccessToken": "admin_access_token",
        "adminRefreshToken": "admin_refresh_token",
        "adminTokenExpiry": "admin_token_expiry",
    }
    values = {attrs[name]: value for name, value in columns.items()}
    # The column is NOT NULL in our schema: a new row starts with no mappings.
    values.setdefault("user_mappings", [])
    stmt = insert(AdminConfigRow).values(id=hashed_id, created_at=now, updated_at=now, **values)
    updates = {name: getattr(stmt.excluded, name) for name in columns}
    updates["updatedAt"] = stmt.excluded.updatedAt
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=updates)
    async with rt.db.transaction() as session:
        await session.execute(stmt)


async def update_admin_settings(
    rt: Runtime, hashed_id: str, admin_settings: Mapping[str, Any] | None
) -> None:
    """``POST /admin/settings``: a shallow update of the writable columns; other keys dropped."""
    columns = {
        column: value
        for key, column in WRITABLE.items()
        if isinstance(admin_settings, Mapping) and key in admin_settings
        for value in (admin_settings[key],)
    }
    await _upsert(rt, hashed_id, columns)


async def set_user_mappings(rt: Runtime, hashed_id: str, mappings: list[dict[str, Any]]) -> None:
    await _upsert(rt, hashed_id, {"userMappings": mappings})


async def store_admin_tokens(
    rt: Runtime,
    hashed_id: str,
    access_token: str | None,
    refresh_token: str | None,
    expiry: datetime | None,
) -> None:
    """The RingCentral admin tokens of an account, encrypted at rest."""
    await _upsert(
        rt,
        hashed_id,
        {
            "adminAccessToken": rt.box.encrypt(access_token),
            "adminRefreshToken": rt.box.encrypt(refresh_token),
            "adminTokenExpiry": expiry,
        },
    )
