"""The plugin server: an ASGI app built from a few decorated functions (plugins.md §9).

::

    plugin = PluginServer("sync-all-caps")

    @plugin.transform
    async def shout(call: Invocation) -> dict:
        return {**call.data, "note": str(call.data.get("note") or "").upper()}

    app = plugin.app          # appconnect serve mymodule:app

It serves every endpoint of the plugin-server contract at the conventional paths (all of them
configurable): ``GET /isAlive``, ``POST /admin/register`` (validates the RingCentral token and
issues the account's credential), ``POST /token/sync``, ``POST /plugin/sync``, ``POST
/plugin/async``, ``GET /license`` and the browser-facing ``GET /authUrl``, ``GET /checkAuth``,
``POST /logout``, ``GET /oauth/callback``. Protected endpoints check the credential and renew it
in ``x-refreshed-jwt-token`` during its last week.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx2
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from appconnect.plugin.tokens import (
    CredentialError,
    CredentialIssuer,
    PluginIdentity,
    secret_from_env,
)

logger = logging.getLogger("appconnect.plugin")

RC_SERVER = "https://platform.ringcentral.com"
REFRESH_HEADER = "x-refreshed-jwt-token"
MAX_BODY = 10 * 1024 * 1024
REGISTRATION_FAILED = "Plugin registration failed"
REQUEST_FAILED = "Plugin request failed"
TASK_FIELDS_REQUIRED = "asyncTaskId and callbackUrl are required"

DEFAULT_PATHS = {
    "is_alive": "/isAlive",
    "register": "/admin/register",
    "token_sync": "/token/sync",
    "sync": "/plugin/sync",
    "async": "/plugin/async",
    "license": "/license",
    "auth_url": "/authUrl",
    "check_auth": "/checkAuth",
    "logout": "/logout",
    "oauth_callback": "/oauth/callback",
}


@dataclass
class Invocation:
    """One call from App Connect: the logging payload, the user's plugin config, who calls."""

    data: dict[str, Any]
    config: dict[str, Any] | None
    identity: PluginIdentity
    hashed_extension_id: str | None = None
    async_task_id: str | None = None
    callback_url: str | None = None

    def setting(self, name: str, default: Any = None) -> Any:
        """``config[name].value``, or ``default`` when the config, the field or its value is
        missing (users without saved settings send ``config: null``)."""
        item = (self.config or {}).get(name)
        value = item.get("value") if isinstance(item, Mapping) else None
        return default if value is None or value == "" else value

    @property
    def is_message(self) -> bool:
        """An SMS/fax notification (no task, no callback) rather than a call task."""
        return self.callback_url is None


@dataclass
class Completion:
    """What an async handler may return: the note to append, and a diagnostic message."""

    note: str = ""
    message: str = "Async plugin completed"
    successful: bool = True


@dataclass
class OAuthCallback:
    """``GET`` of the plugin's OAuth callback, with ``callbackUri`` reassembled (§9.9)."""

    hashed_extension_id: str
    callback_uri: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def callback_params(self) -> dict[str, str]:
        """``code``, ``state``, ``error``... from the callback URI (encoded or flattened)."""
        query = self.callback_uri.partition("?")[2]
        return dict(parse_qsl(query, keep_blank_values=True))


Handler = Callable[..., Awaitable[Any]]


class PluginServer:
    """Build a plugin server; decorate handlers; serve :attr:`app`.

    ``plugin_id`` binds credentials to this plugin (a credential for another plugin gets 403);
    ``secret`` signs them (default ``PLUGIN_SERVER_SECRET_KEY``, then ``APP_SERVER_SECRET_KEY``).
    ``rc_server`` is where registration checks RingCentral tokens (default ``RINGCENTRAL_SERVER``,
    else ``https://platform.ringcentral.com``). ``http_transport`` replaces the network for
    outbound calls (RingCentral, callbacks) in tests.
    """

    def __init__(
        self,
        plugin_id: str | None = None,
        *,
        secret: str | None = None,
        rc_server: str | None = None,
        paths: Mapping[str, str] | None = None,
        cors_origins: list[str] | None = None,
        http_transport: httpx2.AsyncBaseTransport | None = None,
        http_timeout: float = 15.0,
        callback_attempts: int = 3,
    ) -> None:
        unknown = set(paths or {}) - set(DEFAULT_PATHS)
        if unknown:
            raise ValueError(f"unknown endpoint names: {sorted(unknown)}")
        self.plugin_id = plugin_id
        self.credentials = CredentialIssuer(secret or secret_from_env(), plugin_id)
        self.rc_server = (rc_server or os.environ.get("RINGCENTRAL_SERVER") or RC_SERVER).rstrip(
            "/"
        )
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.cors_origins = cors_origins if cors_origins is not None else ["*"]
        self.callback_attempts = max(1, callback_attempts)
        self._transport = http_transport
        self._timeout = http_timeout
        self._http: httpx2.AsyncClient | None = None
        self._handlers: dict[str, Handler] = {}
        self._jobs: set[asyncio.Task[None]] = set()
        self._app: Starlette | None = None

    # -- decorators ------------------------------------------------------------------------

    def _register(self, name: str) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"{fn.__name__} must be an async function")
            self._handlers[name] = fn
            return fn

        return decorate

    def transform(self, fn: Handler) -> Handler:
        """Sync plugin: ``async (Invocation) -> dict``, the whole transformed payload."""
        return self._register("sync")(fn)

    def background(self, fn: Handler) -> Handler:
        """Async plugin: ``async (Invocation) -> str | Completion | None``, run after the
        acknowledgement; for a call task its note is reported to App Connect's callback, and an
        exception reports a failure."""
        return self._register("async")(fn)

    def license(self, fn: Handler) -> Handler:
        """``async (PluginIdentity) -> dict`` with at least ``licenseStatus``."""
        return self._register("license")(fn)

    def authorization_url(self, fn: Handler) -> Handler:
        """``async (plugin_id: str | None) -> str``: the provider's authorize URL."""
        return self._register("auth_url")(fn)

    def auth_state(self, fn: Handler) -> Handler:
        """``async (Request) -> dict`` ``{"successful": connected, "returnMessage"?}``."""
        return self._register("check_auth")(fn)

    def logout(self, fn: Handler) -> Handler:
        """``async (Request, body: dict) -> dict`` ``{"successful": ...}``."""
        return self._register("logout")(fn)

    def oauth_callback(self, fn: Handler) -> Handler:
        """``async (OAuthCallback) -> None``: validate state, exchange the code, store tokens."""
        return self._register("oauth_callback")(fn)

    # -- the app ---------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = self._build()
        return self._app

    def issue_credential(self, rc_account_id: str) -> str:
        return self.credentials.issue(rc_account_id)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def _build(self) -> Starlette:
        p = self.paths
        routes = [
            Route(p["is_alive"], self._is_alive, methods=["GET"]),
            Route(p["register"], self._register_account, methods=["POST"]),
            Route(p["token_sync"], self._token_sync, methods=["POST"]),
            Route(p["sync"], self._invoke_sync, methods=["POST"]),
            Route(p["async"], self._invoke_async, methods=["POST"]),
            Route(p["license"], self._license, methods=["GET"]),
            Route(p["auth_url"], self._auth_url, methods=["GET"]),
            Route(p["check_auth"], self._check_auth, methods=["GET"]),
            Route(p["logout"], self._logout, methods=["POST"]),
            Route(p["oauth_callback"], self._oauth_callback, methods=["GET"]),
        ]
        middleware = [
            Middleware(
                CORSMiddleware,
                allow_origins=self.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                expose_headers=[REFRESH_HEADER],
            )
        ]
        return Starlette(routes=routes, middleware=middleware, lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Let running background jobs finish (briefly), then close the HTTP client."""
        jobs = list(self._jobs)
        if jobs:
            _done, pending = await asyncio.wait(jobs, timeout=10)
            for job in pending:
                job.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def drain(self) -> None:
        """Wait until every background job started so far has finished (tests)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = httpx2.AsyncClient(transport=self._transport, timeout=self._timeout)
        return self._http

    # -- helpers ---------------------------------------------------------------------------

    async def _body(self, request: Request) -> Any:
        """The JSON (or form) body, ``{}`` when empty; ``ValueError`` when unreadable."""
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ValueError("request body too large")
        if not raw:
            return {}
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return orjson.loads(raw)

    def _identify(self, request: Request) -> tuple[PluginIdentity, str | None]:
        return self.credentials.verify(request.headers.get("authorization"))

    @staticmethod
    def _with_refresh(response: Response, fresh: str | None) -> Response:
        if fresh:
            response.headers[REFRESH_HEADER] = fresh
        return response

    # -- endpoints -------------------------------------------------------------------------

    async def _is_alive(self, _request: Request) -> Response:
        return PlainTextResponse("OK")

    async def _register_account(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError:
            return PlainTextResponse(REGISTRATION_FAILED, 400)
        token = body.get("rcAccessToken") if isinstance(body, dict) else None
        account = body.get("rcAccountId") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(account, str | int):
            return PlainTextResponse(REGISTRATION_FAILED, 400)
        if isinstance(account, bool) or str(account) == "":
            return PlainTextResponse(REGISTRATION_FAILED, 400)
        try:
            response = await self._client().get(
                f"{self.rc_server}/restapi/v1.0/account/~/extension/~",
                headers={"Authorization": f"Bearer {token}"},
            )
            identity = response.json() if response.status_code < 300 else None
        except (httpx2.HTTPError, ValueError):
            identity = None
        if not isinstance(identity, dict):
            return PlainTextResponse(REGISTRATION_FAILED, 400)  # never echo or log the token
        rc_account = identity.get("account")
        actual = rc_account.get("id") if isinstance(rc_account, dict) else None
        if actual is None or str(actual) != str(account):
            return PlainTextResponse("rcAccountId mismatch", 403)
        return JSONResponse({"jwtToken": self.credentials.issue(str(account))})

    async def _token_sync(self, request: Request) -> Response:
        try:
            _identity, fresh = self._identify(request)
        except CredentialError as exc:
            return PlainTextResponse(exc.message, exc.status)
        # App Connect sends {}; the contract documents no 400 here, so the body is not checked.
        return self._with_refresh(PlainTextResponse("OK"), fresh)

    async def _invocation(self, request: Request) -> tuple[Invocation, str | None] | Response:
        try:
            identity, fresh = self._identify(request)
        except CredentialError as exc:
            return PlainTextResponse(exc.message, exc.status)
        try:
            body = await self._body(request)
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return PlainTextResponse("data must be an object", 400)
        config = body.get("config")
        hashed = body.get("hashedExtensionId")
        task, url = body.get("asyncTaskId"), body.get("callbackUrl")
        call = Invocation(
            data=data,
            config=config if isinstance(config, dict) else None,
            identity=identity,
            hashed_extension_id=hashed if isinstance(hashed, str) else None,
            async_task_id=task if isinstance(task, str) and task else None,
            callback_url=url if isinstance(url, str) and url else None,
        )
        return call, fresh

    async def _invoke_sync(self, request: Request) -> Response:
        handler = self._handlers.get("sync")
        parsed = await self._invocation(request)
        if isinstance(parsed, Response):
            return parsed
        call, fresh = parsed
        if handler is None:
            return PlainTextResponse("This plugin has no synchronous handler", 404)
        try:
            result = await handler(call)
        except Exception:
            logger.exception("synchronous plugin handler failed")
            return self._with_refresh(PlainTextResponse(REQUEST_FAILED, 500), fresh)
        if not isinstance(result, dict):
            logger.error("synchronous plugin handler returned %s, not a dict", type(result))
            return self._with_refresh(PlainTextResponse(REQUEST_FAILED, 500), fresh)
        return self._with_refresh(JSONResponse(result), fresh)

    async def _invoke_async(self, request: Request) -> Response:
        handler = self._handlers.get("async")
        parsed = await self._invocation(request)
        if isinstance(parsed, Response):
            return parsed
        call, _fresh = parsed  # App Connect ignores refresh headers here: rotate on token sync
        if handler is None:
            return PlainTextResponse("This plugin has no asynchronous handler", 404)
        if (call.async_task_id is None) != (call.callback_url is None):
            return JSONResponse({"accepted": False, "message": TASK_FIELDS_REQUIRED}, 400)
        job = asyncio.ensure_future(self._run_job(handler, call))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        if call.async_task_id is None:
            return JSONResponse({"accepted": True})
        return JSONResponse({"accepted": True, "asyncTaskId": call.async_task_id})

    async def _run_job(self, handler: Handler, call: Invocation) -> None:
        try:
            result = await handler(call)
        except Exception as exc:
            logger.warning("asynchronous plugin job failed: %r", exc)
            outcome = Completion(note="", message=str(exc) or type(exc).__name__, successful=False)
        else:
            if isinstance(result, Completion):
                outcome = result
            else:
                outcome = Completion(note="" if result is None else str(result))
        if call.callback_url is not None:
            await self._report(call.callback_url, outcome)

    async def _report(self, url: str, outcome: Completion) -> None:
        """POST the completion; retry a transport error or 5xx, never a 4xx (§9.7)."""
        payload = {
            "successful": outcome.successful,
            "message": outcome.message,
            "note": outcome.note if outcome.successful else "",
        }
        for attempt in range(1, self.callback_attempts + 1):
            try:
                response = await self._client().post(url, json=payload)
            except httpx2.HTTPError as exc:
                logger.warning("callback attempt %d failed: %r", attempt, exc)
            else:
                if response.status_code < 300:
                    return
                if response.status_code < 500:
                    logger.warning("callback refused (%d); not retried", response.status_code)
                    return
                logger.warning("callback attempt %d answered %d", attempt, response.status_code)
            if attempt < self.callback_attempts:
                await asyncio.sleep(min(2.0**attempt, 30.0))

    async def _license(self, request: Request) -> Response:
        try:
            identity, fresh = self._identify(request)
        except CredentialError as exc:
            return PlainTextResponse(exc.message, exc.status)
        handler = self._handlers.get("license")
        if handler is None:
            return JSONResponse({"licenseStatus": True, "licenseStatusDescription": "Licensed"})
        try:
            result = await handler(identity)
        except Exception:
            logger.exception("license handler failed")
            return Response(status_code=500)
        if not isinstance(result, dict) or not isinstance(result.get("licenseStatus"), bool):
            logger.error("license handler must return a dict with a boolean licenseStatus")
            return Response(status_code=500)
        return self._with_refresh(JSONResponse(result), fresh)

    async def _auth_url(self, request: Request) -> Response:
        handler = self._handlers.get("auth_url")
        if handler is None:
            return PlainTextResponse("This plugin has no authorization", 400)
        try:
            url = await handler(request.query_params.get("pluginId"))
        except Exception:
            logger.exception("authorization URL handler failed")
            return Response(status_code=500)
        return JSONResponse({"authUrl": str(url)})

    async def _check_auth(self, request: Request) -> Response:
        handler = self._handlers.get("check_auth")
        if handler is None:
            return JSONResponse({"successful": True})
        try:
            result = await handler(request)
        except Exception:
            logger.exception("auth state handler failed")
            return Response(status_code=500)
        return JSONResponse(result if isinstance(result, dict) else {"successful": bool(result)})

    async def _logout(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(body, dict):
            return Response(status_code=400)
        handler = self._handlers.get("logout")
        if handler is None:
            return JSONResponse({"successful": True})
        try:
            result = await handler(request, body)
        except Exception:
            logger.exception("logout handler failed")
            return Response(status_code=500)
        return JSONResponse(result if isinstance(result, dict) else {"successful": bool(result)})

    async def _oauth_callback(self, request: Request) -> Response:
        handler = self._handlers.get("oauth_callback")
        params = dict(request.query_params)
        uri = params.pop("callbackUri", None)
        hashed = params.pop("hashedExtensionId", "")
        if handler is None or not uri:
            return Response(status_code=400)
        call = OAuthCallback(hashed, _reassemble(uri, params), params)
        try:
            await handler(call)
        except ValueError:
            return Response(status_code=400)
        except Exception:
            logger.exception("OAuth callback handler failed")
            return Response(status_code=500)
        return Response(status_code=200)


def _reassemble(callback_uri: str, flattened: Mapping[str, str]) -> str:
    """The client does not encode ``callbackUri``: what followed its first ``&`` arrives as
    separate parameters. Put them back (a properly encoded URI is returned unchanged)."""
    extra = {k: v for k, v in flattened.items() if k in _OAUTH_FIELDS}
    if not extra:
        return callback_uri
    joiner = "&" if "?" in callback_uri else "?"
    return callback_uri + joiner + urlencode(extra)


_OAUTH_FIELDS = ("code", "scope", "state", "error", "error_description")
