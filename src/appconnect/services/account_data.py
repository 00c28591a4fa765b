"""Account-scoped rows (``accountData``) and the pending managed-OAuth cache row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from appconnect.runtime import Runtime
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
