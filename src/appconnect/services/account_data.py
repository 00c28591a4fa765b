"""Account-scoped rows (``accountData``) and the pending managed-OAuth cache row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from appconnect.connectors.invoke import call_with_kwargs
from appconnect.connectors.results import to_wire
from appconnect.runtime import Runtime
from appconnect.services.credentials import authenticate
from appconnect.services.errors import SESSION_REVOKED, failure
from appconnect.store.db import conflict_insert
from appconnect.store.models import AccountDataRow, CacheRow, utcnow


async def get_row(
    rt: Runtime, rc_account_id: str, platform: str, key: str
) -> AccountDataRow | None:
    async with rt.db.session() as session:
        return await session.get(AccountDataRow, (str(rc_account_id), platform, key))


async def get(rt: Runtime, rc_account_id: str, platform: str, key: str) -> Any:
    row = await get_row(rt, rc_account_id, platform, key)
    return None if row is None else row.data


async def put(
    rt: Runtime,
    rc_account_id: str,
    platform: str,
    key: str,
    data: Any,
    *,
    reset_created: bool = False,
) -> None:
    """Create or replace one row as a single upsert (safe under concurrent writers)."""
    now = utcnow()
    insert = conflict_insert(rt.db.dialect)
    stmt = insert(AccountDataRow).values(
        rc_account_id=str(rc_account_id),
        platform_name=platform,
        data_key=key,
        data=data,
        created_at=now,
        updated_at=now,
    )
    updates: dict[str, Any] = {"data": stmt.excluded.data, "updatedAt": stmt.excluded.updatedAt}
    if reset_created:
        updates["createdAt"] = stmt.excluded.createdAt
    stmt = stmt.on_conflict_do_update(
        index_elements=["rcAccountId", "platformName", "dataKey"], set_=updates
    )
    async with rt.db.transaction() as session:
        await session.execute(stmt)


async def remove(rt: Runtime, rc_account_id: str, platform: str, key: str) -> None:
    async with rt.db.transaction() as session:
        await session.execute(
            delete(AccountDataRow).where(
                AccountDataRow.rc_account_id == str(rc_account_id),
                AccountDataRow.platform_name == platform,
                AccountDataRow.data_key == key,
            )
        )


def pending_oauth_id(rc_account_id: str) -> str:
    return f"{rc_account_id}-managed-oauth-account"


async def pending_managed_oauth(rt: Runtime, rc_account_id: str) -> dict[str, Any] | None:
    """Pending admin OAuth values (encrypted fields); an expired row is deleted and ignored."""
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, pending_oauth_id(rc_account_id))
        if row is None:
            return None
        expiry = row.expiry
        if expiry is not None and expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=UTC)
        if expiry is not None and expiry <= datetime.now(UTC):
            await session.delete(row)
            return None
        fields = (row.data or {}).get("fields") if isinstance(row.data, dict) else None
        return fields if isinstance(fields, dict) and fields else None


async def promote_pending_oauth(rt: Runtime, rc_account_id: str, platform: str) -> None:
    """After a successful callback with pending values, they become the account's values."""
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, pending_oauth_id(rc_account_id))
        if row is None:
            return
        data = row.data
        await session.delete(row)
    await put(rt, rc_account_id, platform, "managed-oauth-account", data)


# -- GET /accountData ------------------------------------------------------------------------

DEFAULT_TTL_MS = 24 * 3600 * 1000


def _descriptor_part(descriptor: Any, name: str, python_name: str) -> Any:
    if isinstance(descriptor, dict):
        return descriptor.get(name, descriptor.get(python_name))
    return getattr(descriptor, python_name, None) or getattr(descriptor, name, None)


async def serve_keys(
    rt: Runtime, user_id: str, platform: str, keys: list[str], force_refresh: bool
) -> tuple[int, Any]:
    """``GET /accountData``: each key fresh from the row, else fetched by the connector.

    A key is fresh for its descriptor's ``ttlMs`` (default 24 h) after the row's ``updatedAt``;
    a failed fetch falls back to a stale row when there is one. Rows are keyed by the user's own
    RingCentral account, so a user only ever reads their account's data.
    """
    user = await rt.users.get(user_id, platform)
    if user is None or not user.access_token:
        return 200, failure("User not found")
    view = rt.registry.get_connector(platform)
    table = view.account_data or {}
    unknown = [k for k in keys if k not in table]
    if unknown:
        return 400, failure(f"Unknown account data key(s): {', '.join(unknown)}")
    auth = await authenticate(rt, view, user)
    if auth is None:
        return 401, {**SESSION_REVOKED, "errorCode": "CRM_SESSION_REVOKED"}
    if not user.rc_account_id:
        raise ValueError("User has no RingCentral account id")
    data: dict[str, Any] = {}
    for key in keys:
        descriptor = table[key]
        row = await get_row(rt, user.rc_account_id, platform, key)
        ttl_ms = _descriptor_part(descriptor, "ttlMs", "ttl_ms")
        ttl = timedelta(milliseconds=ttl_ms if isinstance(ttl_ms, (int, float)) else DEFAULT_TTL_MS)
        if row is not None and not force_refresh:
            updated = (
                row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
            )
            if datetime.now(UTC) - updated <= ttl:
                data[key] = row.data
                continue
        fetch = _descriptor_part(descriptor, "fetch", "fetch")
        try:
            value = to_wire(
                await call_with_kwargs(fetch, {"user": auth.user, "auth_header": auth.auth_header})
            )
        except Exception:
            if row is None:
                raise
            data[key] = row.data
            continue
        await put(rt, user.rc_account_id, platform, key, value)
        data[key] = value
    return 200, {"successful": True, "data": data}
