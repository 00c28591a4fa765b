"""Keep the documentation true: it is checked against the code it describes.

* docs/configuration.md lists exactly the environment variables ``Settings`` reads, with their
  defaults;
* the README's first two code blocks are the serve and test commands;
* every Python block marked ``<!-- runnable -->`` in docs/writing-a-connector.md compiles, and
  the main examples really run: the minimal connector registers and serves, the OAuth connector
  logs in, the example test passes;
* the interface table names every interface with the right wire name, and says "not served yet"
  exactly for the routes the server does not have;
* CLI commands and options quoted in the docs exist;
* ``appconnect.__all__`` is pinned, so public API changes are deliberate.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import httpx2
import pytest
import typer

import appconnect
from appconnect import ConnectorRegistry, Settings, create_app
from appconnect.cli import app as cli_app
from appconnect.connectors.interfaces import INTERFACES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = DOCS / "writing-a-connector.md"
CONFIG = DOCS / "configuration.md"
SECRET = "docs-test-secret-key-of-at-least-32-chars"

PUBLIC_API = [
    "ActionResult",
    "AppConnect",
    "CallLogInfo",
    "Connector",
    "ConnectorRegistry",
    "ConnectorView",
    "ContactMatch",
    "CreateContactResult",
    "CrmClient",
    "CrmResponse",
    "DetailItem",
    "DetailSection",
    "FindContactResult",
    "GetCallLogResult",
    "LicenseStatus",
    "LogResult",
    "Manifest",
    "ManifestError",
    "OAuthApp",
    "OAuthError",
    "OAuthInfo",
    "PlatformUserInfo",
    "ReturnMessage",
    "Settings",
    "TokenSet",
    "UNSET",
    "Unset",
    "UpdateLogResult",
    "User",
    "UserInfoResult",
    "__version__",
    "create_app",
    "is_set",
    "load_manifest",
    "mount_routes",
    "without_unset",
]

_MARKER = re.compile(r"^<!--\s*(.+?)\s*-->$")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_ROUTE = re.compile(r"`(GET|POST|PATCH|PUT|DELETE) (/[^\s`?]*)")


# -- Markdown helpers --------------------------------------------------------------------------


class Block:
    """One fenced code block and the HTML comment on the line just above it, if any."""

    def __init__(self, marker: str | None, lang: str, code: str) -> None:
        self.marker, self.lang, self.code = marker, lang, code


def code_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            above = _MARKER.match(lines[i - 1].strip()) if i else None
            body: list[str] = []
            j = i + 1
            while not lines[j].startswith("```"):
                body.append(lines[j])
                j += 1
            blocks.append(
                Block(above.group(1) if above else None, lines[i][3:].strip(), "\n".join(body))
            )
            i = j
        i += 1
    return blocks


def runnable(name: str | None = None) -> list[Block]:
    found = [
        b
        for b in code_blocks(GUIDE)
        if b.lang == "python"
        and b.marker is not None
        and b.marker.split(":")[0].strip() == "runnable"
        and (name is None or b.marker.partition(":")[2].strip() == name)
    ]
    assert found, f"no runnable block {name or ''} in {GUIDE.name}"
    return found


def table_rows(text: str) -> list[list[str]]:
    """Cells of the Markdown table rows in ``text`` (header and separator rows dropped)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows[1:]


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.index(end)]


def exec_module(name: str, block: Block, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Run a doc example as module ``name`` (importable by later examples)."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(block.code, f"{GUIDE.name}:{block.marker}", "exec"), module.__dict__)
    return module


async def request(app: Any, method: str, url: str, **kwargs: Any) -> httpx2.Response:
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url, **kwargs)


@pytest.fixture
def example_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the guide's manifest, with a test environment."""
    manifest = next(b for b in code_blocks(GUIDE) if b.marker == "example-manifest")
    (tmp_path / "manifest.json").write_text(json.dumps(json.loads(manifest.code)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("APP_SERVER_SECRET_KEY", SECRET)
    monkeypatch.setenv("HASH_KEY", "docs-hash-key")
    monkeypatch.setenv("APPCONNECT_SECRET_FILE", str(tmp_path / "secret.json"))
    return tmp_path


def tmp_settings(tmp_path: Path) -> Settings:
    return Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/docs.db",
        APP_SERVER_SECRET_KEY=SECRET,
        HASH_KEY="docs-hash-key",
        APPCONNECT_SECRET_FILE=str(tmp_path / "secret.json"),
    )


# -- configuration.md -------------------------------------------------------------------------


def _documented_settings() -> dict[str, str]:
    text = between(CONFIG.read_text(encoding="utf-8"), "<!-- settings-table -->", "<!-- /")
    rows = table_rows(text)
    return {_CODE_SPAN.findall(row[0])[0]: row[1] for row in rows}


def test_every_setting_is_documented_with_its_default() -> None:
    documented = _documented_settings()
    aliases = {str(field.alias): field for field in Settings.model_fields.values()}
    assert all(field.alias for field in Settings.model_fields.values())
    assert set(documented) == set(aliases)
    for alias, field in aliases.items():
        cell, default = documented[alias], field.default
        if default is None:
            assert cell == "unset", alias
            continue
        (value,) = _CODE_SPAN.findall(cell)
        if isinstance(default, bool):
            assert value == str(default).lower(), alias
        elif isinstance(default, (int, float)):
            assert float(value) == float(default), alias
        else:
            assert value == default, alias


# -- README -----------------------------------------------------------------------------------


def test_readme_starts_with_the_serve_and_test_commands() -> None:
    first, second = code_blocks(ROOT / "README.md")[:2]
    assert first.marker == "serve-command" and "appconnect serve" in first.code
    assert second.marker == "test-command" and "-m pytest" in second.code
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["appconnect"] == "appconnect.cli:main"
    assert '".[test]"' in second.code and "test" in project["optional-dependencies"]


# -- writing-a-connector.md: examples ---------------------------------------------------------


def test_every_runnable_block_compiles() -> None:
    blocks = runnable()
    assert len(blocks) >= 5
    for block in blocks:
        compile(block.code, f"{GUIDE.name}:{block.marker}", "exec")


async def test_minimal_connector_registers_and_serves(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = exec_module("mycrm", runnable("minimal-connector")[0], monkeypatch)
    assert module.registry.is_registered("mycrm")
    app = create_app(module.registry, settings=tmp_settings(example_dir))
    response = await request(app, "GET", "/implementedInterfaces", params={"platform": "mycrm"})
    assert response.status_code == 200
    flags = response.json()
    implemented = {name for name, present in flags.items() if present is True}
    assert implemented == {
        "getAuthType",
        "getBasicAuth",
        "getUserInfo",
        "findContact",
        "createCallLog",
        "updateCallLog",
    }
    assert "getOauthInfo" not in flags
    manifest = await request(app, "GET", "/crmManifest", params={"platformName": "mycrm"})
    assert manifest.json()["platforms"]["mycrm"]["displayName"] == "My CRM"


async def test_the_example_connector_test_passes(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exec_module("mycrm", runnable("minimal-connector")[0], monkeypatch)
    example = exec_module("test_mycrm_example", runnable("connector-test")[0], monkeypatch)
    await example.test_login_find_and_log(example_dir)


async def test_oauth_connector_logs_in(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = exec_module("myoauthcrm", runnable("oauth-connector")[0], monkeypatch)
    monkeypatch.setenv("MYOAUTHCRM_CLIENT_ID", "cid")
    monkeypatch.setenv("MYOAUTHCRM_CLIENT_SECRET", "csecret")

    def crm(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/oauth/token":
            return httpx2.Response(200, json={"access_token": "at", "refresh_token": "rt"})
        if request.url.path == "/v1/me":
            assert request.headers["authorization"] == "Bearer at"
            return httpx2.Response(200, json={"id": 5, "name": "Olive", "companyId": "c1"})
        return httpx2.Response(404)

    registry = ConnectorRegistry()
    registry.register(module.MyOAuthCRM())
    app = create_app(
        registry, settings=tmp_settings(example_dir), http_transport=httpx2.MockTransport(crm)
    )
    flags = (await request(app, "GET", "/implementedInterfaces?platform=myoauthcrm")).json()
    assert flags["getOauthInfo"] is True and flags["unAuthorize"] is True
    assert "getBasicAuth" not in flags
    callback = f"{module.REDIRECT_URI}?code=abc&state=platform%3Dmyoauthcrm"
    login = await request(app, "GET", "/oauth-callback", params={"callbackUri": callback})
    assert login.status_code == 200, login.text
    assert login.json()["name"] == "Olive" and login.json()["jwtToken"]


def test_interface_only_example_registers_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = [b for b in runnable() if "@registry.interface" in b.code]
    module = exec_module("tinycrm_example", block, monkeypatch)
    view = module.registry.get_connector("tinycrm")
    assert all(view.has(name) for name in ("getAuthType", "findContact", "getBasicAuth"))
    assert not module.registry.is_registered("tinycrm")


# -- writing-a-connector.md: the interface table ---------------------------------------------


def _interface_rows() -> list[list[str]]:
    text = between(GUIDE.read_text(encoding="utf-8"), "## 6. Every interface", "Notes:")
    return table_rows(text)


def test_interface_table_lists_every_interface_with_its_wire_name() -> None:
    pairs = {
        tuple(_CODE_SPAN.findall(row[0]) + _CODE_SPAN.findall(row[1])) for row in _interface_rows()
    }
    assert pairs == {(python, wire) for wire, python in INTERFACES.items()}


def test_interface_table_says_not_served_exactly_for_missing_routes(tmp_path: Path) -> None:
    # Every route declares its parameters for OpenAPI, so the schema lists what is served.
    schema = create_app(ConnectorRegistry(), settings=tmp_settings(tmp_path)).openapi()
    served = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert ("GET", "/contact") in served
    checked = 0
    for row in _interface_rows():
        routes = _ROUTE.findall(row[2])
        expect_served = "not served yet" not in row[2]
        for route in routes:
            assert (route in served) is expect_served, (row[0], route)
            checked += 1
    assert checked > 20


# -- CLI commands quoted in the docs ----------------------------------------------------------


def test_cli_commands_and_options_in_the_docs_exist() -> None:
    group = typer.main.get_command(cli_app)
    commands = group.commands  # type: ignore[attr-defined]
    serve_options = {opt for p in commands["serve"].params for opt in p.opts}
    texts = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    quoted = 0
    for path in texts:
        for line in path.read_text(encoding="utf-8").splitlines():
            for command in re.findall(
                r"appconnect (serve|migrate|manifest check|new|check)\b", line
            ):
                assert command.split()[0] in commands, (path.name, line)
                quoted += 1
                if command == "serve":
                    after = line.split("appconnect serve", 1)[1]
                    for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", after):
                        assert option in serve_options, (path.name, option)
    assert quoted >= 5


# -- public API -------------------------------------------------------------------------------


def test_public_api_is_pinned_and_importable() -> None:
    assert sorted(appconnect.__all__) == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(appconnect, name) is not None, name


# -- departures table -------------------------------------------------------------------------


def _departure_tests() -> list[str]:
    rows = [
        line for line in (DOCS / "departures.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith("| area ")
    ]
    named: list[str] = []
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert len(cells) == 5, row
        assert all(cells), row  # every column filled, the test included
        named += re.findall(r"`(tests/[^`]+?::[^`]+?)`", cells[4]) or [cells[4]]
    return named


def test_every_departure_names_an_existing_test() -> None:
    named = _departure_tests()
    assert len(named) >= 5
    for ref in named:
        assert "::" in ref, f"departure row without a test reference: {ref}"
        path, name = ref.split("::", 1)
        source = (ROOT / path).read_text(encoding="utf-8")
        bare = name.split("[", 1)[0]
        assert re.search(rf"^(async )?def {re.escape(bare)}\(", source, re.M), ref
