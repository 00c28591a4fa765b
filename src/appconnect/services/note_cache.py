"""The call-note cache: the note a user typed, waiting for server-side logging to pick it up.

The browser posts the note while the call is live (``POST /callLog/cacheNote``); server-side
logging creates the CRM log a little later and, when the deployment enables the cache, uses the
cached note. The reference keeps this in DynamoDB with item TTL; here it is the ``noteCache``
table with an epoch-seconds ``ttl`` column. Reads ignore expired rows, and each write sweeps
expired rows so the table does not grow without bound.

Deviation from the reference (spec §10 #4, recommended): a second save for the same session
overwrites the note and resets the TTL instead of failing.

Deviation (isolation, docs/departures.md): a note belongs to the user who cached it. The row key
is a digest of (platform, user id, session id), so another user caching a note for the same
session id writes a row of his own and can never read or overwrite this one.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from appconnect.store.db import DIALECTS, Database, conflict_insert
from appconnect.store.models import NoteCacheRow

NOTE_TTL_SECONDS = 3600


def _now() -> int:
    return int(time.time())


def note_key(session_id: str, user_id: str, platform: str) -> str:
    """The ``noteCache`` primary key of one user's note for one session."""
    return hashlib.sha256(f"{platform}\0{user_id}\0{session_id}".encode()).hexdigest()


class NoteCache:
    """``sessionId -> note`` with a one-hour lifetime."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, session_id: str, note: str, *, user_id: str, platform: str) -> None:
        now = _now()
        key = note_key(session_id, user_id, platform)
        async with self._db.transaction() as session:
            await self._upsert(session, key, note, now + NOTE_TTL_SECONDS)
            await session.execute(delete(NoteCacheRow).where(NoteCacheRow.ttl <= now))

    async def _upsert(self, session: AsyncSession, session_id: str, note: str, ttl: int) -> None:
        dialect = self._db.dialect
        values = {"session_id": session_id, "note": note, "ttl": ttl}
        if dialect in DIALECTS:
            stmt = conflict_insert(dialect)(NoteCacheRow).values(**values)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[NoteCacheRow.session_id],
                    set_={"note": stmt.excluded.note, "ttl": stmt.excluded.ttl},
                )
            )
            return
        await session.merge(NoteCacheRow(**values))  # other databases: read-then-write

    async def get(self, session_id: str, *, user_id: str, platform: str) -> str | None:
        """The user's cached note, or ``None`` when absent or expired."""
        key = note_key(session_id, user_id, platform)
        async with self._db.session() as session:
            return await session.scalar(
                select(NoteCacheRow.note).where(
                    NoteCacheRow.session_id == key, NoteCacheRow.ttl > _now()
                )
            )
