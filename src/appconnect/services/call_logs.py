"""Call logging flows (spec §3): the shared pieces, look-up, dispositions and the note cache.

Every flow returns the reference's result object (a dict with ``successful`` ...); routes only
shape the reply. Connector exceptions become business failures via
:func:`appconnect.services.errors.api_error_result`; a revoked CRM session comes back as
:data:`SESSION_REVOKED` (the route answers 401). Creation lives in
:mod:`appconnect.services.call_log_create` (exactly-once), updates in
:mod:`appconnect.services.call_log_update`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from appconnect.connectors.args import given
from appconnect.connectors.registry import ConnectorView
from appconnect.connectors.results import to_wire
from appconnect.jsvalues import js_str, js_to_number, js_truthy
from appconnect.runtime import Runtime
from appconnect.security.hashing import MISSING, hash_id
from appconnect.services.call_log_store import (
    CallLogLink,
    CallLogStore,
    Identity,
    identity_from_body,
)
from appconnect.services.credentials import AuthContext, authenticate
from appconnect.services.errors import (
    DB_FAILURE_MESSAGE,
    SESSION_REVOKED,
    api_error_result,
    failure,
)
from appconnect.services.log_locks import log_locks
from appconnect.services.note_cache import NoteCache
from appconnect.services.plugins import runtime as plugin_runtime
from appconnect.store.users import User

logger = logging.getLogger("appconnect.call_logs")

MAX_LOOKUP_SESSIONS = 5
DEFAULT_LOG_FORMAT = "text/plain"


class InvalidLogRequest(ValueError):
    """The body cannot identify a call.

    The reference fails such a request inside its handler (its database look-up throws), which
    answers ``200 {"successful": false, "returnMessage": {...}}``; the route keeps that status
    and those keys with a message naming what is missing (docs/departures.md).
    """


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as the routes extract it from the request."""

    user_id: str
    platform: str
    rc_account_header: str | None = None  # header ``rc-account-id`` (already hashed)
    is_from_sscl: bool = False

    @property
    def owner(self) -> dict[str, str]:
        """The scope of every link look-up: the caller's own records only."""
        return {"user_id": self.user_id, "platform": self.platform}


# -- plugin seams (the runtime lives in appconnect.services.plugins) -------------------------


async def run_sync_plugins(
    rt: Runtime, *, user: User, body: dict[str, Any], operation: str
) -> dict[str, Any]:
    """Synchronous call plugins (plugins.md §7): the payload each installed one hands back.

    ``operation`` is ``createCallLog`` or ``updateCallLog``; a plugin failure raises and fails
    the log like a CRM error.
    """
    del operation  # both operations send the payload as it is
    return await plugin_runtime.run_call_plugins(rt, user=user, body=body)


async def dispatch_async_plugins(
    rt: Runtime,
    *,
    user: User,
    operation: str,
    body: Mapping[str, Any],
    link: CallLogLink,
    caller: Caller | None = None,
) -> None:
    """Asynchronous call plugins (plugins.md §8), after the CRM write; never raises."""
    hashed = None
    if caller is not None:
        raw = obj(body.get("logInfo")).get("accountId", body.get("accountId", MISSING))
        hashed = hashed_account_id(rt, caller, raw)
    await plugin_runtime.dispatch_call_plugins(
        rt,
        user=user,
        operation=operation,
        body=body,
        link=link,
        hashed_account_id=hashed,
        is_from_sscl=caller.is_from_sscl if caller is not None else False,
    )


# -- shared helpers -------------------------------------------------------------------------


def link_store(rt: Runtime) -> CallLogStore:
    store = rt.state.get("call_log_store")
    if not isinstance(store, CallLogStore):
        stale_after = timedelta(seconds=rt.settings.stale_reservation)
        store = rt.state["call_log_store"] = CallLogStore(rt.db, stale_after)
    return store


def note_cache(rt: Runtime) -> NoteCache:
    cache = rt.state.get("note_cache")
    if not isinstance(cache, NoteCache):
        cache = rt.state["note_cache"] = NoteCache(rt.db)
    return cache


def obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one (absent nested objects read as empty)."""
    return value if isinstance(value, Mapping) else {}


def coalesce(*values: Any) -> Any:
    """``a ?? b ?? ...`` (``None`` when all are null/absent)."""
    return next((v for v in values if v is not None), None)


def pick(result: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The keys ``result`` has (JavaScript ``undefined`` keys are simply left out)."""
    return {k: result[k] for k in keys if k in result}


def hashed_account_id(rt: Runtime, caller: Caller, account_id: Any) -> str:
    """Header ``rc-account-id``, else the server-side hash of the body's account id."""
    if caller.rc_account_header:
        return caller.rc_account_header
    return hash_id(account_id, rt.hash_key)


def ring_sense(body: Mapping[str, Any]) -> dict[str, Any]:
    """The five RingSense values for the composer (absent reads as ``None``)."""
    return {name: body.get(key) for name, key in _RING_SENSE}


def ring_sense_args(body: Mapping[str, Any]) -> dict[str, Any]:
    """The five RingSense connector arguments (absent: :data:`UNSET`)."""
    return {name: given(body, key) for name, key in _RING_SENSE}


_RING_SENSE = (
    ("ring_sense_transcript", "ringSenseTranscript"),
    ("ring_sense_summary", "ringSenseSummary"),
    ("ring_sense_ai_score", "ringSenseAIScore"),
    ("ring_sense_bulleted_summary", "ringSenseBulletedSummary"),
    ("ring_sense_link", "ringSenseLink"),
)


async def log_format(view: ConnectorView, platform: str, proxy_config: Any) -> str:
    """``getLogFormatType(platform, proxyConfig)``; connectors without it write plain text."""
    if not view.has("getLogFormatType"):
        return DEFAULT_LOG_FORMAT
    return js_str(await view.get_log_format_type(platform, proxy_config))


async def user_with_token(rt: Runtime, user_id: str) -> User | None:
    """The user by primary key, or ``None`` when missing or without an access token."""
    user = await rt.users.get(user_id)
    return user if user is not None and user.access_token else None


async def get_call_log(view: ConnectorView, auth: AuthContext, link: CallLogLink) -> dict[str, Any]:
    """The connector's ``getCallLog`` for one link row, as a wire dict."""
    result = to_wire(
        await view.get_call_log(
            user=auth.user,
            telephony_session_id=link.id,
            call_log_id=link.third_party_log_id,
            contact_id=link.contact_id,
            auth_header=auth.auth_header,
            proxy_config=auth.proxy_config,
        )
    )
    return result if isinstance(result, dict) else {}


# -- GET /callLog ---------------------------------------------------------------------------


async def lookup_call_logs(
    rt: Runtime,
    caller: Caller,
    *,
    session_ids: str | None,
    identity: Identity,
    require_details: bool,
) -> dict[str, Any]:
    """Which of (up to five) sessions are logged, optionally with the CRM's view of each log."""
    try:
        user = await user_with_token(rt, caller.user_id)
        if user is None or not session_ids:
            return {"successful": False}
        ids = session_ids.split(",")[:MAX_LOOKUP_SESSIONS]
        if not require_details:
            links = await link_store(rt).find_many(ids, identity, **caller.owner)
            return {"successful": True, "logs": [_entry(sid, links.get(sid)) for sid in ids]}
        return await _lookup_with_details(rt, caller, user, ids, identity)
    except Exception as exc:
        return api_error_result(exc, caller.platform, "getCallLog")


def _entry(session_id: str, link: CallLogLink | None) -> dict[str, Any]:
    if link is None:
        return {"sessionId": session_id, "matched": False}
    return {"sessionId": link.session_id, "matched": True, "logId": link.third_party_log_id}


async def _lookup_with_details(
    rt: Runtime, caller: Caller, user: User, ids: list[str], identity: Identity
) -> dict[str, Any]:
    view = rt.registry.get_connector(caller.platform)
    auth = await authenticate(rt, view, user)
    if auth is None:
        return SESSION_REVOKED
    links = await link_store(rt).find_many(ids, identity, **caller.owner)
    logs: list[dict[str, Any]] = []
    last: dict[str, Any] = {"returnMessage": None}
    for session_id in ids:
        link = links.get(session_id)
        if js_to_number(session_id) == 0 or link is None:  # ``id == 0`` in the reference
            logs.append(_entry(session_id, None))
            continue
        last = await get_call_log(view, auth, link)
        entry = _entry(session_id, link)
        if "callLogInfo" in last:
            entry["logData"] = last["callLogInfo"]
        logs.append(entry)
    return {"successful": True, "logs": logs, **pick(last, "returnMessage")}


# -- PUT /callDisposition -------------------------------------------------------------------


async def upsert_call_disposition(
    rt: Runtime, caller: Caller, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Write dispositions onto a logged call (spec §3.6); identity from top-level keys only."""
    identity = identity_from_body(body, rt.hash_key, nested=False, hash_raw=False)
    session_id = body.get("sessionId")
    if session_id is None:
        raise InvalidLogRequest("sessionId is required")
    try:
        link = await link_store(rt).find(js_str(session_id), identity, **caller.owner)
        if link is None:
            return failure("Cannot find log", ttl=3000)
        user = await rt.users.get(caller.user_id)
    except SQLAlchemyError:
        logger.exception("disposition look-up failed for session %s", session_id)
        return failure(DB_FAILURE_MESSAGE)
    if user is None:
        return failure("Cannot find user", ttl=3000)
    try:
        view = rt.registry.get_connector(caller.platform)
        auth = await authenticate(rt, view, user)
        if auth is None:
            return SESSION_REVOKED
        async with log_locks(rt).hold(caller.platform, link.third_party_log_id):
            result = to_wire(
                await view.upsert_call_disposition(
                    user=auth.user,
                    existing_call_log=link.to_wire(),
                    auth_header=auth.auth_header,
                    dispositions=given(body, "dispositions"),
                    proxy_config=auth.proxy_config,
                )
            )
    except Exception as exc:
        return api_error_result(exc, caller.platform, "upsertCallDisposition")
    result = obj(result)
    return {"successful": js_truthy(result.get("logId")), **pick(result, "returnMessage")}


# -- POST /callLog/cacheNote ----------------------------------------------------------------


async def cache_note(
    rt: Runtime, platform: str, body: Mapping[str, Any], *, user_id: str
) -> dict[str, Any]:
    """Keep the user's note for an hour, for server-side logging to pick up (spec §3.5).

    The note is the caller's: only the same user on the same platform reads it back.
    """
    session_id, note = body.get("sessionId"), body.get("note")
    try:
        if session_id is None or session_id == "" or not isinstance(note, str):
            raise ValueError("sessionId and a string note are required")
        await note_cache(rt).save(js_str(session_id), note, user_id=user_id, platform=platform)
    except Exception as exc:
        return api_error_result(exc, platform, "saveNoteCache")
    return {"successful": True, "returnMessage": "Note cache saved"}
