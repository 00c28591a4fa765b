"""The user record connectors receive, and the repository that persists it.

Connectors get a :class:`User`, a plain object with snake_case attributes, not an ORM row: it
can cross awaits and tasks freely and costs no session. ``await user.save()``,
``await user.update(...)`` and ``await user.destroy()`` are the reference's row operations.
Tokens are decrypted in memory and encrypted on the way to the database; so are the values of
``platformAdditionalInfo`` under a secret's name (:data:`SECRET_INFO_KEYS`): an API-key login
stores every auth-page field there, ``apiKey`` included (proxy-connector.md §8.2), and connectors
may keep credentials there too.

``save()`` writes only the columns that changed since the user was read (or last saved): two
workers saving different fields of one user (one refreshing the token, another storing a
setting) both keep their change, where writing every column made the later save undo the other.
"""

from __future__ import annotations

import copy
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Table, bindparam, delete, select, update

from appconnect.kv.stamps import Stamps, StampUnavailable
from appconnect.store.db import changed, conflict_insert
from appconnect.store.models import UserRow, utcnow

if TYPE_CHECKING:
    from appconnect.security.crypto import SecretBox
    from appconnect.store.db import Database

_WIRE_NAMES = {
    "id": "id",
    "platform": "platform",
    "hostname": "hostname",
    "access_token": "accessToken",
    "refresh_token": "refreshToken",
    "token_expiry": "tokenExpiry",
    "timezone_name": "timezoneName",
    "timezone_offset": "timezoneOffset",
    "rc_account_id": "rcAccountId",
    "hashed_rc_extension_id": "hashedRcExtensionId",
    "platform_additional_info": "platformAdditionalInfo",
    "user_settings": "userSettings",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
}


# platformAdditionalInfo keys whose values are credentials: encrypted at rest, plain in memory.
SECRET_INFO_KEYS = frozenset(
    {
        "apiKey",
        "apiToken",
        "accessToken",
        "refreshToken",
        "token",
        "password",
        "secret",
        "secretKey",
        "clientSecret",
        "apiSecret",
    }
)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(eq=False)
class User:
    """One connected CRM user (a row of ``users``)."""

    id: str
    platform: str | None = None
    hostname: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_expiry: datetime | None = None
    timezone_name: str | None = None
    timezone_offset: str | None = None
    rc_account_id: str | None = None
    hashed_rc_extension_id: str | None = None
    platform_additional_info: dict[str, Any] = field(default_factory=dict)
    user_settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    _store: UserStore | None = field(default=None, repr=False, compare=False)

    @property
    def proxy_id(self) -> str | None:
        value = (self.platform_additional_info or {}).get("proxyId")
        return str(value) if value else None

    def attach_store(self, store: UserStore) -> None:
        """Bind this record to the store its ``save``/``destroy`` go to (the framework does it)."""
        self._store = store

    async def save(self) -> None:
        if self._store is None:
            raise RuntimeError("this user is not attached to a store")
        await self._store.save(self)

    async def update(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self, _attr_name(key), value)
        await self.save()

    async def destroy(self) -> None:
        if self._store is None:
            raise RuntimeError("this user is not attached to a store")
        await self._store.delete(self.id)

    def to_wire(self) -> dict[str, Any]:
        """The reference's camelCase view (for connectors ported from JavaScript, and logs)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            out[_WIRE_NAMES[f.name]] = value
        return out


def _json_copy(value: dict[str, Any]) -> dict[str, Any]:
    # JSON columns hold JSON-able data; an orjson round trip is the fastest deep copy of it.
    try:
        copied: dict[str, Any] = orjson.loads(orjson.dumps(value))
        return copied
    except TypeError:
        return copy.deepcopy(value)


def _detached(user: User) -> User:
    """A copy whose mutable parts are not shared (callers mutate users and save them)."""
    # copy.copy, without its __reduce_ex__ round trip (a User is a plain dataclass): this runs
    # for every request that reads a cached user.
    clone = object.__new__(type(user))
    clone.__dict__.update(user.__dict__)
    clone.platform_additional_info = _json_copy(user.platform_additional_info or {})
    clone.user_settings = _json_copy(user.user_settings or {})
    return clone


def _attr_name(key: str) -> str:
    for attr, wire in _WIRE_NAMES.items():
        if key in (attr, wire):
            return attr
    raise AttributeError(f"unknown user field: {key}")


_TABLE: Table = UserRow.__table__  # type: ignore[assignment]
_C = _TABLE.c
_SELECT_BY_ID = select(_TABLE).where(_C.id == bindparam("id"))
# User attribute -> column, for every column save() may write (not id, createdAt, updatedAt).
_COLUMNS = {
    "platform": "platform",
    "hostname": "hostname",
    "access_token": "accessToken",
    "refresh_token": "refreshToken",
    "token_expiry": "tokenExpiry",
    "timezone_name": "timezoneName",
    "timezone_offset": "timezoneOffset",
    "rc_account_id": "rcAccountId",
    "hashed_rc_extension_id": "hashedRcExtensionId",
    "platform_additional_info": "platformAdditionalInfo",
    "user_settings": "userSettings",
}
_ENCRYPTED = frozenset({"access_token", "refresh_token"})
_PLAIN = object()  # a token column the database holds unencrypted


def _persisted(user: User) -> dict[str, Any]:
    """The user's column values as save() compares them (plain tokens, copied JSON)."""
    return {
        "platform": user.platform,
        "hostname": user.hostname,
        "access_token": user.access_token,
        "refresh_token": user.refresh_token,
        "token_expiry": user.token_expiry,
        "timezone_name": user.timezone_name,
        "timezone_offset": None if user.timezone_offset is None else str(user.timezone_offset),
        "rc_account_id": user.rc_account_id,
        "hashed_rc_extension_id": user.hashed_rc_extension_id,
        "platform_additional_info": _json_copy(user.platform_additional_info or {}),
        "user_settings": _json_copy(user.user_settings or {}),
    }


def _stamp_key(user_id: str) -> str:
    return f"user:{user_id}"


class UserStore:
    """Loads and saves users, encrypting their credentials at rest.

    Recently read users are kept for ``cache_ttl`` seconds: an agent's call makes several
    requests in a burst (look-up, log, update), and reading the same row each time was a
    quarter of a look-up's CPU. Every write through this store updates the cache, so one
    process never sees stale data. With ``stamps`` (a shared store: Redis) every write also
    replaces the user's stamp and a cached user is used only while its stamp is unchanged, so
    other processes see the change at once too; without, they may see it up to ``cache_ttl``
    seconds late. Token refresh reads with ``fresh=True`` (it must see another process's refresh).
    """

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        *,
        cache_ttl: float = 0.0,
        cache_size: int = 10_000,
        stamps: Stamps | None = None,
    ) -> None:
        self._db = db
        self._box = box
        self._ttl = cache_ttl
        self._size = cache_size
        self._stamps = stamps
        self._cache: OrderedDict[str, tuple[float, str, User]] = OrderedDict()
        # Each user object's persisted values as last read or written, which save() compares
        # against; a user built in memory has none, and its first save writes every column.
        self._saved: weakref.WeakKeyDictionary[User, dict[str, Any]] = weakref.WeakKeyDictionary()

    def _remember(self, user: User, stamp: str | None = "") -> None:
        """Cache ``user``, read under ``stamp`` (``None``: the stamp is unknown, do not cache)."""
        if self._ttl <= 0 or stamp is None:
            return
        self._cache[user.id] = (time.monotonic() + self._ttl, stamp, self._copy(user))
        self._cache.move_to_end(user.id)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)

    def _cached(self, user_id: str, stamp: str) -> User | None:
        entry = self._cache.get(user_id)
        if entry is None:
            return None
        expires, seen, user = entry
        if expires <= time.monotonic() or seen != stamp:
            del self._cache[user_id]
            return None
        copy_ = self._copy(user)
        copy_.attach_store(self)
        return copy_

    def _copy(self, user: User) -> User:
        """A detached copy that saves like the original (same persisted state)."""
        clone = _detached(user)
        state = self._saved.get(user)
        if state is not None:
            self._saved[clone] = state
        return clone

    def _keep(self, user: User) -> None:
        """After this process wrote ``user``: cache it, unless stamps are shared (another
        process may have written and stamped the row between our commit and our stamp, so the
        next read loads the row again)."""
        if self._stamps is None:
            self._remember(user)
        else:
            self.forget(user.id)

    async def _stamp(self, user_id: str) -> str | None:
        """The user's current stamp (``""`` without shared stamps; ``None``: unreadable)."""
        if self._stamps is None or self._ttl <= 0:
            return ""
        try:
            return await self._stamps.read(_stamp_key(user_id))
        except StampUnavailable:
            return None

    async def _changed(self, user_id: str) -> None:
        """Tell other processes (after the commit) that their cached copy is stale."""
        if self._stamps is not None:
            await self._stamps.bump(_stamp_key(user_id))

    def forget(self, user_id: str) -> None:
        """Drop this process's cached copy (see :meth:`invalidate` for every process's)."""
        self._cache.pop(user_id, None)

    async def invalidate(self, user_id: str) -> None:
        """The row was changed behind this store's back: drop every process's cached copy."""
        self.forget(user_id)
        await self._changed(user_id)

    def _fill_row(self, row: UserRow, user: User) -> None:
        row.platform = user.platform
        row.hostname = user.hostname
        row.access_token = self._box.encrypt(user.access_token)
        row.refresh_token = self._box.encrypt(user.refresh_token)
        row.token_expiry = user.token_expiry
        row.timezone_name = user.timezone_name
        row.timezone_offset = None if user.timezone_offset is None else str(user.timezone_offset)
        row.rc_account_id = user.rc_account_id
        row.hashed_rc_extension_id = user.hashed_rc_extension_id
        row.platform_additional_info = self._sealed(user.platform_additional_info)
        row.user_settings = copy.deepcopy(user.user_settings)
        row.updated_at = utcnow()

    def _sealed(self, info: dict[str, Any] | None) -> dict[str, Any]:
        """A copy of ``platformAdditionalInfo`` for the row, its secrets encrypted."""
        stored = copy.deepcopy(info or {})
        for key in SECRET_INFO_KEYS.intersection(stored):
            stored[key] = self._box.encrypt_value(stored[key])
        return stored

    def _opened(self, stored: dict[str, Any] | None) -> dict[str, Any]:
        """``platformAdditionalInfo`` from the row, its secrets decrypted (legacy plain kept)."""
        info = dict(stored or {})
        for key in SECRET_INFO_KEYS.intersection(info):
            info[key] = self._box.decrypt_value(info[key])
        return info

    def _sealed_plain(self, stored: dict[str, Any] | None) -> bool:
        """Whether a row's info holds a secret in plain text (written by the reference)."""
        info = stored or {}
        return any(
            info[key] is not None and not self._box.is_encrypted(info[key])
            for key in SECRET_INFO_KEYS.intersection(info)
        )

    async def get(
        self, user_id: Any, platform: str | None = None, *, fresh: bool = False
    ) -> User | None:
        """The user with this id (and platform, when given), or ``None``.

        This runs on nearly every request, so it is a plain Core ``SELECT`` on a pooled
        connection: no ORM session, identity map or instance state to build and throw away.
        """
        if user_id is None or user_id == "":
            return None
        key = str(user_id)
        # The stamp is read before the row: a change committed after that read replaces the
        # stamp, so the copy cached here is never trusted past it.
        stamp = await self._stamp(key)
        user = None if fresh or stamp is None else self._cached(key, stamp)
        if user is None:
            user = await self._load(key)
            if user is None:
                self.forget(key)
                return None
            self._remember(user, stamp)
        if platform is not None and user.platform != platform:
            return None
        return user

    async def _load(self, user_id: str) -> User | None:
        values = await self._db.read(
            lambda conn: conn.execute(_SELECT_BY_ID, {"id": user_id}).mappings().first()
        )
        if values is None:
            return None
        user = User(
            id=values[_C.id],
            platform=values[_C.platform],
            hostname=values[_C.hostname],
            access_token=self._box.decrypt(values[_C.accessToken]),
            refresh_token=self._box.decrypt(values[_C.refreshToken]),
            token_expiry=_aware(values[_C.tokenExpiry]),
            timezone_name=values[_C.timezoneName],
            timezone_offset=values[_C.timezoneOffset],
            rc_account_id=values[_C.rcAccountId],
            hashed_rc_extension_id=values[_C.hashedRcExtensionId],
            platform_additional_info=self._opened(values[_C.platformAdditionalInfo]),
            user_settings=values[_C.userSettings] or {},
            created_at=_aware(values[_C.createdAt]),
            updated_at=_aware(values[_C.updatedAt]),
            _store=self,
        )
        saved = _persisted(user)
        for attr in _ENCRYPTED:  # stored in plain text (a reference database): the next save
            stored = values[_C[_COLUMNS[attr]]]  # encrypts it, so it counts as changed
            if stored and not self._box.is_encrypted(stored):
                saved[attr] = _PLAIN
        if self._sealed_plain(values[_C.platformAdditionalInfo]):
            saved["platform_additional_info"] = _PLAIN  # the next save seals its secrets
        self._saved[user] = saved
        return user

    def _column_values(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for attr, value in values.items():
            if attr in _ENCRYPTED:
                value = self._box.encrypt(value)
            elif attr == "platform_additional_info":
                value = self._sealed(value)
            out[_COLUMNS[attr]] = value
        return out

    async def save(self, user: User) -> None:
        """Write what changed since the user was read (or last saved); a user built in memory,
        or one whose row is gone, is written whole."""
        current = _persisted(user)
        before = self._saved.get(user)
        now = utcnow()
        if before is None:
            diff = current
        else:
            diff = {attr: v for attr, v in current.items() if before.get(attr) != v}
        if diff:
            columns = self._column_values(diff)
            whole = self._column_values(current)
            user_id = user.id
            partial = before is not None

            def work(conn: Any) -> None:
                if partial:
                    done = conn.execute(
                        update(_TABLE)
                        .where(_C.id == user_id)
                        .values(**columns, updatedAt=now)
                    )
                    if changed(done):
                        return
                insert = conflict_insert(self._db.dialect)(_TABLE).values(
                    id=user_id, createdAt=now, updatedAt=now, **whole
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["id"], set_={**whole, "updatedAt": now}
                    )
                )

            await self._db.write(work)
            user.updated_at = now
        self._saved[user] = current
        user.attach_store(self)
        if diff:
            await self._changed(user.id)
        self._keep(user)

    async def upsert_login(
        self,
        *,
        user_id: str,
        platform: str,
        hostname: str | None,
        access_token: str | None,
        refresh_token: str | None,
        token_expiry: datetime | None,
        timezone_name: str | None,
        timezone_offset: Any,
        rc_account_id: str | None,
        hashed_rc_extension_id: str | None,
        platform_additional_info: dict[str, Any],
    ) -> User:
        """Create or update the row of a user who just logged in.

        ``platformAdditionalInfo`` is merged over what was stored; settings survive a re-login.
        """
        async with self._db.transaction() as session:
            row = await session.get(UserRow, user_id, with_for_update=not self._db.is_sqlite)
            if row is None:
                row = UserRow(id=user_id, user_settings={}, created_at=utcnow())
                session.add(row)
                merged_info = dict(platform_additional_info)
                settings: dict[str, Any] = {}
            else:
                stored_info = self._opened(row.platform_additional_info)
                merged_info = {**stored_info, **platform_additional_info}
                settings = copy.deepcopy(row.user_settings or {})
            user = User(
                id=user_id,
                platform=platform,
                hostname=hostname,
                access_token=access_token,
                refresh_token=refresh_token,
                token_expiry=token_expiry,
                timezone_name=timezone_name,
                timezone_offset=None if timezone_offset is None else str(timezone_offset),
                rc_account_id=rc_account_id,
                hashed_rc_extension_id=hashed_rc_extension_id,
                platform_additional_info=merged_info,
                user_settings=settings,
                created_at=_aware(row.created_at),
                _store=self,
            )
            self._fill_row(row, user)
        self._saved[user] = _persisted(user)
        await self._changed(user_id)
        self._keep(user)
        return user

    async def delete(self, user_id: str) -> bool:
        self.forget(user_id)
        async with self._db.transaction() as session:
            result = await session.execute(delete(UserRow).where(UserRow.id == user_id))
        await self._changed(user_id)
        return changed(result)
