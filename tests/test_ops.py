"""Operations: .env files, JSON logs with the access log, the log level, one-line start-up
errors, and the readiness check."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx2
import pytest
from tests.e2e._server import CLI, clean_env, free_port, running
from typer.testing import CliRunner

from appconnect import ConnectorRegistry, create_app
from appconnect.cli import app as cli_app
from appconnect.kv.redis import RedisStore
from appconnect.ops import JsonFormatter, load_env_file, logging_config
from appconnect.settings import Settings
from appconnect.testing import app_client, serve, settings_for_test

runner = CliRunner()


# -- .env -------------------------------------------------------------------------------------


def test_a_dot_env_file_fills_the_environment_without_overriding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("OPS_TEST_A=from-file\nOPS_TEST_B='quoted value'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APPCONNECT_ENV_FILE", raising=False)
    monkeypatch.setenv("OPS_TEST_A", "from-env")
    monkeypatch.delenv("OPS_TEST_B", raising=False)
    assert load_env_file() == Path(".env")
    assert os.environ["OPS_TEST_A"] == "from-env"
    assert os.environ["OPS_TEST_B"] == "quoted value"
    monkeypatch.delenv("OPS_TEST_B")


def test_a_named_env_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPCONNECT_ENV_FILE", str(tmp_path / "missing.env"))
    result = runner.invoke(cli_app, ["migrate"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: APPCONNECT_ENV_FILE: no such file {tmp_path / 'missing.env'}"
    ]


def test_migrate_reads_the_database_url_from_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path}/from-env-file.db\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APPCONNECT_ENV_FILE", raising=False)
    result = runner.invoke(cli_app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-env-file.db").exists()
    monkeypatch.delenv("DATABASE_URL", raising=False)


# -- logging ----------------------------------------------------------------------------------


def test_json_lines_carry_the_access_fields_and_extras() -> None:
    formatter = JsonFormatter()
    access = logging.LogRecord("uvicorn.access", logging.INFO, "f", 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/isAlive", "1.1", 200), None)  # fmt: skip
    entry = json.loads(formatter.format(access))
    assert entry["level"] == "INFO" and entry["logger"] == "uvicorn.access"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/isAlive", 200)
    assert entry["message"] == '127.0.0.1:5 - "GET /isAlive HTTP/1.1" 200'
    other = logging.LogRecord("appconnect", logging.WARNING, "f", 1, "x %s", ("y",), None)
    other.platform = "demo"
    assert json.loads(formatter.format(other))["platform"] == "demo"


def test_log_settings_are_validated() -> None:
    assert Settings(APPCONNECT_LOG_LEVEL="debug").log_level == "DEBUG"
    assert Settings(APPCONNECT_LOG_FORMAT="JSON").log_format == "json"
    with pytest.raises(ValueError, match="APPCONNECT_LOG_LEVEL"):
        Settings(APPCONNECT_LOG_LEVEL="loud")
    with pytest.raises(ValueError, match="APPCONNECT_LOG_FORMAT"):
        Settings(APPCONNECT_LOG_FORMAT="xml")
    assert logging_config("info", "json")["formatters"]["default"]["()"].endswith("JsonFormatter")


def _serve_and_read_logs(tmp_path: Path, **env: str) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/logs.db", **env)
    with running([CLI, "serve", "--port", str(port)], cwd=tmp_path, env=environment,
                 ready_url=f"{base}/isAlive") as proc:  # fmt: skip
        assert httpx2.get(f"{base}/serverVersionInfo").status_code == 200
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    return output.decode().splitlines()


def test_serve_writes_json_logs_with_the_access_log(tmp_path: Path) -> None:
    lines = _serve_and_read_logs(tmp_path, APPCONNECT_LOG_FORMAT="json",
                                 APPCONNECT_ACCESS_LOG="true")  # fmt: skip
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/serverVersionInfo", "status": 200}.items() <= next(
        e for e in access if e["path"] == "/serverVersionInfo").items()  # fmt: skip
    assert any(e["logger"] == "appconnect" and "ready" in e["message"] for e in entries)
    assert all(line.startswith("{") for line in lines if not line.startswith("appconnect "))


def test_serve_applies_appconnect_log_level(tmp_path: Path) -> None:
    lines = _serve_and_read_logs(tmp_path, APPCONNECT_LOG_LEVEL="WARNING")
    assert not any("INFO" in line for line in lines), lines
    lines = _serve_and_read_logs(tmp_path, APPCONNECT_LOG_LEVEL="INFO")
    assert any("appconnect: appconnect" in line and "ready" in line for line in lines), lines


# -- start-up errors in one line --------------------------------------------------------------


def _serve_fails(tmp_path: Path, target: str, **env: str) -> list[str]:
    import subprocess

    result = subprocess.run(
        [CLI, "serve", target], cwd=tmp_path, env=clean_env(**env), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_a_bad_manifest_stops_serve_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"platforms": {"x": {"name": "x"}}}')
    (tmp_path / "badapp.py").write_text(
        "from appconnect import create_app\napp = create_app(manifest='manifest.json')\n"
    )
    lines = _serve_fails(tmp_path, "badapp:app", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert lines == [
        "error: invalid connector manifest manifest.json: platforms.x.auth: platform.auth is "
        "required"
    ]


def test_a_missing_production_secret_stops_serve_with_one_line(tmp_path: Path) -> None:
    lines = _serve_fails(tmp_path, "appconnect.cli:demo_app", IS_PROD="true",
                         DATABASE_URL=f"sqlite:///{tmp_path}/x.db")  # fmt: skip
    assert len(lines) == 1 and lines[0].startswith("error: APP_SERVER_SECRET_KEY is not set.")


def test_a_bad_setting_stops_serve_with_one_line(tmp_path: Path) -> None:
    lines = _serve_fails(tmp_path, "appconnect.cli:demo_app", APPCONNECT_HTTP_TIMEOUT="soon")
    assert len(lines) == 1
    assert lines[0].startswith("error: invalid settings: APPCONNECT_HTTP_TIMEOUT:")


# -- readiness --------------------------------------------------------------------------------


async def test_readyz_checks_the_database_and_the_store(db_url: str, tmp_path: Path) -> None:
    settings = settings_for_test(tmp_path, DATABASE_URL=db_url)
    async with app_client(settings=settings) as ac:
        ready = await ac.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "kv": "ok"}}


async def test_readyz_answers_503_naming_what_is_down(tmp_path: Path) -> None:
    dead_redis = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    app = create_app(ConnectorRegistry(), settings=settings_for_test(tmp_path), kv=dead_redis)
    async with serve(app) as (client, _rt):
        reply = await client.get("/readyz")
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["kv"].startswith("error: ")


def test_readyz_is_in_the_openapi_document(tmp_path: Path) -> None:
    schema = create_app(ConnectorRegistry(), settings=settings_for_test(tmp_path)).openapi()
    assert set(schema["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
