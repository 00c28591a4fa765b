"""Everything a request needs, built once per process by the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
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
    # Work that outlives the request that started it (see spawn); shutdown waits for it.
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # What services opened for the process's life (files...): called once, at shutdown.
    closers: list[Callable[[], None]] = field(default_factory=list)

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``work`` without the request waiting for it; a graceful shutdown still does.

        Fire-and-forget tasks (async plugin notifications of SMS and fax logs) used to be
        dropped when the process stopped: the HTTP clients closed under them. Tasks started
        here are awaited by :meth:`drain` before anything is closed.
        """
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def drain(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` s for background work (including work it starts meanwhile);
        cancel what is left and return its names."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.background:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self.background), timeout=remaining)
        left = set(self.background)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return sorted(task.get_name() for task in left)

    @property
    def secret(self) -> str:
        return self.settings.app_server_secret_key or ""

    @property
    def hash_key(self) -> str | None:
        return self.settings.hash_key
