"""Everything a request needs, built once per process by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appconnect.connectors.registry import ConnectorRegistry
from appconnect.http import HttpClients
from appconnect.kv import KeyValueStore
from appconnect.security import SecretBox, SessionSigner
from appconnect.settings import Settings
from appconnect.store.db import Database
from appconnect.store.users import UserStore


@dataclass
class Runtime:
    settings: Settings
    registry: ConnectorRegistry
    db: Database
    users: UserStore
    kv: KeyValueStore
    http: HttpClients
    sessions: SessionSigner
    box: SecretBox
    # Per-process state that services may keep (coalescing maps, rate limiters...).
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def secret(self) -> str:
        return self.settings.app_server_secret_key or ""

    @property
    def hash_key(self) -> str | None:
        return self.settings.hash_key
