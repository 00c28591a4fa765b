"""Storage of plugins: installed records (``accountData``) and async task rows (``caches``).

An installed plugin is one ``accountData`` row per (account, plugin id) with ``dataKey``
``pluginData`` whose ``data`` is the manifest platform entry plus ``jwtToken``, as the reference
stores it. The credential is encrypted at rest with :class:`~appconnect.security.SecretBox`
(a reference row's plain-text token is still read and is encrypted on its next write). Plugins
of an account run in install order (``createdAt``, then id), which the reference leaves to
the database.

An async task is one ``caches`` row (id = task UUID, ``cacheKey`` ``asyncPluginTask-<id>``,
one-week expiry). Expired task rows are deleted whenever a new task is created (at most once a
minute per process), and an expired row reads as absent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update

from appconnect.runtime import Runtime
from appconnect.services import account_data
from appconnect.store.models import AccountDataRow, CacheRow, utcnow

PLUGIN_DATA_KEY = "pluginData"
TASK_KEY_PREFIX = "asyncPluginTask-"
TASK_TYPE = "asyncPluginTask"
TASK_LIFETIME = timedelta(days=7)
PENDING, FAILED, PROCESSING = "pending", "failed", "processing"
STALE_PROCESSING = timedelta(minutes=5)  # longer than any CRM read + update
_SWEEP_EVERY = 60.0  # seconds between expired-task sweeps in one process
_CACHE_STATE = "plugin_records_cache"


@dataclass(frozen=True, slots=True)
class InstalledPlugin:
    """One installed plugin: its id, its manifest entry and the (decrypted) credential."""

    id: str
    manifest: Mapping[str, Any]
    token: str

    @property
    def endpoint_url(self) -> str | None:
        return _url(self.manifest.get("endpointUrl"))

    @property
    def token_sync_url(self) -> str | None:
        return _url(self.manifest.get("tokenSyncUrl"))

    @property
    def license_url(self) -> str | None:
        return _url(self.manifest.get("licenseStatusUrl"))

    @property
    def is_async(self) -> bool:
        value = self.manifest.get("isAsync")
        return bool(value) and value != "false"

    @property
    def log_types(self) -> tuple[str, ...]:
        """``supportedLogTypes`` (missing or malformed: none, where the reference throws)."""
        types = self.manifest.get("supportedLogTypes")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list | tuple):
            return ()
        return tuple(str(t).lower() for t in types)


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _decode(rt: Runtime, row_id: str, data: Any) -> InstalledPlugin:
    data = dict(data) if isinstance(data, Mapping) else {}
    stored = data.pop("jwtToken", None)
    token = rt.box.decrypt(stored) if isinstance(stored, str) else None
    return InstalledPlugin(row_id, data, token or "")


# -- installed plugins -----------------------------------------------------------------------


def _cache(rt: Runtime) -> dict[str, tuple[float, list[InstalledPlugin]]]:
    cache = rt.state.get(_CACHE_STATE)
    if not isinstance(cache, dict):
        cache = rt.state[_CACHE_STATE] = {}
    return cache


def _forget(rt: Runtime, rc_account_id: str) -> None:
    _cache(rt).pop(str(rc_account_id), None)


async def installed(rt: Runtime, rc_account_id: str | None) -> list[InstalledPlugin]:
    """The plugins installed for an account, in install order (none without an account id).

    Every call and message log asks this, so a process reuses an answer for as long as it
    reuses a user row (``APPCONNECT_USER_CACHE_TTL``); its own installs and removals apply at
    once, another worker's after that delay.
    """
    if not rc_account_id:
        return []
    key = str(rc_account_id)
    ttl = rt.settings.user_cache_ttl
    cached = _cache(rt).get(key)
    now = time.monotonic()
    if cached is not None and ttl > 0 and now - cached[0] < ttl:
        return cached[1]
    async with rt.db.session() as session:
        rows = await session.execute(
            select(AccountDataRow.platform_name, AccountDataRow.data)
            .where(
                AccountDataRow.rc_account_id == key,
                AccountDataRow.data_key == PLUGIN_DATA_KEY,
            )
            .order_by(AccountDataRow.created_at, AccountDataRow.platform_name)
        )
        plugins = [_decode(rt, name, data) for name, data in rows.all()]
    if ttl > 0:
        cache = _cache(rt)
        if len(cache) > 10_000:
            cache.clear()
        cache[key] = (now, plugins)
    return plugins


async def find(rt: Runtime, rc_account_id: str, plugin_id: str) -> InstalledPlugin | None:
    row = await account_data.get_row(rt, str(rc_account_id), plugin_id, PLUGIN_DATA_KEY)
    return None if row is None else _decode(rt, plugin_id, row.data)


async def save(
    rt: Runtime, rc_account_id: str, plugin_id: str, manifest: Mapping[str, Any], token: str
) -> None:
    """Install (or re-install: the stored entry is replaced) a plugin for an account."""
    data = {**manifest, "jwtToken": rt.box.encrypt(token)}
    await account_data.put(rt, str(rc_account_id), plugin_id, PLUGIN_DATA_KEY, data)
    _forget(rt, rc_account_id)


async def rotate_token(rt: Runtime, rc_account_id: str, plugin_id: str, token: str) -> None:
    """Store a refreshed credential, keeping the manifest (the reference drops it, quirk 1)."""
    async with rt.db.transaction() as session:
        row = await session.get(AccountDataRow, (str(rc_account_id), plugin_id, PLUGIN_DATA_KEY))
        if row is None:
            return  # uninstalled meanwhile: nothing to rotate
        data = dict(row.data) if isinstance(row.data, Mapping) else {}
        data["jwtToken"] = rt.box.encrypt(token)
        row.data = data
        row.updated_at = utcnow()
    _forget(rt, rc_account_id)


async def remove(rt: Runtime, rc_account_id: str, plugin_id: str) -> None:
    await account_data.remove(rt, str(rc_account_id), plugin_id, PLUGIN_DATA_KEY)
    _forget(rt, rc_account_id)


# -- async task rows -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    status: str | None
    user_id: str | None
    data: Mapping[str, Any]
    updated_at: datetime | None = None


def new_task_id() -> str:
    return str(uuid.uuid4())


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def create_task(
    rt: Runtime, task_id: str, plugin_id: str, user_id: str, data: Mapping[str, Any]
) -> None:
    now = utcnow()
    async with rt.db.transaction() as session:
        session.add(
            CacheRow(
                id=task_id,
                status=PENDING,
                user_id=user_id,
                cache_key=TASK_KEY_PREFIX + plugin_id,
                data=dict(data),
                expiry=now + TASK_LIFETIME,
                created_at=now,
                updated_at=now,
            )
        )
    await _sweep_expired(rt)


async def _sweep_expired(rt: Runtime) -> None:
    last = rt.state.get("plugin_task_sweep", 0.0)
    now = time.monotonic()
    if now - last < _SWEEP_EVERY:
        return
    rt.state["plugin_task_sweep"] = now
    await delete_expired_tasks(rt)


async def delete_expired_tasks(rt: Runtime) -> int:
    """Remove async task rows whose week is over; how many were removed."""
    async with rt.db.transaction() as session:
        result = await session.execute(
            delete(CacheRow).where(
                CacheRow.cache_key.like(TASK_KEY_PREFIX + "%"), CacheRow.expiry <= utcnow()
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


def _is_task(row: CacheRow) -> bool:
    data = row.data if isinstance(row.data, Mapping) else {}
    return bool(row.cache_key and row.cache_key.startswith(TASK_KEY_PREFIX)) and (
        data.get("type") == TASK_TYPE
    )


async def get_task(rt: Runtime, task_id: str) -> Task | None:
    """A live async task row; an expired one is deleted and reads as absent.

    Only async plugin task rows count: other cache rows (pending OAuth values, ...) are not
    tasks, whatever id a caller guesses (the reference accepts any row, quirk 7).
    """
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, task_id)
        if row is None or not _is_task(row):
            return None
        expiry = _aware(row.expiry)
        if expiry is not None and expiry <= datetime.now(UTC):
            await session.delete(row)
            return None
        return Task(row.id, row.status, row.user_id, dict(row.data), _aware(row.updated_at))


async def claim_task(rt: Runtime, task: Task) -> bool:
    """Move a task to ``processing`` from the state it was read in; ``False`` if another
    callback for it got there first. A ``processing`` row left behind by a crashed process may
    be claimed again after :data:`STALE_PROCESSING`."""
    now = utcnow()
    condition: ColumnElement[bool]
    if task.status == PROCESSING:
        if task.updated_at is not None and now - task.updated_at < STALE_PROCESSING:
            return False
        condition = (CacheRow.status == PROCESSING) & (CacheRow.updated_at < now - STALE_PROCESSING)
    elif task.status is None:
        condition = CacheRow.status.is_(None)
    else:
        condition = CacheRow.status == task.status
    async with rt.db.transaction() as session:
        result = await session.execute(
            update(CacheRow)
            .where(CacheRow.id == task.id, condition)
            .values(status=PROCESSING, updated_at=now)
        )
    return bool(getattr(result, "rowcount", 0))


async def fail_task(rt: Runtime, task_id: str, message: str) -> None:
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, task_id)
        if row is None:
            return
        row.status = FAILED
        row.data = {**(row.data if isinstance(row.data, Mapping) else {}), "message": message}
        row.updated_at = utcnow()


async def delete_task(rt: Runtime, task_id: str) -> None:
    async with rt.db.transaction() as session:
        await session.execute(delete(CacheRow).where(CacheRow.id == task_id))
