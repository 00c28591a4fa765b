"""The ``appconnect`` command: serve a connector app, migrate the database, check a manifest."""

from __future__ import annotations

import asyncio
import enum
import importlib
import json
import logging
import logging.config
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from appconnect.serving import (
    DEFAULT_LIMIT_CONNECTIONS,
    DEFAULT_TIMEOUT_GRACEFUL_SHUTDOWN,
    DEFAULT_TIMEOUT_HEADER,
    DEFAULT_TIMEOUT_KEEP_ALIVE,
)
from appconnect.version import __version__

app = typer.Typer(
    help="Serve and manage RingCentral App Connect connector servers.",
    no_args_is_help=True,
    add_completion=False,
)
manifest_app = typer.Typer(help="Work with connector manifests.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")
proxy_app = typer.Typer(
    help="Work with proxy (declarative) connector configs.", no_args_is_help=True
)
app.add_typer(proxy_app, name="proxy")

DEMO_TARGET = "appconnect.cli:demo_app"


class Server(enum.StrEnum):
    """The HTTP servers ``appconnect serve`` can run the app on."""

    uvicorn = "uvicorn"
    granian = "granian"


def demo_app() -> Any:
    """Factory for the built-in demo server (used when ``serve`` gets no target)."""
    from appconnect.app import create_app

    return create_app()


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter("use the form module:attribute, e.g. myconnector.server:app")
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise typer.BadParameter(f"cannot import {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise typer.BadParameter(f"{module_name!r} has no attribute {attribute!r}") from None


def _is_factory(obj: Any) -> bool:
    """An app is an ASGI callable taking (scope, receive, send); a factory takes nothing."""
    import inspect

    if hasattr(obj, "router") or not callable(obj):
        return False
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return len(params) == 0


def _migrate(url: str) -> None:
    from appconnect.store.db import Database

    async def run() -> None:
        db = Database(url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(run())


def _settings_of(obj: Any, factory: bool) -> Any:
    """The resolved settings of the app a target names (building it if it is a factory)."""
    from appconnect.settings import Settings

    app_obj = obj() if factory else obj
    core = getattr(getattr(app_obj, "state", None), "appconnect", None)
    return core.settings if core is not None else Settings().resolved()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"appconnect {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """appconnect: the Python connector server for RingCentral App Connect."""
    from appconnect.ops import fail, load_env_file, startup_error

    try:
        load_env_file()  # .env in the working directory, or APPCONNECT_ENV_FILE
    except FileNotFoundError as exc:
        fail(startup_error(exc) or str(exc))


@app.command()
def serve(
    target: Annotated[
        str | None,
        typer.Argument(
            help="module:attribute naming your app (create_app(...) result or a factory "
            "returning one). Omit it to serve the built-in demo connector."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 6066,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (>1 needs a shared DB; see docs).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    log_level: Annotated[
        str | None, typer.Option(help="Log level (default: APPCONNECT_LOG_LEVEL, else info).")
    ] = None,
    playground: Annotated[
        bool, typer.Option("--playground", help="Also serve the developer page /playground.")
    ] = False,
    timeout_header: Annotated[
        float, typer.Option(min=0.1, help="Seconds a connection may take to send request headers.")
    ] = DEFAULT_TIMEOUT_HEADER,
    timeout_keep_alive: Annotated[
        int, typer.Option(min=1, help="Seconds an idle keep-alive connection stays open.")
    ] = DEFAULT_TIMEOUT_KEEP_ALIVE,
    limit_connections: Annotated[
        int,
        typer.Option(
            min=1, help="Open connections (and requests in progress) per worker; beyond: 503."
        ),
    ] = DEFAULT_LIMIT_CONNECTIONS,
    timeout_graceful_shutdown: Annotated[
        int, typer.Option(min=0, help="Seconds SIGTERM waits for requests in progress.")
    ] = DEFAULT_TIMEOUT_GRACEFUL_SHUTDOWN,
    server: Annotated[
        Server,
        typer.Option(
            envvar="APPCONNECT_SERVER",
            help="HTTP server: uvicorn, or granian (Rust HTTP/1.1 I/O: lower tail latency; "
            "see docs/deployment.md for how the limits map).",
        ),
    ] = Server.uvicorn,
) -> None:
    """Serve a connector app over HTTP with uvicorn (or granian)."""
    import uvicorn

    from appconnect.serving import ENV_LIMIT_CONNECTIONS, ENV_TIMEOUT_HEADER, GuardedHTTPProtocol

    # Read by every worker's GuardedHTTPProtocol (workers are separate processes).
    os.environ[ENV_TIMEOUT_HEADER] = str(timeout_header)
    os.environ[ENV_LIMIT_CONNECTIONS] = str(limit_connections)

    if playground:
        os.environ["APPCONNECT_PLAYGROUND"] = "true"
    import_string = target or DEMO_TARGET
    obj, factory, env, log_config = _preflight(import_string, log_level)
    level = (log_level or env.log_level).lower()
    if workers > 1 or reload:
        # Done once here, not in every worker: generating development secrets (every worker must
        # share them) and migrating the schema (workers must not race through it).
        settings = _settings_of(obj, factory)
        if not settings.disable_sync_db_table:
            _migrate(settings.database_url)
            os.environ["DISABLE_SYNC_DB_TABLE"] = "true"
    typer.echo(f"appconnect {__version__} serving {import_string} on http://{host}:{port}")
    if server is Server.granian:
        from appconnect.serving import serve_granian

        serve_granian(
            import_string,
            factory=factory,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_level=level,
            log_config=log_config,
            access_log=env.access_log,
            timeout_header=timeout_header,
            limit_connections=limit_connections,
            timeout_graceful_shutdown=timeout_graceful_shutdown,
        )
        return
    uvicorn.run(
        import_string,
        factory=factory,
        host=host,
        port=port,
        workers=workers if not reload else None,
        reload=reload,
        log_level=level,
        log_config=log_config,
        access_log=env.access_log,
        proxy_headers=True,
        http=GuardedHTTPProtocol,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_connections,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )


def _preflight(import_string: str, log_level: str | None) -> tuple[Any, bool, Any, Any]:
    """Read the settings, set up logging, import the target (building it once if it is a
    factory); a configuration error (bad manifest, missing secret, bad variable) ends the
    command with one line instead of a traceback."""
    from appconnect.ops import fail, logging_config, startup_error
    from appconnect.settings import Settings

    try:
        env = Settings()
        log_config = logging_config(log_level or env.log_level, env.log_format)
        logging.config.dictConfig(log_config)
        obj = _load(import_string)
        factory = _is_factory(obj)
        if factory:
            obj()
    except typer.BadParameter:
        raise
    except Exception as exc:
        line = startup_error(exc)
        if line is None:
            raise
        fail(line)
    return obj, factory, env, log_config


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (DATABASE_URL), then exit."""
    from appconnect.settings import Settings

    _migrate(Settings().database_url)
    typer.echo("database is up to date")


@manifest_app.command("check")
def manifest_check(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Manifest JSON file.")],
) -> None:
    """Validate a manifest with the reference's rules; exit 1 naming each bad field."""
    from appconnect.manifest import ManifestError, load_manifest

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        for error in exc.errors:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"valid": True, "platforms": sorted(manifest.platforms)}))


def _read_proxy_config(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"error: $: not a readable JSON document: {exc}", err=True)
        raise typer.Exit(1) from None


@proxy_app.command("check")
def proxy_check(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Proxy config JSON file.")
    ],
) -> None:
    """Validate a proxy config; print every problem with its JSON path, exit 1 on errors."""
    from appconnect.connectors.proxy.validate import check_config, errors

    problems = check_config(_read_proxy_config(path))
    for problem in problems:
        typer.echo(str(problem), err=True)
    if errors(problems):
        raise typer.Exit(1)
    warnings = len(problems)
    typer.echo(json.dumps({"valid": True, "warnings": warnings}))


@proxy_app.command("put")
def proxy_put(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Proxy config JSON file.")
    ],
    proxy_id: Annotated[str, typer.Option("--proxy-id", help="The proxyId users log in with.")],
    secret_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the connector secret ({{secretKey}})."),
    ] = None,
) -> None:
    """Store a proxy config in the database (DATABASE_URL); running servers pick it up."""
    from appconnect.connectors.proxy.sources import ProxyConfigError, store_config
    from appconnect.security import SecretBox
    from appconnect.settings import Settings
    from appconnect.store.db import Database

    config = _read_proxy_config(path)
    secret = os.environ.get(secret_key_env) if secret_key_env else None
    if secret_key_env and not secret:
        raise typer.BadParameter(f"{secret_key_env} is not set", param_hint="--secret-key-env")
    settings = Settings().resolved()

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            if not settings.disable_sync_db_table:
                await db.migrate()
            await store_config(
                db, SecretBox(settings.app_server_secret_key or ""), proxy_id, config, secret
            )
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except ProxyConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"stored": proxy_id}))


# Developer commands (``new``, ``check``) live in appconnect.devtools.commands.
from appconnect.devtools.commands import register as _register_devtools  # noqa: E402

_register_devtools(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
