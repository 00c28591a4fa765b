"""Deployment configuration, read from environment variables with the reference's names.

The names (``APP_SERVER_SECRET_KEY``, ``HASH_KEY``, ``DATABASE_URL`` ...) are the ones a
reference deployment already sets, so an existing ``.env`` keeps working. Variables that are ours
alone carry an ``APPCONNECT_`` prefix or are plainly new (``REDIS_URL``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger("appconnect.settings")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./appconnect.db"


class ConfigurationError(RuntimeError):
    """The deployment is configured in a way the server refuses to run with."""


def _split_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


class Settings(BaseSettings):
    """Every knob of the server. Construct with keyword arguments in tests."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, case_sensitive=True
    )

    app_server_secret_key: str | None = Field(None, alias="APP_SERVER_SECRET_KEY")
    hash_key: str | None = Field(None, alias="HASH_KEY")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    disable_sync_db_table: bool = Field(False, alias="DISABLE_SYNC_DB_TABLE")
    is_prod: bool = Field(False, alias="IS_PROD")
    app_server: str | None = Field(None, alias="APP_SERVER")
    override_app_server: str | None = Field(None, alias="OVERRIDE_APP_SERVER")
    override_server_side_logging_server: str | None = Field(
        None, alias="OVERRIDE_SERVER_SIDE_LOGGING_SERVER"
    )
    use_cache: str | None = Field(None, alias="USE_CACHE")
    admin_extension_id_dev_pass_list: str | None = Field(
        None, alias="ADMIN_EXTENSION_ID_DEV_PASS_LIST"
    )
    ringcentral_server: str | None = Field(None, alias="RINGCENTRAL_SERVER")
    ringcentral_client_id: str | None = Field(None, alias="RINGCENTRAL_CLIENT_ID")
    ringcentral_client_secret: str | None = Field(None, alias="RINGCENTRAL_CLIENT_SECRET")
    # MCP (AI assistants): the public RingCentral PKCE client and ChatGPT's domain check.
    ringcentral_mcp_client_id: str | None = Field(None, alias="RINGCENTRAL_MCP_CLIENT_ID")
    chatgpt_verification_code: str | None = Field(None, alias="CHATGPT_VERIFICATION_CODE")
    # Debug reports: the bucket named in object keys' metadata, and the local store's folder.
    error_report_s3_bucket: str = Field("error-reports-bucket", alias="ERROR_REPORT_S3_BUCKET")
    report_dir: str = Field("./error-reports", alias="APPCONNECT_REPORT_DIR")
    # Where callers' RingCentral tokens are checked (identity and admin role).
    rc_identity_server: str = Field(
        "https://platform.ringcentral.com", alias="APPCONNECT_RC_IDENTITY_SERVER"
    )
    redis_url: str | None = Field(None, alias="REDIS_URL")
    # Seconds a connector's outbound CRM call may take (connectors can override per class).
    http_timeout: float = Field(30.0, alias="APPCONNECT_HTTP_TIMEOUT")
    # Seconds one plugin-server call (token sync, invocation, licence) may take.
    plugin_timeout: float = Field(10.0, alias="APPCONNECT_PLUGIN_TIMEOUT")
    # Outbound requests/second per platform (0 = unlimited); see docs/configuration.md.
    crm_rate_limit: float = Field(0.0, alias="APPCONNECT_CRM_RATE_LIMIT")
    # Where a development server keeps its generated secrets between restarts.
    secret_file: str = Field(".appconnect-secret", alias="APPCONNECT_SECRET_FILE")
    log_level: str = Field("INFO", alias="APPCONNECT_LOG_LEVEL")
    # "text" or "json" (one JSON object per line) for `appconnect serve`'s logs.
    log_format: str = Field("text", alias="APPCONNECT_LOG_FORMAT")
    # Log every request (uvicorn's access log) under `appconnect serve`.
    access_log: bool = Field(False, alias="APPCONNECT_ACCESS_LOG")
    # Serve the developer playground page at /playground (`appconnect serve --playground`).
    playground: bool = Field(False, alias="APPCONNECT_PLAYGROUND")
    # Seconds a contact match stays in the per-account cache (the reference keeps ~3 months).
    contact_cache_ttl: int = Field(90 * 24 * 3600, alias="APPCONNECT_CONTACT_CACHE_TTL")
    # Garbage-collector thresholds applied at start-up ("" leaves Python's defaults).
    gc_threshold: str = Field("50000,50,100", alias="APPCONNECT_GC_THRESHOLD")
    # Seconds a worker reuses a user row it read (0 disables); see UserStore for why it is safe.
    user_cache_ttl: float = Field(5.0, alias="APPCONNECT_USER_CACHE_TTL")
    # Seconds after which a call-log reservation whose create never finished (the process died
    # during the CRM call) is given up, so the call can be logged again.
    stale_reservation: float = Field(600.0, alias="APPCONNECT_STALE_RESERVATION", gt=0)
    # PostgreSQL connections each process keeps (up to 2x more under bursts).
    db_pool_size: int = Field(10, alias="APPCONNECT_DB_POOL_SIZE", ge=1)
    # Seconds a stopping process waits for background work (async plugin notifications).
    drain_timeout: float = Field(10.0, alias="APPCONNECT_DRAIN_TIMEOUT", ge=0)
    # Declarative (proxy) connectors; see docs/proxy-connectors.md.
    proxy_enabled: bool = Field(False, alias="APPCONNECT_PROXY")
    proxy_config_path: str | None = Field(None, alias="APPCONNECT_PROXY_CONFIG_PATH")
    proxy_config_url: str | None = Field(None, alias="APPCONNECT_PROXY_CONFIG_URL")
    proxy_config_cache_ttl: float = Field(60.0, alias="APPCONNECT_PROXY_CONFIG_CACHE_TTL")
    proxy_secret_keys: str | None = Field(None, alias="APPCONNECT_PROXY_SECRET_KEYS")
    proxy_allowed_hosts: str | None = Field(None, alias="APPCONNECT_PROXY_ALLOWED_HOSTS")
    developer_app_server_secret_key: str | None = Field(
        None, alias="DEVELOPER_APP_SERVER_SECRET_KEY"
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = (value or "INFO").strip().upper()
        if level not in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "TRACE"):
            raise ValueError("use CRITICAL, ERROR, WARNING, INFO, DEBUG or TRACE")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        fmt = (value or "text").strip().lower()
        if fmt not in ("text", "json"):
            raise ValueError("use text or json")
        return fmt

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def admin_extension_ids(self) -> list[str]:
        return _split_list(self.admin_extension_id_dev_pass_list)

    @property
    def proxy_active(self) -> bool:
        """Serve platforms without code through the proxy connector."""
        return bool(self.proxy_enabled or self.proxy_config_path or self.proxy_config_url)

    @property
    def proxy_allowed_hosts_list(self) -> list[str]:
        return _split_list(self.proxy_allowed_hosts)

    @property
    def call_note_cache_enabled(self) -> bool:
        return bool(self.use_cache)

    def resolved(self) -> Settings:
        """Return a copy with the secrets filled in, or refuse to run.

        In production a missing ``APP_SERVER_SECRET_KEY`` is fatal: sessions and encrypted
        tokens would not survive a restart. In development we generate keys once and keep them in
        ``secret_file`` so logins keep working across restarts.
        """
        if self.app_server_secret_key and len(self.app_server_secret_key) < 32:
            logger.warning("APP_SERVER_SECRET_KEY is shorter than 32 characters; use a longer one")
        if self.app_server_secret_key and self.hash_key:
            return self
        if self.is_prod:
            if not self.app_server_secret_key:
                raise ConfigurationError(
                    "APP_SERVER_SECRET_KEY is not set. A production server (IS_PROD=true) refuses "
                    "to start without it: it signs sessions and encrypts CRM credentials at rest."
                )
            # No files in production: ids are hashed with the secret when HASH_KEY is unset.
            logger.warning("HASH_KEY is not set; hashing ids with APP_SERVER_SECRET_KEY")
            return self.model_copy(update={"hash_key": self.app_server_secret_key})
        generated = _load_or_create_dev_secrets(Path(self.secret_file))
        updates: dict[str, Any] = {}
        if not self.app_server_secret_key:
            logger.warning(
                "APP_SERVER_SECRET_KEY is not set; using a generated development key kept in %s",
                self.secret_file,
            )
            updates["app_server_secret_key"] = generated["APP_SERVER_SECRET_KEY"]
        if not self.hash_key:
            updates["hash_key"] = generated["HASH_KEY"]
        return self.model_copy(update=updates)

    @field_validator(
        "is_prod",
        "disable_sync_db_table",
        "http_timeout",
        "plugin_timeout",
        "crm_rate_limit",
        "contact_cache_ttl",
        "stale_reservation",
        "drain_timeout",
        "db_pool_size",
        "proxy_enabled",
        "proxy_config_cache_ttl",
        "access_log",
        "playground",
        mode="before",
    )
    @classmethod
    def _empty_is_default(cls, value: Any, info: Any) -> Any:
        # ``IS_PROD=`` (set but empty) is common in .env files; treat it as unset.
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value


def normalise_database_url(url: str) -> str:
    """Accept the URL forms a reference deployment uses and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith("sqlite:") and not url.startswith("sqlite+") and "//" not in url:
        # Sequelize-style "sqlite:path/to.db"
        return "sqlite+aiosqlite:///" + url[len("sqlite:") :]
    return url


def _load_or_create_dev_secrets(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("APP_SERVER_SECRET_KEY") and data.get("HASH_KEY"):
            return {k: str(v) for k, v in data.items()}
    except (OSError, ValueError):
        pass
    data = {
        "APP_SERVER_SECRET_KEY": secrets.token_urlsafe(32),
        "HASH_KEY": secrets.token_urlsafe(32),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return data


def env_aliases() -> list[str]:
    """The environment variable names the server reads (for docs and the CLI)."""
    names: list[str] = []
    for field in Settings.model_fields.values():
        alias = field.alias
        if isinstance(alias, str):
            names.append(alias)
        elif isinstance(alias, AliasChoices):  # pragma: no cover - not used today
            names.extend(str(c) for c in alias.choices)
    return names
