"""``appconnect new``: the project it writes passes its own tests, serves, and logs a call."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2
import pytest
from tests.e2e._server import CLI, clean_env, free_port, running
from typer.testing import CliRunner

from appconnect.cli import app as cli_app
from appconnect.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def new(tmp_path: Path, *args: str) -> Path:
    result = runner.invoke(cli_app, ["new", *args, "--directory", str(tmp_path / "project")])
    assert result.exit_code == 0, result.output
    return tmp_path / "project"


def run_tests(project: Path) -> subprocess.CompletedProcess[str]:
    # The suite's venv has appconnect; the project's own pyproject puts its folder on sys.path.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=clean_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_new_writes_a_complete_connector_project(tmp_path: Path) -> None:
    project = new(tmp_path, "acme-crm")
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert files == {
        ".env.example", ".gitignore", "README.md", "pyproject.toml",
        "acme_crm/__init__.py", "acme_crm/connector.py", "acme_crm/manifest.json",
        "acme_crm/server.py", "tests/__init__.py", "tests/conftest.py", "tests/fake_crm.py",
        "tests/test_connector.py",
    }  # fmt: skip
    for name in files:
        assert "${" not in (project / name).read_text(), name
    manifest = load_manifest(project / "acme_crm" / "manifest.json")
    assert manifest.platform("acmecrm")["auth"]["type"] == "apiKey"  # type: ignore[index]
    connector = (project / "acme_crm" / "connector.py").read_text()
    for method in ("get_basic_auth", "get_user_info", "find_contact", "create_contact",
                   "create_call_log", "get_call_log", "update_call_log", "create_message_log",
                   "update_message_log", "unauthorize"):  # fmt: skip
        assert f"def {method}(" in connector, method
    assert connector.count("TODO") >= 10
    readme = (project / "README.md").read_text()
    assert "<!-- serve-command -->" in readme and "<!-- test-command -->" in readme
    assert "appconnect serve acme_crm.server:app" in readme
    assert "APP_SERVER_SECRET_KEY=" in (project / ".env.example").read_text()


@pytest.mark.parametrize("auth", ["apiKey", "oauth"])
def test_the_new_projects_tests_pass_out_of_the_box(tmp_path: Path, auth: str) -> None:
    project = new(tmp_path, "acme", "--auth", auth)
    result = run_tests(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_a_new_project_serves_and_logs_a_call_over_http(tmp_path: Path) -> None:
    project = new(tmp_path, "acme")
    crm_port, port = free_port(), free_port()
    crm_url, base = f"http://127.0.0.1:{crm_port}", f"http://127.0.0.1:{port}"
    # The .env the README tells the author to make, pointed at the fake CRM over HTTP.
    env_text = (project / ".env.example").read_text()
    (project / ".env").write_text(env_text.replace("http://127.0.0.1:6067", crm_url))
    env = clean_env()
    with (
        running([sys.executable, "-m", "tests.fake_crm", str(crm_port)], cwd=project, env=env,
                ready_url=f"{crm_url}/me"),
        running([CLI, "serve", "acme.server:app", "--port", str(port)], cwd=project, env=env,
                ready_url=f"{base}/isAlive"),
        httpx2.Client(base_url=base, timeout=10) as client,
    ):  # fmt: skip
        login = client.post("/apiKeyLogin", json={"platform": "acme", "apiKey": "k"})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['jwtToken']}"}
        found = client.get("/contact", params={"phoneNumber": "+16505550100"}, headers=auth)
        assert found.json()["contact"][0]["name"] == "Ada Lovelace"
        body = {
            "logInfo": {"sessionId": "s-1", "telephonySessionId": "t-1", "direction": "Inbound",
                        "from": {"phoneNumber": "+16505550100"},
                        "to": {"phoneNumber": "+16505550199"},
                        "startTime": "2025-01-15T10:00:00.000Z", "duration": 65,
                        "result": "Call connected"},
            "contactId": "c-1", "contactName": "Ada Lovelace", "note": "Over real HTTP",
        }  # fmt: skip
        logged = client.post("/callLog", json=body, headers=auth)
        assert logged.json() == {"successful": True, "logId": "a-1"}, logged.text
        read = client.get("/callLog", params={"sessionIds": "s-1", "requireDetails": "true"},
                          headers=auth)  # fmt: skip
        assert "- Note: Over real HTTP" in read.json()["logs"][0]["logData"]["fullBody"]
    assert (project / "acme.db").exists()  # DATABASE_URL came from the .env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1abc"], "starts with a letter"),
        (["class"], "cannot be a Python package name"),
        (["ok", "--auth", "basic"], "--auth must be one of"),
        (["ok", "--kind", "widget"], "--kind must be one of"),
    ],
)
def test_new_refuses_bad_arguments_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli_app, ["new", *args, "--directory", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "p").exists()


def test_new_never_writes_into_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    result = runner.invoke(cli_app, ["new", "acme", "--directory", str(tmp_path / "p")])
    assert result.exit_code == 2 and "is not empty" in result.output
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["keep.txt"]


def test_the_wheel_ships_the_templates_and_the_playground(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("appconnect-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        n.removeprefix("appconnect/") for n in names if n.startswith("appconnect/devtools/")
    }
    source = ROOT / "src" / "appconnect"
    for path in (source / "devtools").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.relative_to(source).as_posix() in shipped, path


def test_generated_manifests_are_valid_json_documents(tmp_path: Path) -> None:
    project = new(tmp_path, "beta", "--auth", "oauth")
    data = json.loads((project / "beta" / "manifest.json").read_text())
    assert data["platforms"]["beta"]["auth"]["oauth"]["clientId"]
    assert "BETA_CLIENT_SECRET=" in (project / ".env.example").read_text()


@pytest.mark.parametrize(
    ("kind", "module"),
    [("plugin", "appconnect.plugin"), ("proxy", "appconnect.connectors.proxy")],
)
def test_plugin_and_proxy_projects_pass_their_tests(tmp_path: Path, kind: str, module: str) -> None:
    import importlib.util

    project = new(tmp_path, "side-kick", "--kind", kind)
    result = run_tests(project)
    assert result.returncode == 0, result.stdout + result.stderr
    # The SDK-dependent test runs where that part of appconnect exists, and skips otherwise.
    available = importlib.util.find_spec(module) is not None
    assert ("4 passed" if available else "3 passed, 1 skipped") in result.stdout, result.stdout
    if kind == "plugin":
        entry = json.loads((project / "side_kick" / "manifest.json").read_text())["platforms"]
        assert entry["sidekick"]["endpointUrl"].endswith("/plugin/sync")
        assert entry["sidekick"]["supportedLogTypes"] == ["call"]
    else:
        config = json.loads((project / "proxy-config.json").read_text())
        assert config["auth"] == {"type": "apiKey"}
        assert load_manifest(project / "manifest.json").platform("sidekick")
