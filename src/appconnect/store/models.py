"""Tables, with the reference's table and column names.

Names follow the reference (Sequelize defaults: camelCase columns, ``createdAt``/``updatedAt``),
so that a database written by a reference deployment can be adopted. Python attributes are
snake_case. Extra indexes are ours: every lookup path of the request cycle is indexed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        "createdAt", DateTime(timezone=True), default=utcnow, nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        "updatedAt", DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


class UserRow(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    rc_account_id: Mapped[str | None] = mapped_column("rcAccountId", String(255))
    hostname: Mapped[str | None] = mapped_column(String(255))
    timezone_name: Mapped[str | None] = mapped_column("timezoneName", String(255))
    timezone_offset: Mapped[str | None] = mapped_column("timezoneOffset", String(255))
    platform: Mapped[str | None] = mapped_column(String(255))
    # Encrypted at rest (appconnect.security.SecretBox); ciphertext is longer than the token.
    access_token: Mapped[str | None] = mapped_column("accessToken", Text)
    refresh_token: Mapped[str | None] = mapped_column("refreshToken", Text)
    token_expiry: Mapped[datetime | None] = mapped_column("tokenExpiry", DateTime(timezone=True))
    platform_additional_info: Mapped[dict[str, Any] | None] = mapped_column(
        "platformAdditionalInfo", JSON
    )
    hashed_rc_extension_id: Mapped[str | None] = mapped_column("hashedRcExtensionId", String(255))
    user_settings: Mapped[dict[str, Any] | None] = mapped_column("userSettings", JSON)


class CallLogRow(Timestamps, Base):
    """Links one RingCentral call (per extension identity) to one CRM activity.

    The composite primary key is what makes "one CRM log per call" hold under races: a second
    insert for the same session and identity fails in the database, not in a check.
    """

    __tablename__ = "callLogs"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    session_id: Mapped[str] = mapped_column("sessionId", String(255), primary_key=True)
    extension_number: Mapped[str] = mapped_column(
        "extensionNumber", String(255), primary_key=True, default="", server_default=""
    )
    hashed_extension_id: Mapped[str] = mapped_column(
        "hashedExtensionId", String(255), primary_key=True, default="", server_default=""
    )
    platform: Mapped[str | None] = mapped_column(String(255))
    third_party_log_id: Mapped[str | None] = mapped_column("thirdPartyLogId", String(255))
    user_id: Mapped[str | None] = mapped_column("userId", String(255))
    contact_id: Mapped[str | None] = mapped_column("contactId", String(255))

    __table_args__ = (Index("ix_callLogs_sessionId", "sessionId"),)


class MessageLogRow(Timestamps, Base):
    __tablename__ = "messageLogs"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str | None] = mapped_column(String(255))
    conversation_id: Mapped[str | None] = mapped_column("conversationId", String(255))
    conversation_log_id: Mapped[str | None] = mapped_column("conversationLogId", String(255))
    third_party_log_id: Mapped[str | None] = mapped_column("thirdPartyLogId", String(255))
    user_id: Mapped[str | None] = mapped_column("userId", String(255))

    __table_args__ = (Index("ix_messageLogs_conversationLogId", "conversationLogId"),)


class ConversationLogRow(Timestamps, Base):
    """Ours: one row per CRM message log (conversation per day), claimed before it is created.

    ``messageLogs`` has one row per message, so it cannot say "this conversation-day already has
    a CRM log" atomically. This table's primary key can: the first request to insert it creates the
    CRM log, concurrent ones wait for its ``thirdPartyLogId`` and update instead. The key is a
    digest of (platform, user id, conversationLogId): each user claims their own conversation-days
    (see ``Conversation.claim_key`` in appconnect.services.message_links).
    """

    __tablename__ = "appconnectConversationLogs"

    conversation_log_id: Mapped[str] = mapped_column(
        "conversationLogId", String(255), primary_key=True
    )
    platform: Mapped[str | None] = mapped_column(String(255))
    third_party_log_id: Mapped[str | None] = mapped_column("thirdPartyLogId", String(255))
    user_id: Mapped[str | None] = mapped_column("userId", String(255))


class AdminConfigRow(Timestamps, Base):
    __tablename__ = "adminConfigs"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_settings: Mapped[dict[str, Any] | None] = mapped_column("userSettings", JSON)
    custom_adapter: Mapped[dict[str, Any] | None] = mapped_column("customAdapter", JSON)
    admin_access_token: Mapped[str | None] = mapped_column("adminAccessToken", Text)
    admin_refresh_token: Mapped[str | None] = mapped_column("adminRefreshToken", Text)
    admin_token_expiry: Mapped[datetime | None] = mapped_column(
        "adminTokenExpiry", DateTime(timezone=True)
    )
    user_mappings: Mapped[Any] = mapped_column("userMappings", JSON)


class AccountDataRow(Timestamps, Base):
    __tablename__ = "accountData"

    rc_account_id: Mapped[str] = mapped_column("rcAccountId", String(255), primary_key=True)
    platform_name: Mapped[str] = mapped_column("platformName", String(255), primary_key=True)
    data_key: Mapped[str] = mapped_column("dataKey", String(255), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)


class CacheRow(Timestamps, Base):
    __tablename__ = "caches"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column("userId", String(255))
    cache_key: Mapped[str | None] = mapped_column("cacheKey", String(255))
    data: Mapped[Any] = mapped_column(JSON)
    expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class CallDownListRow(Timestamps, Base):
    __tablename__ = "callDownLists"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str | None] = mapped_column("userId", String(255), index=True)
    contact_id: Mapped[str | None] = mapped_column("contactId", String(255))
    contact_type: Mapped[str | None] = mapped_column("contactType", String(255), default="contact")
    status: Mapped[str | None] = mapped_column(String(255), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(
        "scheduledAt", DateTime(timezone=True), index=True
    )
    last_call_at: Mapped[datetime | None] = mapped_column("lastCallAt", DateTime(timezone=True))

    __table_args__ = (Index("ix_callDownLists_userId_status", "userId", "status"),)


class NoteCacheRow(Base):
    """The reference keeps this in DynamoDB; any store with per-item expiry will do."""

    __tablename__ = "noteCache"

    session_id: Mapped[str] = mapped_column("sessionId", String(255), primary_key=True)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    ttl: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)


class LlmSessionRow(Timestamps, Base):
    """MCP: the CRM session token an AI assistant uses, keyed by RingCentral extension id.

    ``jwtToken`` is a text column (the reference's 255 characters can cut a long token short).
    """

    __tablename__ = "llmSessions"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    jwt_token: Mapped[str | None] = mapped_column("jwtToken", Text)
    expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionGenerationRow(Base):
    """Ours: the current session generation of a user who has logged out at least once.

    A session token carries the generation it was issued under (claim ``sg``; none before the
    first logout). Logging out stores a fresh random generation, which refuses every token issued
    before. The row outlives the ``users`` row on purpose: a connector may delete the user on
    logout, and a later login under the same id must not bring the old tokens back.
    """

    __tablename__ = "appconnectSessionGenerations"

    user_id: Mapped[str] = mapped_column("userId", String(255), primary_key=True)
    generation: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        "updatedAt", DateTime(timezone=True), default=utcnow, nullable=False
    )


class LogLockRow(Base):
    """Ours: a lease on one CRM log, held while a request updates it (see services.log_locks).

    Updating a CRM log is a read-modify-write in most connectors (fetch the body, append, write
    it back); two concurrent updates of one log would lose one of the two. The row serializes
    them across worker processes; ``expiresAt`` frees the lease of a process that died.
    """

    __tablename__ = "appconnectLogLocks"

    lock_key: Mapped[str] = mapped_column("lockKey", String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(
        "expiresAt", DateTime(timezone=True), nullable=False
    )


class ProxyConfigRow(Timestamps, Base):
    """A declarative (proxy) connector config, selected by the users' ``proxyId``.

    ``config`` is the unchanged config JSON; ``secretKey`` is the connector secret templates see
    as ``{{secretKey}}``, encrypted at rest (``SecretBox``) and never part of ``config``.
    """

    __tablename__ = "proxyConfigs"

    proxy_id: Mapped[str] = mapped_column("proxyId", String(255), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    secret_key: Mapped[str | None] = mapped_column("secretKey", Text)
