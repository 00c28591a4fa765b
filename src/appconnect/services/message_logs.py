"""Message logging (``POST /messageLog``): SMS, MMS, voicemail, fax, group and shared SMS.

The first not-yet-logged message of a conversation-day (``conversationLogId``) creates a CRM log,
every later one updates it, oldest first. The reference decides "create or update" with an
unguarded read, so concurrent requests (the client retries, several tabs, auto-logging) create
duplicate CRM logs; here the decision goes through :mod:`appconnect.services.message_links`, whose
primary-key claims make it exactly-once. Spec: http-contact-logging §4, connector-interface §9.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appconnect.compose import compose_shared_sms
from appconnect.connectors.args import given
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.jsvalues import UNDEFINED, js_str, js_str_absent, js_truthy
from appconnect.runtime import Runtime
from appconnect.security.hashing import hash_id
from appconnect.services.call_log_store import iso_instant
from appconnect.services.contact_cache import get_cached_contacts
from appconnect.services.credentials import AuthContext, authenticate
from appconnect.services.errors import (
    DB_FAILURE_MESSAGE,
    SESSION_REVOKED,
    api_error_result,
    failure,
)
from appconnect.services.log_locks import log_key, log_locks
from appconnect.services.message_links import (
    Claimed,
    Conversation,
    Existing,
    LinkStoreError,
    MessageLinks,
)
from appconnect.services.message_media import derive_media
from appconnect.services.plugins import runtime as plugin_runtime
from appconnect.store.models import utcnow
from appconnect.store.users import User

OPERATION = "createMessageLog"
NO_MESSAGE = "No message to log."
CONTACT_NOT_FOUND = "Contact not found"

_OMIT: Any = object()  # a connector result without returnMessage: the key is left out (undefined)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be an object")
    return value


def _name_of(value: Any) -> Any:
    """``value?.name``: :data:`UNSET` when there is no such key."""
    return given(value, "name")


async def apply_message_plugins(
    rt: Runtime, user: User, body: dict[str, Any], messages: list[Any]
) -> dict[str, Any]:
    """SMS/fax plugins (plugins.md §7-§8): sync ones replace the body, async ones are notified.

    Later steps read ``logInfo``, ``messages``, ``contactId``, ``contactName`` from the result;
    with no plugin installed it is ``body`` itself.
    """
    return await plugin_runtime.run_message_plugins(rt, user, body, messages)


@dataclass(frozen=True, slots=True)
class _Captured:
    """What step 6 captures before plugins run; plugins cannot change these."""

    contact_info: dict[str, Any]
    additional_submission: Any
    is_group: bool
    assignee_name: Any
    owner_name: Any


@dataclass
class _Flow:
    """One request's connector context and accumulated reply."""

    rt: Runtime
    view: ConnectorView
    platform: str
    auth: AuthContext
    captured: _Captured
    account_header: str | None
    account_id: Any
    links: MessageLinks
    return_message: Any = None
    log_ids: list[str] = field(default_factory=list)

    @property
    def hashed_account_id(self) -> str:
        if self.account_header:
            return self.account_header
        account_id = UNDEFINED if self.account_id is None else self.account_id
        return hash_id(account_id, self.rt.hash_key)

    def common(self) -> dict[str, Any]:
        """Arguments every message-log connector call receives."""
        return {
            "user": self.auth.user,
            "contact_info": self.captured.contact_info,
            "auth_header": self.auth.auth_header,
            "additional_submission": self.captured.additional_submission,
            "proxy_config": self.auth.proxy_config,
        }

    async def create(self, **kwargs: Any) -> dict[str, Any]:
        """``createMessageLog``; its result must be an object (it becomes the reply's)."""
        result = to_wire(await self.view.create_message_log(**self.common(), **kwargs))
        return self._answered("createMessageLog", result)

    async def update(self, **kwargs: Any) -> dict[str, Any]:
        """``updateMessageLog``; nothing returned reads as success (spec quirk 7)."""
        result = to_wire(await self.view.update_message_log(**self.common(), **kwargs))
        return self._answered("updateMessageLog", {} if result is None else result)

    def _answered(self, name: str, result: Any) -> dict[str, Any]:
        if not isinstance(result, dict):
            raise TypeError(f"{name} must return an object")
        self.return_message = result.get("returnMessage", _OMIT)
        return result

    def reply(self) -> dict[str, Any]:
        out: dict[str, Any] = {"successful": True, "logIds": self.log_ids}
        if self.return_message is not _OMIT:
            out["returnMessage"] = self.return_message
        return out


async def log_messages(
    rt: Runtime,
    *,
    user_id: str | None,
    platform: str,
    body: dict[str, Any],
    account_header: str | None = None,
) -> dict[str, Any]:
    """The ``POST /messageLog`` flow; every failure becomes the reference's business reply."""
    try:
        return await _log_messages(rt, user_id, platform, body, account_header)
    except (LinkStoreError, SQLAlchemyError):
        return failure(DB_FAILURE_MESSAGE)
    except Exception as exc:  # the reference reports every exception under createMessageLog
        return api_error_result(exc, platform, OPERATION)


async def _log_messages(
    rt: Runtime,
    user_id: str | None,
    platform: str,
    body: dict[str, Any],
    account_header: str | None,
) -> dict[str, Any]:
    log_info = _mapping(body.get("logInfo"), "logInfo")
    messages = log_info.get("messages")
    if not isinstance(messages, list):
        raise TypeError("logInfo.messages must be a list")
    if not messages:
        return failure(NO_MESSAGE, 3000)
    correspondents = log_info.get("correspondents")
    if not isinstance(correspondents, list) or not correspondents:
        raise TypeError("logInfo.correspondents must be a non-empty list")
    contact_number = _mapping(correspondents[0], "correspondent").get("phoneNumber")

    user = await rt.users.get(user_id)
    if user is None or not user.access_token:
        return failure(CONTACT_NOT_FOUND)
    view = rt.registry.get_connector(platform)
    auth = await authenticate(rt, view, user)
    if auth is None:
        return dict(SESSION_REVOKED)
    if not js_truthy(body.get("contactId")):
        return failure(f"Contact not found for number {js_str_absent(contact_number)}")

    captured = _capture(body, log_info, contact_number, len(correspondents) > 1)
    account_id = log_info.get("accountId")  # hashed as submitted, like the reference's route
    body = await apply_message_plugins(rt, auth.user, body, messages)
    log_info = _mapping(body.get("logInfo"), "logInfo")
    flow = _Flow(rt, view, platform, auth, captured, account_header, account_id, MessageLinks(rt))
    if js_truthy(captured.owner_name):
        await _log_shared(flow, body, log_info)
    else:
        await _log_each(flow, body, log_info)
    return flow.reply()


def _capture(
    body: Mapping[str, Any], log_info: Mapping[str, Any], contact_number: Any, is_group: bool
) -> _Captured:
    contact_type = body.get("contactType")
    contact_name = body.get("contactName")
    return _Captured(
        contact_info={
            "id": body.get("contactId"),
            "phoneNumber": contact_number,
            "type": "" if contact_type is None else contact_type,
            "name": "" if contact_name is None else contact_name,
        },
        additional_submission=given(body, "additionalSubmission"),
        is_group=is_group,
        assignee_name=_name_of(log_info.get("assignee")),
        owner_name=_name_of(log_info.get("owner")),
    )


def _conversation(flow: _Flow, log_info: Mapping[str, Any], suffix: str) -> Conversation:
    log_id = log_info.get("conversationLogId")
    if log_id is None or log_id == "":
        raise ValueError("logInfo.conversationLogId is required")
    conversation_id = log_info.get("conversationId")
    if conversation_id is not None or suffix:
        conversation_id = js_str_absent(conversation_id) + suffix
    return Conversation(
        conversation_log_id=js_str_absent(log_id) + suffix,
        conversation_id=conversation_id,
        platform=flow.platform,
        user_id=flow.auth.user.id,
    )


# -- shared SMS (one CRM log per shared thread, body regenerated on every call) -------------------


async def _log_shared(flow: _Flow, body: Mapping[str, Any], log_info: Mapping[str, Any]) -> None:
    log_format = await flow.view.get_log_format_type(flow.platform, flow.auth.proxy_config)
    content = compose_shared_sms(
        log_format=log_format if isinstance(log_format, str) else "",
        conversation=log_info,
        contact_name=flow.captured.contact_info["name"],
        timezone_offset=flow.auth.user.timezone_offset,
    )
    conv = _conversation(flow, log_info, "")
    resolution = await flow.links.resolve(conv)
    if isinstance(resolution, Existing):
        async with log_locks(flow.rt).hold(flow.platform, resolution.third_party_log_id):
            await flow.update(
                shared_sms_log_content=content,
                existing_message_log=resolution.record,
            )
        return

    async def create() -> str | None:
        result = await flow.create(
            shared_sms_log_content=content,
            hashed_account_id=flow.hashed_account_id,
        )
        return _log_id(result)

    if await _create_under_claim(flow.links, conv, None, create) is not None:
        flow.log_ids.append(conv.conversation_log_id)


# -- normal messages (one CRM log per conversation-day, one link row per message) ----------------


@dataclass
class _Normal:
    flow: _Flow
    conv: Conversation
    correspondents: list[Any]
    rc_access_token: Any


@dataclass(frozen=True, slots=True)
class _Message:
    message: Any
    id: str


async def _log_each(flow: _Flow, body: Mapping[str, Any], log_info: Mapping[str, Any]) -> None:
    messages = log_info.get("messages")
    if not isinstance(messages, list):
        raise TypeError("logInfo.messages must be a list")
    contact_id = body.get("contactId")
    suffix = f"-{js_str_absent(contact_id)}" if flow.captured.is_group else ""
    ids = [js_str_absent(_mapping(m, "message").get("id")) + suffix for m in messages]
    state = _Normal(
        flow,
        _conversation(flow, log_info, suffix),
        await _group_correspondents(flow, body, log_info) if flow.captured.is_group else [],
        log_info.get("rcAccessToken"),
    )
    # The client sends newest first; the CRM log should read oldest first. A message repeated
    # within one submission is logged once.
    todo: dict[str, _Message] = {}
    for message, message_id in reversed(list(zip(messages, ids, strict=True))):
        if suffix:  # the connector sees the suffixed id, as the reference rewrites it
            message = {**message, "id": message_id}
        todo.setdefault(message_id, _Message(message, message_id))
    while todo:
        opening = await flow.links.open_day(state.conv, list(todo))
        todo = {m: todo[m] for m in opening.todo}
        if isinstance(opening.resolution, Existing):
            # The conversation-day has its CRM log: every message left updates it.
            await _update_each(state, opening.resolution, [todo[m] for m in opening.reserved])
            return
        if isinstance(opening.resolution, Claimed):
            first = todo.pop(opening.todo[0])
            if opening.reserved and await _create(state, first, list(todo.values())):
                return
            # Another request holds the oldest message, or the CRM gave no log id: the claim is
            # back, and the next message gets its turn to create the day's log.


async def _create(state: _Normal, first: _Message, rest: list[_Message]) -> bool:
    """Create the day's CRM log with ``first``, then add ``rest`` to it; ``False``: no log.

    The rows of ``rest`` are reserved in the transaction that records the new log's id.
    """
    flow, conv, links = state.flow, state.conv, state.flow.links

    async def create() -> str | None:
        media = derive_media(first.message, state.rc_access_token)
        result = await flow.create(
            correspondents=state.correspondents,
            assignee_name=flow.captured.assignee_name,
            owner_name=flow.captured.owner_name,
            message=first.message,
            hashed_account_id=flow.hashed_account_id,
            **media.for_create(),
        )
        return _log_id(result)

    reserve_next = [m.id for m in rest]
    created = await _create_under_claim(links, conv, first.id, create, reserve_next=reserve_next)
    if created is None:
        return False
    log_id, reserved = created
    created_at = iso_instant(utcnow())
    flow.log_ids.append(first.id)
    existing = Existing(
        {
            "id": first.id,
            "platform": conv.platform,
            "conversationId": conv.conversation_id,
            "conversationLogId": conv.conversation_log_id,
            "thirdPartyLogId": log_id,
            "userId": conv.user_id,
            "createdAt": created_at,
            "updatedAt": created_at,
        }
    )
    await _update_each(state, existing, [m for m in rest if m.id in reserved])
    return True


async def _update_each(state: _Normal, existing: Existing, reserved: list[_Message]) -> None:
    """Add each reserved message to the day's CRM log, oldest first.

    A failed update releases its own reservation and those of the messages after it (they were
    not sent), so a retry logs them; then the error goes up. The updates hold the CRM log's
    lease (:mod:`appconnect.services.log_locks`): concurrent requests adding to one log take
    turns, so no connector's read-modify-write loses a message.
    """
    flow = state.flow
    if not reserved:
        return
    locks = log_locks(flow.rt)
    key = log_key(flow.platform, existing.third_party_log_id)
    try:
        owner = await locks.enter(key)
    except BaseException:  # waited too long (or cancelled): nothing was sent, retry logs all
        await _quietly(flow.links.release_messages([m.id for m in reserved]))
        raise
    try:
        await _send_updates(state, existing, reserved)
    finally:
        await locks.exit(key, owner)


async def _send_updates(state: _Normal, existing: Existing, reserved: list[_Message]) -> None:
    flow = state.flow
    for index, item in enumerate(reserved):
        try:
            media = derive_media(item.message, state.rc_access_token)
            await flow.update(
                assignee_name=flow.captured.assignee_name,
                owner_name=flow.captured.owner_name,
                existing_message_log=existing.record,
                message=item.message,
                **media.for_update(),
            )
        except BaseException:
            unsent = [m.id for m in reserved[index:]]
            await _quietly(flow.links.release_messages(unsent))
            raise
        flow.log_ids.append(item.id)


async def _group_correspondents(
    flow: _Flow, body: Mapping[str, Any], log_info: Mapping[str, Any]
) -> list[Any]:
    """Cached match lists of the other participants (skipping ones named like the contact)."""
    found: list[Any] = []
    for correspondent in log_info.get("correspondents") or []:
        number = js_str_absent(_mapping(correspondent, "correspondent").get("phoneNumber"))
        cached = await get_cached_contacts(
            flow.rt, flow.auth.user.rc_account_id, flow.platform, number
        )
        if cached and _name_of(cached[0]) != given(body, "contactName"):
            found.append(cached)
    return found


# -- claim bookkeeping ----------------------------------------------------------------------------


def _log_id(result: Mapping[str, Any]) -> str | None:
    value = result.get("logId")
    return js_str(value) if js_truthy(value) else None


async def _create_under_claim(
    links: MessageLinks,
    conv: Conversation,
    message_id: str | None,
    create: Callable[[], Awaitable[str | None]],
    *,
    reserve_next: Sequence[str] = (),
) -> tuple[str, list[str]] | None:
    """Create the CRM log while holding the claim; on any failure hand the claim back.

    ``message_id`` is the reserved message row to complete (``None`` for a shared thread, whose
    single row is inserted on success). Returns the CRM log id and which of ``reserve_next``
    were reserved for updates in the completing transaction; ``None`` if no log was created.
    """
    try:
        log_id = await create()
        if log_id is not None:
            reserved = await links.complete_claim(
                conv, log_id, message_id, shared_row=message_id is None, reserve_next=reserve_next
            )
            return log_id, reserved
    except BaseException:
        await _quietly(links.abandon_claim(conv, message_id))
        raise
    await links.abandon_claim(conv, message_id)
    return None


async def _quietly(cleanup: Awaitable[None]) -> None:
    """Run clean-up after a failure (even a cancellation) without masking the original error."""
    try:
        await asyncio.shield(cleanup)
    except (Exception, asyncio.CancelledError):
        pass
