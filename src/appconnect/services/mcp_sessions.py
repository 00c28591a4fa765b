"""MCP state (mcp.md §5-7, §11): CRM auth sessions, the extension-id cache, ``llmSessions``,
widget session tokens, and the CRM session token a tool call runs with.

Auth sessions and the extension-id cache are rows of the generic ``caches`` table; ``llmSessions``
maps a RingCentral extension id to a CRM session token. Nothing is kept in memory between
requests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import delete, select

from appconnect.runtime import Runtime
from appconnect.security.hashing import hash_id
from appconnect.services.sessions import is_current, issue_session
from appconnect.store.models import CacheRow, LlmSessionRow, UserRow, utcnow
from appconnect.store.users import User

AUTH_PENDING = timedelta(minutes=5)
AUTH_SETTLED = timedelta(minutes=15)
EXTENSION_CACHE = timedelta(hours=24)
LLM_SESSION = timedelta(days=7)
WIDGET_TOKEN_SECONDS = 15 * 60
WIDGET_TOKEN_TYPE = "mcp-widget-session"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


async def _put_cache(
    rt: Runtime, row_id: str, *, user_id: str, key: str, status: str, data: Any, ttl: timedelta
) -> None:
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, row_id)
        if row is None:
            row = CacheRow(id=row_id)
            session.add(row)
        row.user_id, row.cache_key, row.status, row.data = user_id, key, status, data
        row.expiry = utcnow() + ttl
        row.updated_at = utcnow()


# -- auth sessions (§6) ---------------------------------------------------------------------


def _auth_id(session_id: str) -> str:
    return f"auth-session-{session_id}"


async def create_auth_session(rt: Runtime, session_id: str, data: dict[str, Any]) -> None:
    """Start (or restart) a pending CRM auth session."""
    payload = {**data, "createdAt": _iso(utcnow())}
    await _put_cache(
        rt, _auth_id(session_id), user_id=session_id, key="auth-session", status="pending",
        data=payload, ttl=AUTH_PENDING,
    )  # fmt: skip


async def get_auth_session(rt: Runtime, session_id: str) -> dict[str, Any] | None:
    """``{sessionId, status, ...data}``; an expired session is marked and reported ``expired``."""
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, _auth_id(session_id))
        if row is None:
            return None
        data = dict(row.data or {})
        expiry = _aware(row.expiry)
        if expiry is not None and expiry <= utcnow():
            row.status = "expired"
            return {"sessionId": session_id, **data, "status": "expired"}
        return {"sessionId": session_id, **data, "status": row.status}


async def update_auth_session(rt: Runtime, session_id: str, updates: dict[str, Any]) -> None:
    """Merge ``updates`` into a session (no-op when missing); the expiry follows the status."""
    async with rt.db.transaction() as session:
        row = await session.get(CacheRow, _auth_id(session_id))
        if row is None:
            return
        status = updates.get("status", row.status)
        row.data = {**(row.data or {}), **updates, "updatedAt": _iso(utcnow())}
        row.status = status
        row.expiry = utcnow() + (AUTH_PENDING if status == "pending" else AUTH_SETTLED)
        row.updated_at = utcnow()


# -- the extension-id cache (§5.1) ----------------------------------------------------------


def _extension_key(openai_session_id: str) -> str:
    return f"{openai_session_id}-rcExtensionId"


async def cached_extension_id(rt: Runtime, openai_session_id: str) -> str | None:
    async with rt.db.session() as session:
        row = await session.get(CacheRow, _extension_key(openai_session_id))
    if row is None:
        return None
    expiry = _aware(row.expiry)
    if expiry is not None and expiry <= utcnow():
        return None
    value = (row.data or {}).get("rcExtensionId")
    return str(value) if value else None


async def remember_extension_id(rt: Runtime, openai_session_id: str, extension_id: str) -> None:
    await _put_cache(
        rt, _extension_key(openai_session_id), user_id=openai_session_id, key="rcExtensionId",
        status="resolved", data={"rcExtensionId": extension_id}, ttl=EXTENSION_CACHE,
    )  # fmt: skip


async def forget_extension_id(rt: Runtime, openai_session_id: str) -> None:
    async with rt.db.transaction() as session:
        await session.execute(
            delete(CacheRow).where(CacheRow.id == _extension_key(openai_session_id))
        )


# -- llmSessions (§5.2) ---------------------------------------------------------------------


async def get_llm_session(rt: Runtime, key: str, *, check_expiry: bool = True) -> str | None:
    """The stored CRM token for ``key``; an expired row is deleted (unless ``check_expiry``
    is off, the legacy fallback's rule)."""
    async with rt.db.transaction() as session:
        row = await session.get(LlmSessionRow, key)
        if row is None:
            return None
        expiry = _aware(row.expiry)
        if check_expiry and expiry is not None and expiry <= utcnow():
            await session.delete(row)
            return None
        return row.jwt_token or None


async def put_llm_session(rt: Runtime, key: str, token: str) -> None:
    async with rt.db.transaction() as session:
        row = await session.get(LlmSessionRow, key)
        if row is None:
            row = LlmSessionRow(id=key)
            session.add(row)
        row.jwt_token = token
        row.expiry = utcnow() + LLM_SESSION
        row.updated_at = utcnow()


async def delete_llm_sessions(rt: Runtime, *keys: str) -> None:
    wanted = [key for key in dict.fromkeys(keys) if key]
    if not wanted:
        return
    async with rt.db.transaction() as session:
        await session.execute(delete(LlmSessionRow).where(LlmSessionRow.id.in_(wanted)))


# -- CRM users and tokens -------------------------------------------------------------------


async def connected_user(rt: Runtime, user_id: Any) -> User | None:
    """The user, when it exists and holds a CRM access token."""
    user = await rt.users.get(user_id)
    return user if user is not None and user.access_token else None


async def extension_user(rt: Runtime, extension_id: str) -> User | None:
    """The most recently updated connected user the browser extension linked to this extension."""
    hashed = hash_id(extension_id, rt.hash_key)
    async with rt.db.session() as session:
        ids = (
            await session.scalars(
                select(UserRow.id)
                .where(UserRow.hashed_rc_extension_id == hashed)
                .order_by(UserRow.updated_at.desc())
            )
        ).all()
    for user_id in ids:
        user = await connected_user(rt, user_id)
        if user is not None:
            return user
    return None


async def verified_claims(rt: Runtime, token: str | None) -> dict[str, Any] | None:
    """The claims of a CRM session token that verifies and was not logged out, else ``None``."""
    claims = rt.sessions.verify(token) if token else None
    if claims is None:
        return None
    if claims.get("id") is not None and not await is_current(rt, claims):
        return None
    return claims


async def crm_token_for(
    rt: Runtime, extension_id: str, openai_session_id: str | None
) -> str | None:
    """§5.2: the CRM session token to inject for this extension, or ``None``."""
    token = await get_llm_session(rt, extension_id)
    if token is None and openai_session_id:
        legacy = await get_llm_session(rt, openai_session_id, check_expiry=False)
        claims = await verified_claims(rt, legacy)
        if legacy and claims and await connected_user(rt, claims.get("id")):
            token = legacy
            await put_llm_session(rt, extension_id, token)
        else:
            user = await extension_user(rt, extension_id)
            if user is not None:
                token = await issue_session(rt, user.id, user.platform or "")
                await put_llm_session(rt, extension_id, token)
    if token is None:
        return None
    claims = await verified_claims(rt, token)  # a stale row (expired, rotated secret): absent
    if claims is None or await connected_user(rt, claims.get("id")) is None:
        return None
    return token


# -- widget session tokens (§7.1) -----------------------------------------------------------


def issue_widget_token(rt: Runtime, extension_id: str, openai_session_id: str | None) -> str:
    claims = {
        "type": WIDGET_TOKEN_TYPE,
        "rcExtensionId": str(extension_id),
        "openaiSessionId": openai_session_id,
        "exp": int(time.time()) + WIDGET_TOKEN_SECONDS,
    }
    return jwt.encode(claims, rt.secret.encode("utf-8"), algorithm="HS256")


def verify_widget_token(rt: Runtime, token: Any) -> dict[str, Any] | None:
    """``{rcExtensionId, openaiSessionId}`` of a valid widget token, else ``None``."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = jwt.decode(token, rt.secret.encode("utf-8"), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    extension_id = claims.get("rcExtensionId")
    if claims.get("type") != WIDGET_TOKEN_TYPE:
        return None
    if not isinstance(extension_id, str) or not extension_id:
        return None
    session_id = claims.get("openaiSessionId")
    return {
        "rcExtensionId": extension_id,
        "openaiSessionId": session_id if isinstance(session_id, str) else None,
    }
