"""The developer commands of the CLI: ``appconnect new`` and ``appconnect check``.

Kept apart from ``appconnect.cli`` (serving and operations); :func:`register` adds them to the
Typer app there.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer


def new(
    name: Annotated[str, typer.Argument(help="Project name, e.g. acme-crm (also its folder).")],
    auth: Annotated[
        str, typer.Option("--auth", help="How users log in to the CRM: apiKey or oauth.")
    ] = "apiKey",
    kind: Annotated[
        str,
        typer.Option("--kind", help="connector (code), plugin (plugin server) or proxy (JSON)."),
    ] = "connector",
    directory: Annotated[
        Path | None, typer.Option("--directory", help="Where to create it (default: ./NAME).")
    ] = None,
) -> None:
    """Create a ready project: connector with stubs, manifest, .env.example, passing tests."""
    from appconnect.devtools.scaffold import ScaffoldError, names_for, scaffold

    destination = directory or Path(name)
    try:
        files = scaffold(name, destination, auth=auth, kind=kind)
        package = names_for(name, kind).package
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {len(files)} files in {destination}/")
    typer.echo("next:")
    typer.echo(f"  cd {destination}")
    typer.echo('  python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]"')
    typer.echo("  .venv/bin/python -m pytest")
    if kind == "connector":
        typer.echo(f"  .venv/bin/appconnect serve {package}.server:app --playground")


def check(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A project folder (default: .; reads [tool.appconnect] in pyproject.toml) or "
            "module:attribute naming a registry, an app or a connector class."
        ),
    ] = None,
    crm: Annotated[
        str | None,
        typer.Option(
            "--crm",
            help="module:attribute of the fake CRM (a FakeCrm, a factory of one, or an httpx2 "
            "transport) each interface is called against.",
        ),
    ] = None,
) -> None:
    """Check a connector: manifest, interfaces, features and result shapes; exit 1 on problems."""
    from appconnect.devtools.check import check_target

    logging.basicConfig(level=logging.ERROR)
    report = asyncio.run(check_target(target, crm))
    typer.echo(report.render())
    if report.problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("check")(check)
