"""The per-account contact-match cache (``accountData`` rows keyed ``contact-<phoneNumber>``).

Shared by every user of one RingCentral account on one platform, as in the reference: the first
agent's look-up pays the CRM call, the rest of the account reads the row. Rows are written only
when a real contact matched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from appconnect.runtime import Runtime
from appconnect.services import account_data
from appconnect.store.models import AccountDataRow


def cache_key(phone_number: str) -> str:
    return f"contact-{phone_number}"


def _fresh(row: AccountDataRow, ttl_seconds: int) -> bool:
    created = row.created_at
    if created is None:
        return True
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return datetime.now(UTC) - created <= timedelta(seconds=ttl_seconds)


async def get_cached_contacts(
    rt: Runtime, rc_account_id: str | None, platform: str, phone_number: str
) -> list[Any] | None:
    """The cached match list, or ``None`` when nothing (fresh) is cached."""
    if not rc_account_id:
        return None
    row = await account_data.get_row(rt, rc_account_id, platform, cache_key(phone_number))
    if row is None or not _fresh(row, rt.settings.contact_cache_ttl):
        return None
    return row.data if isinstance(row.data, list) else None


async def store_contacts(
    rt: Runtime, rc_account_id: str, platform: str, phone_number: str, contacts: list[Any]
) -> None:
    """Create or replace the cache row; its age restarts with each fresh match list."""
    await account_data.put(
        rt, rc_account_id, platform, cache_key(phone_number), contacts, reset_created=True
    )


async def drop_contacts(rt: Runtime, rc_account_id: str, platform: str, phone_number: str) -> None:
    await account_data.remove(rt, rc_account_id, platform, cache_key(phone_number))
