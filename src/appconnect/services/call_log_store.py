"""The ``callLogs`` link rows: identity rules, look-ups and the exactly-once reservation.

A link row says "this RingCentral call, for this extension identity, is logged as CRM activity
X". Two callers racing to log the same call (the browser's auto-log and server-side logging, or a
client retrying) must produce one CRM activity, not two. A check-then-create in application code
cannot guarantee that, so creation is split in three database steps:

1. :meth:`CallLogStore.reserve` inserts the row with ``thirdPartyLogId`` NULL *before* the CRM is
   called. The insert runs in its own transaction, serialized per session (PostgreSQL: a
   transaction-scoped advisory lock on the session id; SQLite: the database write lock, which the
   first statement takes) and re-checks the identity rules of spec §3.1 against every other row of
   the session, pending or not. Identical concurrent requests are additionally stopped by the
   composite primary key. Whoever loses gets ``None`` and answers "Existing log for session".
2. The caller talks to the CRM.
3. :meth:`CallLogStore.complete` fills ``thirdPartyLogId``; :meth:`CallLogStore.release` deletes
   the reservation when the CRM did not accept the log, so no link row points at nothing.

Pending rows (``thirdPartyLogId`` NULL) are invisible to every look-up: a call whose log is still
being created is "not logged yet". A reservation whose owner died (process killed mid-request)
would block the session forever, so reservations older than ``APPCONNECT_STALE_RESERVATION``
seconds (default :data:`STALE_RESERVATION`) are swept
by the next reservation attempt for the same session.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from appconnect.jsvalues import js_iso_string, js_str, js_truthy
from appconnect.security.hashing import hash_id
from appconnect.store.db import DIALECTS, Database, changed, conflict_insert
from appconnect.store.models import CallLogRow, utcnow
from appconnect.store.prepared import PreparedSelect

logger = logging.getLogger("appconnect.call_logs")

# Longer than any sane createCallLog (HTTP timeout 30 s, a token refresh waits at most 20 s).
STALE_RESERVATION = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Identity:
    """The extension identity of a log (spec §3.1); ``""`` means absent."""

    extension_number: str = ""
    hashed_extension_id: str = ""


def _first_present(*values: Any) -> Any:
    """``a ?? b``: the first value that is not null/undefined."""
    for value in values:
        if value is not None:
            return value
    return None


def identity_from_body(
    body: Mapping[str, Any], hash_key: str | None, *, nested: bool = True, hash_raw: bool = True
) -> Identity:
    """Derive the identity of a request body.

    ``nested`` allows the ``logInfo.*`` fallbacks (create, update); ``hash_raw`` allows a raw
    ``rcExtensionId`` to be hashed with the server key, which is how server-side logging (raw ids)
    and the browser (pre-hashed ids) arrive at the same identity.
    """
    log_info = body.get("logInfo") if nested else None
    inner: Mapping[str, Any] = log_info if isinstance(log_info, Mapping) else {}

    def pick(key: str) -> Any:
        return _first_present(body.get(key), inner.get(key))

    number = pick("extensionNumber")
    hashed = pick("hashedExtensionId")
    if js_truthy(hashed):
        hashed_text = js_str(hashed)
    elif hash_raw and js_truthy(raw := pick("rcExtensionId")) and hash_key:
        hashed_text = hash_id(raw, hash_key)
    else:
        hashed_text = ""
    return Identity("" if number is None else js_str(number), hashed_text)


@dataclass(slots=True)
class CallLogLink:
    """One link row as services see it (no ORM state; safe across awaits)."""

    id: str
    session_id: str
    extension_number: str
    hashed_extension_id: str
    platform: str | None
    third_party_log_id: str | None
    user_id: str | None
    contact_id: str | None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_mapping(cls, row: Any) -> CallLogLink:
        """From a Core result row (the table's camelCase column names)."""
        return cls(
            id=row["id"],
            session_id=row["sessionId"],
            extension_number=row["extensionNumber"] or "",
            hashed_extension_id=row["hashedExtensionId"] or "",
            platform=row["platform"],
            third_party_log_id=row["thirdPartyLogId"],
            user_id=row["userId"],
            contact_id=row["contactId"],
            created_at=row["createdAt"],
            updated_at=row["updatedAt"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The ``existingCallLog`` object connectors receive (connector spec §2.7)."""
        return {
            "id": self.id,
            "sessionId": self.session_id,
            "extensionNumber": self.extension_number,
            "hashedExtensionId": self.hashed_extension_id,
            "platform": self.platform,
            "thirdPartyLogId": self.third_party_log_id,
            "userId": self.user_id,
            "contactId": self.contact_id,
            "createdAt": iso_instant(self.created_at),
            "updatedAt": iso_instant(self.updated_at),
        }


def iso_instant(value: datetime | None) -> str | None:
    """``Date.prototype.toISOString`` (millisecond precision, ``Z``)."""
    # SQLite returns naive datetimes; we store UTC, which js_iso_string assumes for naive ones.
    return None if value is None else js_iso_string(value)


def select_link(rows: Iterable[Any], identity: Identity) -> Any | None:
    """Pick the row for ``identity`` among one session's rows (spec §3.1 precedence).

    The precedence also *is* the filter: a row that no rule selects does not match at all.
    ``rows`` must be ordered by ``hashedExtensionId, extensionNumber`` (the spec's tie-break);
    it accepts ORM rows and :class:`CallLogLink` alike.
    """
    ordered = list(rows)
    number, hashed = identity.extension_number, identity.hashed_extension_id
    if not hashed:
        return next(
            (r for r in ordered if not number or (r.extension_number or "") == number), None
        )
    rules = [lambda r: (r.hashed_extension_id or "") == hashed]
    if number:
        rules.append(lambda r: not r.hashed_extension_id and (r.extension_number or "") == number)
    rules.append(lambda r: not r.hashed_extension_id and not r.extension_number)
    for rule in rules:
        found = next((r for r in ordered if rule(r)), None)
        if found is not None:
            return found
    return None


# The store works on the table with Core statements (camelCase column keys): no ORM session,
# unit of work or identity map on the request path.
_TABLE = cast(Table, CallLogRow.__table__)
_C = _TABLE.c


def _advisory_key(session_id: str) -> int:
    digest = hashlib.sha256(f"appconnect.callLogs:{session_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Reservation:
    """The primary key of a pending link row this request owns."""

    id: str
    session_id: str
    identity: Identity
    platform: str | None = None
    user_id: str | None = None

    def key(self) -> dict[str, str]:
        """The bound parameters of :data:`_MINE` (the row's primary key)."""
        return {
            "k_id": self.id,
            "k_session": self.session_id,
            "k_ext": self.identity.extension_number,
            "k_hash": self.identity.hashed_extension_id,
        }


# Every look-up is scoped to the caller (user id and platform): another user's session behaves
# as unknown. The conditions ride on the ``sessionId`` index (a session has a handful of rows).
_OWNED = and_(_C.userId == bindparam("user_id"), _C.platform == bindparam("platform"))
_SWEEP = delete(_TABLE).where(
    _C.sessionId == bindparam("session_id"),
    _C.thirdPartyLogId.is_(None),
    _C.createdAt < bindparam("cutoff"),
    _OWNED,
)
_SESSION_ROWS = (
    select(_TABLE)
    .where(_C.sessionId == bindparam("session_id"), _OWNED)
    .order_by(_C.hashedExtensionId, _C.extensionNumber)
)
# One session's completed rows, prepared for the reader thread (appconnect.store.prepared).
_SESSION_COMPLETED = PreparedSelect(_SESSION_ROWS.where(_C.thirdPartyLogId.is_not(None)))
_COMPLETED_ROWS = (
    select(_TABLE)
    .where(
        _C.sessionId.in_(bindparam("session_ids", expanding=True)),
        _C.thirdPartyLogId.is_not(None),
        _OWNED,
    )
    .order_by(_C.hashedExtensionId, _C.extensionNumber)
)
_INSERT = insert(_TABLE)
# Statements are built once with bound parameters: building an UPDATE per request (and
# SQLAlchemy generating its cache key) cost more CPU than running it.
_MINE = and_(
    _C.id == bindparam("k_id"),
    _C.sessionId == bindparam("k_session"),
    _C.extensionNumber == bindparam("k_ext"),
    _C.hashedExtensionId == bindparam("k_hash"),
)
_COMPLETE = (
    update(_TABLE)
    .where(_MINE, _C.thirdPartyLogId.is_(None))
    .values(
        id=bindparam("v_id"),
        sessionId=bindparam("v_session"),
        thirdPartyLogId=bindparam("v_log"),
        contactId=bindparam("v_contact"),
        updatedAt=bindparam("v_updated"),
    )
)
_DROP_PENDING = delete(_TABLE).where(_MINE, _C.thirdPartyLogId.is_(None))
_DROP_MINE = delete(_TABLE).where(_MINE)
_KEY = ["id", "sessionId", "extensionNumber", "hashedExtensionId"]
# INSERT that reports an identical pending/complete row by changing nothing (no exception, so a
# PostgreSQL transaction stays usable for the sweep-and-retry path).
_INSERT_IF_ABSENT = {
    dialect: conflict_insert(dialect)(CallLogRow).on_conflict_do_nothing(index_elements=_KEY)
    for dialect in DIALECTS
}


class CallLogStore:
    """Repository of ``callLogs`` rows."""

    def __init__(self, db: Database, stale_after: timedelta = STALE_RESERVATION) -> None:
        self._db = db
        self._stale_after = stale_after

    # -- look-ups (completed rows only) ---------------------------------------------------

    async def find_many(
        self, session_ids: Sequence[str], identity: Identity, *, user_id: str, platform: str
    ) -> dict[str, CallLogLink]:
        """session id -> the caller's matching completed link, for every id that has one.

        Only rows of ``user_id`` on ``platform`` are considered: another user's log of the
        same session is not found (and so never read, updated or disposed of by this caller).
        """
        wanted = sorted(set(session_ids))
        if not wanted:
            return {}
        params = {"session_ids": wanted, "user_id": user_id, "platform": platform}

        def work(conn: Connection) -> list[CallLogLink]:
            result = conn.execute(_COMPLETED_ROWS, params).mappings()
            return [CallLogLink.from_mapping(r) for r in result]

        rows = await self._db.read(work)
        found: dict[str, CallLogLink] = {}
        for session_id in wanted:
            match = select_link((r for r in rows if r.session_id == session_id), identity)
            if match is not None:
                found[session_id] = match
        return found

    async def find(
        self, session_id: str, identity: Identity, *, user_id: str, platform: str
    ) -> CallLogLink | None:
        """The caller's completed link of one session for ``identity`` (the hot look-up of
        ``PATCH /callLog``, dispositions and plugin callbacks), or ``None``."""
        params = {"session_id": session_id, "user_id": user_id, "platform": platform}

        def work(conn: Connection) -> list[CallLogLink]:
            return [CallLogLink.from_mapping(r) for r in _SESSION_COMPLETED.rows(conn, params)]

        return select_link(await self._db.read(work), identity)

    # -- exactly-once creation ------------------------------------------------------------

    async def reserve(
        self,
        *,
        row_id: str,
        session_id: str,
        identity: Identity,
        platform: str | None,
        user_id: str | None,
        contact_id: str | None,
    ) -> Reservation | None:
        """Claim the right to create this call's CRM log; ``None`` if a log exists or is pending."""
        reservation = Reservation(row_id, session_id, identity, platform, user_id)
        now = utcnow()
        row = {
            "id": row_id,
            "sessionId": session_id,
            "extensionNumber": identity.extension_number,
            "hashedExtensionId": identity.hashed_extension_id,
            "platform": platform,
            "thirdPartyLogId": None,
            "userId": user_id,
            "contactId": contact_id,
            "createdAt": now,
            "updatedAt": now,
        }

        insert_row = _INSERT_IF_ABSENT[self._db.dialect]

        def work(conn: Connection) -> bool:
            self._serialize(conn, session_id)
            # Common case: two statements. Abandoned reservations of this session are swept
            # only when something is in the way, then the attempt is made once more.
            for attempt in (1, 2):
                inserted = changed(conn.execute(insert_row, row))
                if inserted and not self._conflicts(conn, reservation):
                    return True
                if inserted:
                    conn.execute(_DROP_MINE, reservation.key())
                if attempt == 2 or not self._sweep_stale(conn, reservation):
                    # The expected duplicate: answered without raising, so a group commit on
                    # SQLite keeps the other transactions of its batch (see Database.write).
                    return False
            return False

        try:
            reserved = await self._db.write(work)
        except IntegrityError:
            return None
        return reservation if reserved else None

    def _serialize(self, conn: Connection, session_id: str) -> None:
        """Make reservations for one session take turns.

        SQLite needs nothing: its writes run one transaction at a time on the writer thread.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key(session_id)}
            )

    def _sweep_stale(self, conn: Connection, mine: Reservation) -> bool:
        """Delete the caller's abandoned reservations of this session; ``True`` if any."""
        params = {
            "session_id": mine.session_id,
            "cutoff": utcnow() - self._stale_after,
            "user_id": mine.user_id,
            "platform": mine.platform,
        }
        if not changed(conn.execute(_SWEEP, params)):
            return False
        logger.warning("dropped an abandoned call-log reservation for session %s", mine.session_id)
        return True

    def _conflicts(self, conn: Connection, mine: Reservation) -> bool:
        """Does another row of the session (pending or not) of the same user and platform
        already stand for this identity? Other users' rows never block this one."""
        params = {"session_id": mine.session_id, "user_id": mine.user_id, "platform": mine.platform}
        result = conn.execute(_SESSION_ROWS, params)
        rows = [CallLogLink.from_mapping(r) for r in result.mappings()]
        others = [
            r
            for r in rows
            if (r.id, r.extension_number, r.hashed_extension_id)
            != (mine.id, mine.identity.extension_number, mine.identity.hashed_extension_id)
        ]
        return select_link(others, mine.identity) is not None

    async def complete(
        self,
        reservation: Reservation,
        *,
        third_party_log_id: str,
        row_id: str,
        session_id: str,
        contact_id: str | None,
    ) -> None:
        """Turn the reservation into the link row (ids may have been rewritten by plugins)."""
        now = utcnow()
        params = {
            **reservation.key(),
            "v_id": row_id,
            "v_session": session_id,
            "v_log": third_party_log_id,
            "v_contact": contact_id,
            "v_updated": now,
        }

        def work(conn: Connection) -> None:
            if changed(conn.execute(_COMPLETE, params)):
                return
            # Our reservation was swept as stale while the CRM was slow: store the row anyway,
            # the CRM activity exists. A conflicting row makes this fail loudly.
            logger.warning("reservation for session %s vanished; re-inserting", session_id)
            conn.execute(
                _INSERT,
                {
                    "id": row_id,
                    "sessionId": session_id,
                    "thirdPartyLogId": third_party_log_id,
                    "contactId": contact_id,
                    "updatedAt": now,
                    "extensionNumber": reservation.identity.extension_number,
                    "hashedExtensionId": reservation.identity.hashed_extension_id,
                    "platform": reservation.platform,
                    "userId": reservation.user_id,
                    "createdAt": now,
                },
            )

        await self._db.write(work)

    async def release(self, reservation: Reservation) -> None:
        """Drop a reservation whose CRM log was not created (never a completed row)."""
        key = reservation.key()
        await self._db.write(lambda conn: conn.execute(_DROP_PENDING, key))
