"""Session generations: logging out refuses every session token issued before.

A session token is a signed JWT; nothing on the server lists the tokens handed out. Instead each
user has a *generation*: absent until the first logout, then a random string that each logout
replaces (table ``appconnectSessionGenerations``). Tokens carry the generation they were issued
under (claim ``sg``) and the middleware accepts a token only while it matches, on every route.

The current generation is read per request, so it is kept per process for
``APPCONNECT_USER_CACHE_TTL`` seconds (as users are): the process that handles a logout forgets
the old generation at once. With a shared key-value store (``REDIS_URL``) a logout also replaces
the user's stamp (:mod:`appconnect.kv.stamps`), which every process checks before trusting its
cached generation, so every worker refuses the old tokens from the next request on. Without one,
other worker processes refuse them at the latest after the TTL (0 reads the table every time).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from appconnect.kv.stamps import Stamps, StampUnavailable
from appconnect.runtime import Runtime
from appconnect.store.db import Database, conflict_insert
from appconnect.store.models import SessionGenerationRow, utcnow

_TABLE = cast(Table, SessionGenerationRow.__table__)
_SELECT = select(_TABLE.c.generation).where(_TABLE.c.userId == bindparam("user_id"))
_STATE_KEY = "session_generations"


class SessionGenerations:
    """Reads (with a short per-process cache) and replaces users' session generations."""

    def __init__(
        self,
        db: Database,
        *,
        cache_ttl: float,
        cache_size: int = 10_000,
        stamps: Stamps | None = None,
    ) -> None:
        self._db = db
        self._ttl = cache_ttl
        self._size = cache_size
        self._stamps = stamps
        self._cache: OrderedDict[str, tuple[float, str, str | None]] = OrderedDict()
        insert = conflict_insert(db.dialect)(_TABLE)
        self._upsert = insert.on_conflict_do_update(
            index_elements=["userId"],
            set_={"generation": insert.excluded.generation, "updatedAt": insert.excluded.updatedAt},
        )

    def _remember(self, user_id: str, stamp: str | None, generation: str | None) -> None:
        if self._ttl <= 0 or stamp is None:
            return
        self._cache[user_id] = (time.monotonic() + self._ttl, stamp, generation)
        self._cache.move_to_end(user_id)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)

    async def _stamp(self, user_id: str) -> str | None:
        """The shared stamp (``""`` without stamps or cache; ``None``: unreadable, bypass)."""
        if self._stamps is None or self._ttl <= 0:
            return ""
        try:
            return await self._stamps.read(f"sessions:{user_id}")
        except StampUnavailable:
            return None

    async def current(self, user_id: str) -> str | None:
        """The user's generation (``None``: never logged out)."""
        stamp = await self._stamp(user_id)  # before the row: see appconnect.kv.stamps
        entry = self._cache.get(user_id)
        if entry is not None and entry[0] > time.monotonic() and entry[1] == stamp:
            return entry[2]
        params = {"user_id": user_id}
        value = await self._db.read(lambda conn: conn.execute(_SELECT, params).scalar())
        generation = None if value is None else str(value)
        self._remember(user_id, stamp, generation)
        return generation

    async def revoke(self, user_id: str) -> str:
        """Start a new generation: every token issued before stops working."""
        generation = secrets.token_urlsafe(16)
        row = {"userId": user_id, "generation": generation, "updatedAt": utcnow()}
        await self._db.write(lambda conn: conn.execute(self._upsert, row))
        self._cache.pop(user_id, None)
        if self._stamps is not None:
            await self._stamps.bump(f"sessions:{user_id}")  # every process: next read reloads
        else:
            self._remember(user_id, "", generation)
        return generation


def generations(rt: Runtime) -> SessionGenerations:
    found = rt.state.get(_STATE_KEY)
    if not isinstance(found, SessionGenerations):
        found = rt.state[_STATE_KEY] = SessionGenerations(
            rt.db,
            cache_ttl=rt.settings.user_cache_ttl,
            stamps=Stamps(rt.kv) if rt.kv.shared else None,
        )
    return found


async def issue_session(rt: Runtime, user_id: Any, platform: str) -> str:
    """A session token for a user who just logged in (under the user's current generation)."""
    generation = await generations(rt).current(str(user_id))
    return rt.sessions.issue(user_id, platform, generation=generation)


async def is_current(rt: Runtime, claims: dict[str, Any]) -> bool:
    """Was the token with these (verified) claims issued after the user's last logout?"""
    generation = await generations(rt).current(str(claims.get("id")))
    return claims.get("sg") == generation


async def revoke_sessions(rt: Runtime, user_id: str) -> None:
    """Log the user out everywhere: every token issued so far is refused from now on."""
    await generations(rt).revoke(user_id)
