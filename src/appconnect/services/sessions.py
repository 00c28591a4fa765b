"""Session generations: logging out refuses every session token issued before.

A session token is a signed JWT; nothing on the server lists the tokens handed out. Instead each
user has a *generation*: absent until the first logout, then a random string that each logout
replaces (table ``appconnectSessionGenerations``). Tokens carry the generation they were issued
under (claim ``sg``) and the middleware accepts a token only while it matches, on every route.

The current generation is read per request, so it is kept per process for
``APPCONNECT_USER_CACHE_TTL`` seconds (as users are): the process that handles a logout forgets
the old generation at once; other worker processes refuse the old tokens at the latest after that
many seconds (set the TTL to 0 to read the table on every request instead).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from appconnect.runtime import Runtime
from appconnect.store.db import Database, conflict_insert
from appconnect.store.models import SessionGenerationRow, utcnow

_TABLE = cast(Table, SessionGenerationRow.__table__)
_SELECT = select(_TABLE.c.generation).where(_TABLE.c.userId == bindparam("user_id"))
_STATE_KEY = "session_generations"


class SessionGenerations:
    """Reads (with a short per-process cache) and replaces users' session generations."""

    def __init__(self, db: Database, *, cache_ttl: float, cache_size: int = 10_000) -> None:
        self._db = db
        self._ttl = cache_ttl
        self._size = cache_size
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        insert = conflict_insert(db.dialect)(_TABLE)
        self._upsert = insert.on_conflict_do_update(
            index_elements=["userId"],
            set_={"generation": insert.excluded.generation, "updatedAt": insert.excluded.updatedAt},
        )

    def _remember(self, user_id: str, generation: str | None) -> None:
        if self._ttl <= 0:
            return
        self._cache[user_id] = (time.monotonic() + self._ttl, generation)
        self._cache.move_to_end(user_id)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)

    async def current(self, user_id: str) -> str | None:
        """The user's generation (``None``: never logged out)."""
        entry = self._cache.get(user_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        params = {"user_id": user_id}
        value = await self._db.read(lambda conn: conn.execute(_SELECT, params).scalar())
        generation = None if value is None else str(value)
        self._remember(user_id, generation)
        return generation

    async def revoke(self, user_id: str) -> str:
        """Start a new generation: every token issued before stops working."""
        generation = secrets.token_urlsafe(16)
        row = {"userId": user_id, "generation": generation, "updatedAt": utcnow()}
        await self._db.write(lambda conn: conn.execute(self._upsert, row))
        self._cache.pop(user_id, None)
        self._remember(user_id, generation)
        return generation


def generations(rt: Runtime) -> SessionGenerations:
    found = rt.state.get(_STATE_KEY)
    if not isinstance(found, SessionGenerations):
        found = rt.state[_STATE_KEY] = SessionGenerations(
            rt.db, cache_ttl=rt.settings.user_cache_ttl
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
