"""The call-note cache: the note a user typed, waiting for server-side logging to pick it up.

The browser posts the note while the call is live (``POST /callLog/cacheNote``); server-side
logging creates the CRM log a little later and, when the deployment enables the cache, uses the
cached note. The reference keeps this in DynamoDB with item TTL; here it is the ``noteCache``
table with an epoch-seconds ``ttl`` column. Reads ignore expired rows, and each write sweeps
expired rows so the table does not grow without bound.

Deviation from the reference (spec §10 #4, recommended): a second save for the same session
overwrites the note and resets the TTL instead of failing.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from appconnect.store.db import DIALECTS, Database, conflict_insert
from appconnect.store.models import NoteCacheRow

NOTE_TTL_SECONDS = 3600


def _now() -> int:
    return int(time.time())


class NoteCache:
    """``sessionId -> note`` with a one-hour lifetime."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, session_id: str, note: str) -> None:
        now = _now()
        async with self._db.transaction() as session:
            await self._upsert(session, session_id, note, now + NOTE_TTL_SECONDS)
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

    async def get(self, session_id: str) -> str | None:
        """The cached note, or ``None`` when absent or expired."""
        async with self._db.session() as session:
            return await session.scalar(
                select(NoteCacheRow.note).where(
                    NoteCacheRow.session_id == session_id, NoteCacheRow.ttl > _now()
                )
            )
