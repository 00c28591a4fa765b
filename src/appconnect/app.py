"""Application assembly: :class:`AppConnect`, :func:`create_app` and :func:`mount_routes`.

``AppConnect`` owns one process's runtime (database, key-value store, HTTP clients, signer) and
the routes. ``create_app`` gives a ready FastAPI app; ``mount_routes`` adds the routes and the
middleware to an app you already have (the reference's ``createCoreRouter``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from fastapi import APIRouter, FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from appconnect.connectors.registry import ConnectorRegistry
from appconnect.http import HttpClients
from appconnect.kv import KeyValueStore, Stamps, create_store
from appconnect.manifest import Manifest, load_manifest
from appconnect.middleware import AppConnectMiddleware
from appconnect.runtime import Runtime
from appconnect.security import SecretBox, SessionSigner
from appconnect.settings import ConfigurationError, Settings
from appconnect.store.db import Database
from appconnect.store.users import UserStore
from appconnect.version import __version__

logger = logging.getLogger("appconnect")


class AppConnect:
    """The connector server for one registry, ready to be served or mounted."""

    # Start-up retries: first wait and longest wait, in seconds (exponential in between).
    startup_backoff: tuple[float, float] = (0.5, 30.0)

    def __init__(
        self,
        registry: ConnectorRegistry,
        *,
        settings: Settings | None = None,
        http_transport: httpx2.AsyncBaseTransport | None = None,
        kv: KeyValueStore | None = None,
    ) -> None:
        self.registry = registry
        # Fail fast on configuration (e.g. IS_PROD without a secret) before serving anything.
        self.settings = (settings or Settings()).resolved()
        if self.settings.playground and self.settings.is_prod:
            raise ConfigurationError(
                "APPCONNECT_PLAYGROUND is a development page; it cannot be served with IS_PROD=true"
            )
        if self.settings.proxy_active and not registry.is_registered("proxy"):
            registry.use_proxy()  # declarative connectors (docs/proxy-connectors.md)
        self._transport = http_transport
        self._kv = kv
        self._runtime: Runtime | None = None
        self._starting: asyncio.Future[Runtime] | None = None
        self._failed_attempts = 0
        self._attempt_failed = asyncio.Event()
        self.router = build_router(playground=self.settings.playground)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the server has not started")
        return self._runtime

    async def ready(self) -> Runtime:
        """The runtime, starting it on first use (so mounted routes work without our lifespan).

        Start-up runs in one background task that retries with exponential back-off until it
        succeeds (a database that is not up yet, a connector whose ``startup`` fails...), logging
        each failed attempt once. Requests wait for the first attempt; after a failure they get
        :class:`StartupPending` (the middleware's 503) at once until an attempt succeeds.
        """
        if self._runtime is not None:
            return self._runtime
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._keep_starting())
        if self._failed_attempts == 0:
            failed: asyncio.Future[Any] = asyncio.ensure_future(self._attempt_failed.wait())
            either: set[asyncio.Future[Any]] = {self._starting, failed}
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                failed.cancel()
        if self._runtime is not None:
            return self._runtime
        raise StartupPending("start-up has not succeeded yet")

    async def _keep_starting(self) -> Runtime:
        initial, maximum = self.startup_backoff
        retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=initial, min=initial, max=maximum),
            retry=retry_if_exception_type(Exception),
            before_sleep=self._attempt_failed_log,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                self._runtime = await self._start()
        assert self._runtime is not None
        return self._runtime

    def _attempt_failed_log(self, state: RetryCallState) -> None:
        self._failed_attempts += 1
        self._attempt_failed.set()
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.error(
            "start-up attempt %d failed (%s: %s); retrying in %.1f s",
            state.attempt_number,
            type(exc).__name__,
            exc,
            wait,
        )

    async def _start(self) -> Runtime:
        settings = self.settings
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        secret = settings.app_server_secret_key or ""
        box = SecretBox(secret)
        http: HttpClients | None = None
        kv: KeyValueStore | None = None
        try:
            if not settings.disable_sync_db_table:
                await db.migrate()
            kv = self._kv or create_store(settings.redis_url)
            http = HttpClients(
                timeout=settings.http_timeout,
                transport=self._transport,
                rate_limit=settings.crm_rate_limit or None,
                limiter_factory=kv.rate_limiter,  # with Redis: one budget for every worker
            )
            stamps = Stamps(kv) if kv.shared else None  # other workers' caches
            runtime = Runtime(
                settings=settings,
                registry=self.registry,
                db=db,
                users=UserStore(db, box, cache_ttl=settings.user_cache_ttl, stamps=stamps),
                kv=kv,
                http=http,
                sessions=SessionSigner(secret),
                box=box,
            )
            for connector in self.registry.connectors():
                attach = getattr(connector, "attach", None)
                if callable(attach):
                    attach(http)
                startup = getattr(connector, "startup", None)
                if callable(startup):
                    await startup(runtime)
        except BaseException:
            # A failed attempt leaves nothing open: the next one starts from scratch.
            await _close_quietly(http, None if self._kv is not None else kv, db)
            raise
        _tune_gc(settings.gc_threshold)
        logger.info("appconnect %s ready (%s)", __version__, _safe_url(settings.database_url))
        return runtime

    async def aclose(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        runtime, self._runtime = self._runtime, None
        self._failed_attempts = 0
        self._attempt_failed = asyncio.Event()
        if runtime is not None:
            # In-flight requests have finished (the server stops accepting and waits for them
            # before the lifespan ends); now the work they left running, then the clients.
            left = await runtime.drain(self.settings.drain_timeout)
            if left:
                logger.error(
                    "stopping: %d background job(s) did not finish within %g s and were "
                    "cancelled: %s",
                    len(left),
                    self.settings.drain_timeout,
                    ", ".join(left),
                )
            await runtime.http.aclose()
            await runtime.kv.close()
            await runtime.db.dispose()
            for close in runtime.closers:
                close()

    @asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        try:
            await self.ready()
        except StartupPending:
            pass  # logged by the start-up loop, which keeps trying in the background
        try:
            yield
        finally:
            await self.aclose()


class StartupPending(RuntimeError):
    """The server has not started yet (an attempt failed; the next one is scheduled)."""


async def _close_quietly(http: HttpClients | None, kv: KeyValueStore | None, db: Database) -> None:
    for close in (http.aclose if http else None, kv.close if kv else None, db.dispose):
        if close is None:
            continue
        try:
            await close()
        except Exception:
            logger.warning("clean-up after a failed start-up attempt failed", exc_info=True)


def _tune_gc(threshold: str) -> None:
    """Make the cyclic garbage collector cheap for a long-running server.

    With Python's defaults a collection runs every 700 net allocations, and a request here makes
    thousands; the full collections then walk every object the framework, ORM and connectors
    built at start-up. Freezing those (they live as long as the process) and collecting young
    objects less often took GET /contact from ~1,000 to ~1,450 req/s and cut its p99 latency
    (bench, 64 connections). Set ``APPCONNECT_GC_THRESHOLD=""`` to keep Python's defaults.
    """
    if not threshold.strip():
        return
    values = [int(part) for part in threshold.split(",") if part.strip()]
    gc.collect()
    gc.freeze()
    gc.set_threshold(*values)


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_router(*, playground: bool = False) -> APIRouter:
    """Every route of the server (imported here to keep start-up import cost in one place).

    ``playground`` adds the developer page ``/playground`` (``APPCONNECT_PLAYGROUND``).
    """
    from appconnect.api import auth, system

    router = APIRouter()
    modules: list[Any] = []
    # The busiest routes first: Starlette tries routes in order, one regex match each.
    names: tuple[str, ...] = ("contacts", "call_logs", "message_logs", "user", "admin")
    names += ("calldown", "appointments", "debug", "mcp")  # issue 11's routes
    names += ("managed_auth", "ringcentral")  # issue 8's routes
    names += ("plugins",)  # issue 10's routes
    for name in names:
        try:
            modules.append(__import__(f"appconnect.api.{name}", fromlist=["router"]))
        except ModuleNotFoundError as exc:
            if exc.name != f"appconnect.api.{name}":
                raise
    modules += [system, auth]
    if playground:
        from appconnect.api import playground as playground_routes

        modules.append(playground_routes)
    for module in modules:
        # Copy the routes rather than include_router(): FastAPI resolves included routers
        # lazily on every request, which showed up as ~10% of a contact look-up's CPU.
        router.routes.extend(module.router.routes)
    return router


class _CORS(CORSMiddleware):
    """Open CORS as the reference sets it up; a preflight answers 204 like Express's cors()."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            response.status_code = 204
            response.body = b""
            del response.headers["content-length"]
        return response


def mount_routes(app: FastAPI, core: AppConnect) -> None:
    """Add App Connect's routes, CORS and session middleware to an existing FastAPI app."""
    app.router.routes.extend(core.router.routes)
    _document_security(app)
    app.add_middleware(AppConnectMiddleware, core=core)
    app.add_middleware(
        _CORS,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["*"],
        expose_headers=["x-refreshed-jwt-token"],
    )


def _document_security(app: FastAPI) -> None:
    """Complete ``app`` 's OpenAPI document once (see :func:`appconnect.api.openapi.finish`)."""
    from appconnect.api.openapi import finish

    produce = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(produce())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    registry: ConnectorRegistry | None = None,
    *,
    settings: Settings | None = None,
    manifest: Manifest | Mapping[str, Any] | str | Path | None = None,
    release_notes: Mapping[str, Any] | None = None,
    http_transport: httpx2.AsyncBaseTransport | None = None,
    kv: KeyValueStore | None = None,
) -> FastAPI:
    """A ready ASGI app serving ``registry`` (the demo connector when omitted).

    ``manifest`` becomes the default manifest (validated now: a broken one raises
    :class:`appconnect.manifest.ManifestError` naming the bad field).
    """
    if registry is None:
        from appconnect.connectors.demo import demo_registry

        registry = demo_registry()
    if manifest is not None:
        loaded = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
        registry.set_default_manifest(loaded)
    if release_notes is not None:
        registry.set_release_notes(release_notes)
    core = AppConnect(registry, settings=settings, http_transport=http_transport, kv=kv)
    app = FastAPI(
        title="App Connect connector server",
        version=__version__,
        lifespan=core.lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    mount_routes(app, core)
    app.state.appconnect = core
    return app
