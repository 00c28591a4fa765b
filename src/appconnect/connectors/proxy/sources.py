"""Where proxy configs come from, selected by the user's ``proxyId`` (spec §2).

Three sources, asked in this order:

1. the ``proxyConfigs`` database table (:func:`put_config` adds or replaces one; it is taken at
   once by this process and within the cache TTL by others, without a restart);
2. JSON files loaded at start-up (``APPCONNECT_PROXY_CONFIG_PATH``: one file, or a directory of
   ``<proxyId>.json`` files);
3. a remote URL (``APPCONNECT_PROXY_CONFIG_URL``, the Developer Console model), cached for
   ``APPCONNECT_PROXY_CONFIG_CACHE_TTL`` seconds.

A config is always the unchanged config JSON. Its ``secretKey`` never comes from the document
itself: it is injected from a separately stored secret (the table's encrypted column,
``APPCONNECT_PROXY_SECRET_KEYS`` for files, the record's ``encodedSecretKey`` for the remote
source). In the table, an OAuth config's ``auth.clientSecret`` is stored encrypted too and
decrypted on read. A config with errors (see :mod:`.validate`) is logged and treated as missing,
so a bad config never takes the server down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from appconnect.connectors.proxy.validate import check_config, errors
from appconnect.security.crypto import reference_decrypt
from appconnect.store.db import conflict_insert
from appconnect.store.models import ProxyConfigRow, utcnow

if TYPE_CHECKING:
    from appconnect.runtime import Runtime
    from appconnect.security import SecretBox
    from appconnect.store.db import Database

logger = logging.getLogger("appconnect.proxy")

_TABLE = ProxyConfigRow.__table__
_MISS = object()


class ProxyConfigError(ValueError):
    """A config file or document that cannot be used (with the problems found)."""


def usable(proxy_id: str, config: Any, source: str) -> dict[str, Any] | None:
    """The config without an authored ``secretKey``, or ``None`` (logged) when it has errors."""
    problems = errors(check_config(config))
    if problems:
        for problem in problems:
            logger.error("proxy config %s from %s refused: %s", proxy_id, source, problem)
        return None
    assert isinstance(config, dict)
    return {k: v for k, v in config.items() if k != "secretKey"}


def with_secret(config: dict[str, Any], secret: Any) -> dict[str, Any]:
    if isinstance(secret, str) and secret:
        return {**config, "secretKey": secret}
    return config


def read_config_files(path: Path) -> tuple[dict[str, Any], list[str]]:
    """``{proxyId: raw document}`` from a file or a directory of ``*.json``, and read errors."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    found: dict[str, Any] = {}
    problems: list[str] = []
    for file in files:
        try:
            found[file.stem] = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{file}: {exc}")
    return found, problems


def parse_secret_keys(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        logger.error("APPCONNECT_PROXY_SECRET_KEYS is not a JSON object; ignored")
        return {}
    if not isinstance(data, dict):
        logger.error("APPCONNECT_PROXY_SECRET_KEYS is not a JSON object; ignored")
        return {}
    return {str(k): str(v) for k, v in data.items()}


# -- the database table ------------------------------------------------------------------------


def sealed_client_secret(document: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    """The document with ``auth.clientSecret`` encrypted (what the table stores)."""
    auth = document.get("auth")
    if isinstance(auth, Mapping) and isinstance(auth.get("clientSecret"), str):
        document = {**document, "auth": {**auth, "clientSecret": box.encrypt(auth["clientSecret"])}}
    return document


def opened_client_secret(document: Any, box: SecretBox) -> Any:
    """A stored document with ``auth.clientSecret`` decrypted (plain legacy values kept)."""
    auth = document.get("auth") if isinstance(document, Mapping) else None
    if isinstance(auth, Mapping) and isinstance(auth.get("clientSecret"), str):
        document = {**document, "auth": {**auth, "clientSecret": box.decrypt(auth["clientSecret"])}}
    return document


async def store_config(
    db: Database,
    box: SecretBox,
    proxy_id: str,
    config: Mapping[str, Any],
    secret_key: str | None = None,
) -> None:
    """Add or replace a config in the table (refused with :class:`ProxyConfigError`).

    ``secret_key`` is stored encrypted; an authored ``secretKey`` in ``config`` is dropped.
    """
    problems = errors(check_config(config))
    if problems:
        raise ProxyConfigError("; ".join(str(p) for p in problems))
    document = sealed_client_secret(
        {k: v for k, v in config.items() if k != "secretKey"}, box
    )
    stored_secret = box.encrypt(secret_key) if secret_key else None
    now = utcnow()
    insert = conflict_insert(db.dialect)

    def work(conn: Connection) -> None:
        statement = insert(_TABLE).values(
            proxyId=proxy_id,
            config=document,
            secretKey=stored_secret,
            createdAt=now,
            updatedAt=now,
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["proxyId"],
                set_={"config": document, "secretKey": stored_secret, "updatedAt": now},
            )
        )

    await db.write(work)


async def remove_config(db: Database, proxy_id: str) -> bool:
    """Delete a stored config; ``False`` when there was none."""

    def work(conn: Connection) -> bool:
        result = conn.execute(delete(ProxyConfigRow).where(ProxyConfigRow.proxy_id == proxy_id))
        return bool(result.rowcount)

    return await db.write(work)


# -- the resolver ------------------------------------------------------------------------------


class ProxyConfigs:
    """The config for a ``proxyId``, from the database, files and a remote URL (in that order).

    Pass ``configs`` (``{proxyId: config}``) to serve configs from memory, e.g. in tests.
    """

    def __init__(
        self,
        configs: Mapping[str, Any] | None = None,
        *,
        secret_keys: Mapping[str, str] | None = None,
        path: str | Path | None = None,
        url: str | None = None,
        use_database: bool = True,
        cache_ttl: float = 60.0,
        developer_secret: str | None = None,
    ) -> None:
        self._raw = dict(configs or {})
        self._secrets = dict(secret_keys or {})
        self._path = Path(path) if path else None
        self._url = url
        self._use_database = use_database
        self._ttl = cache_ttl
        self._developer_secret = developer_secret
        self._static: dict[str, dict[str, Any] | None] = {}
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._runtime: Runtime | None = None
        self._build_static(self._raw, "memory")

    def _build_static(self, raw: Mapping[str, Any], source: str) -> None:
        for proxy_id, document in raw.items():
            config = usable(proxy_id, document, source)
            self._static[proxy_id] = (
                with_secret(config, self._secrets.get(proxy_id)) if config else None
            )

    async def load_files(self) -> None:
        """Read ``path`` (start-up); unreadable or invalid files are logged and skipped."""
        if self._path is None:
            return
        if not self._path.exists():
            logger.error("APPCONNECT_PROXY_CONFIG_PATH %s does not exist", self._path)
            return
        found, problems = await asyncio.to_thread(read_config_files, self._path)
        for problem in problems:
            logger.error("proxy config file refused: %s", problem)
        self._build_static(found, str(self._path))
        logger.info("loaded %d proxy config(s) from %s", len(found), self._path)

    def attach(self, runtime: Runtime) -> None:
        self._runtime = runtime
        runtime.state["proxy_configs"] = self

    def forget(self, proxy_id: str) -> None:
        self._cache.pop(proxy_id, None)

    async def put(
        self, proxy_id: str, config: Mapping[str, Any], secret_key: str | None = None
    ) -> None:
        """Store ``config`` in the database; this process uses it at once, others within the TTL."""
        if self._runtime is None:
            raise RuntimeError("the proxy configs are not attached to a running server yet")
        await store_config(self._runtime.db, self._runtime.box, proxy_id, config, secret_key)
        self.forget(proxy_id)

    async def delete(self, proxy_id: str) -> bool:
        if self._runtime is None:
            raise RuntimeError("the proxy configs are not attached to a running server yet")
        removed = await remove_config(self._runtime.db, proxy_id)
        self.forget(proxy_id)
        return removed

    async def get(self, proxy_id: str) -> dict[str, Any] | None:
        """The usable config for ``proxy_id`` (with its ``secretKey``), or ``None``."""
        if not proxy_id:
            return None
        cached = self._cache.get(proxy_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        config: Any = _MISS
        if self._use_database and self._runtime is not None:
            config = await self._from_database(proxy_id)
        if config is _MISS and proxy_id in self._static:
            config = self._static[proxy_id]
        if config is _MISS and self._url and self._runtime is not None:
            config = await self._from_url(proxy_id)
        result: dict[str, Any] | None = None if config is _MISS else config
        self._remember(proxy_id, result)
        return result

    def _remember(self, proxy_id: str, config: dict[str, Any] | None) -> None:
        if self._ttl > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[proxy_id] = (time.monotonic() + self._ttl, config)

    async def _from_database(self, proxy_id: str) -> Any:
        assert self._runtime is not None
        runtime = self._runtime
        query = select(_TABLE.c.config, _TABLE.c.secretKey).where(_TABLE.c.proxyId == proxy_id)

        def work(conn: Connection) -> Any:
            return conn.execute(query).first()

        row = await runtime.db.read(work)
        if row is None:
            return _MISS
        config = usable(proxy_id, opened_client_secret(row[0], runtime.box), "database")
        if config is None:
            return None
        return with_secret(config, runtime.box.decrypt(row[1]))

    async def _from_url(self, proxy_id: str) -> Any:
        assert self._runtime is not None and self._url is not None
        if "{proxyId}" in self._url:
            url = self._url.replace("{proxyId}", quote(proxy_id, safe=""))
        else:
            url = f"{self._url}{'&' if '?' in self._url else '?'}proxyId={quote(proxy_id, safe='')}"
        response = await self._runtime.http.client().get(url, timeout=10.0)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        record = response.json()
        secret: str | None = None
        document = record
        if isinstance(record, Mapping) and "proxyConfig" in record:
            document = record["proxyConfig"]
            encoded = record.get("encodedSecretKey")
            if encoded:
                if not self._developer_secret:
                    raise ProxyConfigError(
                        "DEVELOPER_APP_SERVER_SECRET_KEY is needed to decrypt encodedSecretKey"
                    )
                secret = reference_decrypt(str(encoded), self._developer_secret)
        config = usable(proxy_id, document, "remote URL")
        return with_secret(config, secret) if config is not None else None


def configs_from_settings(runtime: Runtime) -> ProxyConfigs:
    """The sources ``Settings`` describe, attached to ``runtime`` (files read later)."""
    settings = runtime.settings
    configs = ProxyConfigs(
        secret_keys=parse_secret_keys(settings.proxy_secret_keys),
        path=settings.proxy_config_path,
        url=settings.proxy_config_url,
        cache_ttl=settings.proxy_config_cache_ttl,
        developer_secret=settings.developer_app_server_secret_key,
    )
    configs.attach(runtime)
    return configs
