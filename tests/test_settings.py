"""Configuration: the reference's variable names, production refusal, development secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from appconnect.settings import ConfigurationError, Settings, normalise_database_url


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(IS_PROD=True, APPCONNECT_SECRET_FILE=str(tmp_path / "s"))
    with pytest.raises(ConfigurationError, match="APP_SERVER_SECRET_KEY"):
        settings.resolved()


def test_development_secret_is_generated_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    first = Settings(APPCONNECT_SECRET_FILE=str(path)).resolved()
    second = Settings(APPCONNECT_SECRET_FILE=str(path)).resolved()
    assert first.app_server_secret_key and first.hash_key
    assert first.app_server_secret_key == second.app_server_secret_key
    assert first.hash_key == second.hash_key
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reads_reference_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SERVER_SECRET_KEY", "k")
    monkeypatch.setenv("HASH_KEY", "h")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("IS_PROD", "false")
    monkeypatch.setenv("ADMIN_EXTENSION_ID_DEV_PASS_LIST", "1, 2,")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.admin_extension_ids == ["1", "2"]
    assert settings.resolved() is settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./a.db", "sqlite+aiosqlite:///./a.db"),
        ("sqlite:a.db", "sqlite+aiosqlite:///a.db"),
        ("postgresql://x/y", "postgresql+asyncpg://x/y"),
        ("sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///a.db"),
    ],
)
def test_database_urls_pick_the_async_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
