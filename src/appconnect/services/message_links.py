"""Links between RingCentral messages and CRM message logs, safe under concurrent requests.

The reference checks "is there a link for this conversation-day?" and then creates the CRM log,
so two concurrent requests for a new conversation-day both create one, and two requests carrying
the same message both log it. Two primary keys close those gaps:

* ``appconnectConversationLogs`` (PK ``conversationLogId``) is the *claim*: the request whose
  INSERT succeeds creates the CRM log and records its id there; a request that loses the insert
  waits for that id and then updates the log instead.
* ``messageLogs`` (PK = message id) is inserted *before* the CRM call for that message (a
  reservation) and removed if the call fails, so a message reaches the CRM once.

``messageLogs`` rows keep the reference's shape (one per message, carrying ``conversationLogId``
and ``thirdPartyLogId``), so a database adopted from a reference deployment (no claim rows) still
resolves its conversation-days through them.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from appconnect.runtime import Runtime
from appconnect.services.call_log_store import iso_instant
from appconnect.store.db import DIALECTS, changed, conflict_insert
from appconnect.store.models import ConversationLogRow, MessageLogRow, utcnow

T = TypeVar("T")

# How long a request waits for a concurrent request's CRM create before giving up.
CLAIM_WAIT_SECONDS = 10.0
# Poll interval while waiting: starts small (the CRM call is usually quick), grows to the cap.
POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.5
# A claim without a CRM id older than this belongs to a request that died mid-create
# (CRM calls time out long before); a waiter may take it over.
MIN_STALE_CLAIM = timedelta(seconds=120)


class LinkStoreError(Exception):
    """A database failure; the flow answers "Database operation failed"."""


class ClaimTimeout(RuntimeError):
    """A concurrent request held the conversation's claim for too long."""


@dataclass(frozen=True, slots=True)
class Conversation:
    """Who and what a link row describes (the suffixed ids for group SMS)."""

    conversation_log_id: str
    conversation_id: str | None
    platform: str
    user_id: str

    @property
    def claim_key(self) -> str:
        """The claim's primary key: the conversation-day *of this user on this platform*.

        Two users may log the same RingCentral conversation (both ends of an internal SMS, or
        a forged id): each gets a claim and a CRM log of their own, never the other's.
        """
        raw = f"{self.platform}\0{self.user_id}\0{self.conversation_log_id}"
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def owner(self) -> dict[str, str]:
        return {"user_id": self.user_id, "platform": self.platform}


@dataclass(frozen=True, slots=True)
class Existing:
    """The conversation-day already has a CRM log; ``record`` is the ``existingMessageLog``."""

    record: dict[str, Any]

    @property
    def third_party_log_id(self) -> str:
        return str(self.record["thirdPartyLogId"])


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request owns the conversation-day and must create its CRM log."""


Resolution = Existing | Claimed


@dataclass(frozen=True, slots=True)
class Opening:
    """What :meth:`MessageLinks.open_day` found and took.

    ``todo``: the submitted ids not linked yet, in the order given. ``resolution``: the day's
    log (``Existing``) or this request's claim (``Claimed``); ``None`` when nothing is left to
    log. ``reserved``: with ``Existing``, the ``todo`` ids now reserved for updates; with
    ``Claimed``, ``[todo[0]]``, or ``[]`` if another request holds it (the claim was given back).
    """

    todo: list[str]
    resolution: Resolution | None
    reserved: list[str]


def link_record(row: Any) -> dict[str, Any]:
    """A ``messageLogs`` row (a Core mapping) as connectors receive it (connector spec §2.8)."""
    record = {key: row[key] for key in _LINK_KEYS}
    record["createdAt"] = iso_instant(row["createdAt"])
    record["updatedAt"] = iso_instant(row["updatedAt"])
    return record


_LINKED_ROW = (
    select(MessageLogRow.__table__)
    .where(
        MessageLogRow.conversation_log_id == bindparam("key"),
        MessageLogRow.third_party_log_id.is_not(None),
        MessageLogRow.user_id == bindparam("user_id"),
        MessageLogRow.platform == bindparam("platform"),
    )
    .order_by(MessageLogRow.created_at, MessageLogRow.id)
    .limit(1)
)
_CLAIM_ROW = select(ConversationLogRow.__table__).where(
    ConversationLogRow.conversation_log_id == bindparam("key")
)
# Built once: constructing an INSERT per message was a tenth of the route's CPU.
_RESERVE = {
    dialect: conflict_insert(dialect)(MessageLogRow).on_conflict_do_nothing(index_elements=["id"])
    for dialect in DIALECTS
}
_LINK_KEYS = ("id", "platform", "conversationId", "conversationLogId", "thirdPartyLogId", "userId")
_MESSAGES = cast(Table, MessageLogRow.__table__)
_CLAIMS = cast(Table, ConversationLogRow.__table__)
# Every statement of the request path is built once, with bound parameters: constructing them
# per call (and SQLAlchemy deriving each one's cache key) cost more CPU than executing them.
_CLAIM = {
    dialect: conflict_insert(dialect)(_CLAIMS).on_conflict_do_nothing(
        index_elements=["conversationLogId"]
    )
    for dialect in DIALECTS
}
_LINKED_IDS = select(_MESSAGES.c.id).where(
    _MESSAGES.c.id.in_(bindparam("ids", expanding=True)),
    _MESSAGES.c.thirdPartyLogId.is_not(None),
    _MESSAGES.c.userId == bindparam("user_id"),
    _MESSAGES.c.platform == bindparam("platform"),
)
_TAKE_OVER = (
    update(_CLAIMS)
    .where(
        _CLAIMS.c.conversationLogId == bindparam("key"),
        _CLAIMS.c.thirdPartyLogId.is_(None),
        _CLAIMS.c.updatedAt < bindparam("cutoff"),
    )
    .values(userId=bindparam("v_user"), updatedAt=bindparam("v_now"))
)
_SET_CLAIM_LOG = (
    update(_CLAIMS)
    .where(_CLAIMS.c.conversationLogId == bindparam("key"))
    .values(thirdPartyLogId=bindparam("v_log"))
)
_SET_MESSAGE_LOG = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("key"))
    .values(thirdPartyLogId=bindparam("v_log"))
)
_INSERT_MESSAGE = insert(_MESSAGES)
_DROP_MESSAGES = delete(_MESSAGES).where(_MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
_DROP_PENDING_CLAIM = delete(_CLAIMS).where(
    _CLAIMS.c.conversationLogId == bindparam("key"), _CLAIMS.c.thirdPartyLogId.is_(None)
)


def _message_row(
    message_id: str, conv: Conversation, third_party_log_id: str | None, now: datetime
) -> dict[str, Any]:
    """A ``messageLogs`` row of this conversation-day (camelCase column keys)."""
    return {
        "id": message_id,
        "platform": conv.platform,
        "conversationId": conv.conversation_id,
        "conversationLogId": conv.conversation_log_id,
        "thirdPartyLogId": third_party_log_id,
        "userId": conv.user_id,
        "createdAt": now,
        "updatedAt": now,
    }


class MessageLinks:
    """The ``messageLogs`` / claim operations of one request; DB errors become LinkStoreError."""

    def __init__(self, rt: Runtime) -> None:
        self._db = rt.db
        self._reserve_stmt = _RESERVE[rt.db.dialect]
        self._claim_stmt = _CLAIM[rt.db.dialect]
        self._stale_after = max(MIN_STALE_CLAIM, timedelta(seconds=4 * rt.settings.http_timeout))

    async def _run(self, work: Callable[[Connection], T]) -> T:
        """One short transaction (on SQLite: on the writer thread, see ``Database.write``)."""
        try:
            return await self._db.write(work)
        except SQLAlchemyError as exc:
            raise LinkStoreError(str(exc)) from exc

    # -- messages ---------------------------------------------------------------------------

    def _reserve(
        self,
        conn: Connection,
        message_ids: Sequence[str],
        conv: Conversation,
        third_party_log_id: str | None,
    ) -> list[str]:
        now = utcnow()
        reserved = []
        for message_id in message_ids:
            row = _message_row(message_id, conv, third_party_log_id, now)
            if changed(conn.execute(self._reserve_stmt, row)):
                reserved.append(message_id)
        return reserved

    async def release_messages(self, message_ids: Sequence[str]) -> None:
        """Drop reservations whose CRM calls failed or never ran, so a later request logs them."""
        if message_ids:
            params = {"ids": list(message_ids)}
            await self._run(lambda conn: conn.execute(_DROP_MESSAGES, params))

    # -- conversations ----------------------------------------------------------------------

    def _probe(self, conn: Connection, conv: Conversation) -> Resolution | None:
        """One look at the conversation-day, in one transaction: the CRM log if it exists,
        a fresh (or taken-over) claim, or ``None`` while another request is still creating it."""
        linked_params = {"key": conv.conversation_log_id, **conv.owner}
        row = conn.execute(_LINKED_ROW, linked_params).mappings().first()
        if row is not None:
            return Existing(link_record(row))
        key = conv.claim_key
        claim = conn.execute(_CLAIM_ROW, {"key": key}).mappings().first()
        now = utcnow()
        if claim is None:
            new_claim = {
                "conversationLogId": key,
                "platform": conv.platform,
                "thirdPartyLogId": None,
                "userId": conv.user_id,
                "createdAt": now,
                "updatedAt": now,
            }
            return Claimed() if changed(conn.execute(self._claim_stmt, new_claim)) else None
        if claim["thirdPartyLogId"]:
            return Existing(self._from_claim(claim, conv))
        # A pending claim whose owner evidently died is taken over (compare-and-set on its age).
        params = {
            "key": key,
            "cutoff": now - self._stale_after,
            "v_user": conv.user_id,
            "v_now": now,
        }
        return Claimed() if changed(conn.execute(_TAKE_OVER, params)) else None

    def _from_claim(self, claim: Any, conv: Conversation) -> dict[str, Any]:
        # Only reached when no messageLogs row carries the id (e.g. it was deleted).
        return {
            "id": conv.conversation_log_id,
            "platform": claim["platform"],
            "conversationId": conv.conversation_id,
            "conversationLogId": conv.conversation_log_id,
            "thirdPartyLogId": claim["thirdPartyLogId"],
            "userId": claim["userId"],
        }

    async def _settled(self, attempt: Callable[[Connection], T | None], conv: Conversation) -> T:
        """Run ``attempt`` until it settles (not ``None``), waiting while another request
        creates the day's log (bounded by :data:`CLAIM_WAIT_SECONDS`); if that request gives
        up (its claim disappears), this one gets to claim in its place."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLAIM_WAIT_SECONDS
        delay = POLL_FIRST_SECONDS
        while True:
            outcome = await self._run(attempt)
            if outcome is not None:
                return outcome
            if loop.time() >= deadline:
                raise ClaimTimeout(
                    f"message log for {conv.conversation_log_id} is still being created"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    async def resolve(self, conv: Conversation) -> Resolution:
        """Find the conversation-day's CRM log, or claim the right to create it."""
        return await self._settled(lambda conn: self._probe(conn, conv), conv)

    async def open_day(self, conv: Conversation, message_ids: Sequence[str]) -> Opening:
        """Everything a message request needs before its first CRM call, in one transaction.

        Drops the messages already linked, then resolves the day: if its CRM log exists, the
        remaining messages are reserved for updates; if this request claims the day, the
        oldest remaining message is reserved for the create (and if another request holds that
        message, the claim is given back in the same transaction). One writer hand-off instead
        of three or four: on SQLite each hand-off costs a GIL round trip between threads.
        """

        def attempt(conn: Connection) -> Opening | None:
            params = {"ids": list(message_ids), **conv.owner}
            linked = set(conn.execute(_LINKED_IDS, params).scalars())
            todo = [m for m in message_ids if m not in linked]
            if not todo:
                return Opening(todo, None, [])
            outcome = self._probe(conn, conv)
            if outcome is None:
                return None  # another request is creating the day's log: wait, then look again
            if isinstance(outcome, Existing):
                reserved = self._reserve(conn, todo, conv, outcome.third_party_log_id)
                return Opening(todo, outcome, reserved)
            reserved = self._reserve(conn, todo[:1], conv, None)
            if not reserved:
                conn.execute(_DROP_PENDING_CLAIM, {"key": conv.claim_key})
            return Opening(todo, outcome, reserved)

        return await self._settled(attempt, conv)

    async def complete_claim(
        self,
        conv: Conversation,
        third_party_log_id: str,
        message_id: str | None = None,
        *,
        shared_row: bool = False,
        reserve_next: Sequence[str] = (),
    ) -> list[str]:
        """Record the created CRM id on the claim and on the message's reservation, atomically.

        ``shared_row``: a shared-SMS thread is one ``messageLogs`` row keyed by its
        ``conversationLogId``, inserted here rather than reserved beforehand.
        ``reserve_next``: the request's further messages, reserved (for updates of the new log)
        in the same transaction; returns the ones it now owns.
        """

        def work(conn: Connection) -> list[str]:
            params = {"key": conv.claim_key, "v_log": third_party_log_id}
            conn.execute(_SET_CLAIM_LOG, params)
            if message_id is not None:
                conn.execute(_SET_MESSAGE_LOG, {"key": message_id, "v_log": third_party_log_id})
            if shared_row:
                row = _message_row(conv.conversation_log_id, conv, third_party_log_id, utcnow())
                conn.execute(_INSERT_MESSAGE, row)
            return self._reserve(conn, reserve_next, conv, third_party_log_id)

        return await self._run(work)

    async def abandon_claim(self, conv: Conversation, message_id: str | None = None) -> None:
        """Give the claim back after a failed create, so a retry (or a waiter) can create.

        ``message_id``: the reservation made for the create, freed in the same transaction, so
        a waiter that takes over the claim finds the message free.
        """

        def work(conn: Connection) -> None:
            if message_id is not None:
                conn.execute(_DROP_MESSAGES, {"ids": [message_id]})
            conn.execute(_DROP_PENDING_CLAIM, {"key": conv.claim_key})

        await self._run(work)
