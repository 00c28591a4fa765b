"""Where configs come from: the database table, files, a remote URL; selected by proxyId."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import text
from tests.fakes import FakeCrm
from tests.proxy._proxy_helpers import DATA, example, proxy_app
from tests.support import serve
from typer.testing import CliRunner

from appconnect import ConnectorRegistry, Settings, create_app
from appconnect.cli import app as cli_app
from appconnect.connectors.proxy import ProxyConfigs, ProxyConnector
from appconnect.security.crypto import reference_encrypt

CONSOLE = "https://console.example/connectors/{proxyId}/proxy"


def kitchen_crm() -> FakeCrm:
    crm = FakeCrm()
    crm.on("POST", "/api/session", json={"displayName": "Kit", "token": "tok-1"})
    return crm


async def login(client: httpx2.AsyncClient, proxy_id: str) -> httpx2.Response:
    return await client.post(
        "/apiKeyLogin",
        json={
            "platform": "kitchen",
            "apiKey": "k",
            "proxyId": proxy_id,
            "additionalInfo": {"username": "kit", "password": "pw"},
        },
    )


async def test_a_config_stored_in_the_database_is_used_without_restart(settings: Settings) -> None:
    crm = kitchen_crm()
    configs = ProxyConfigs()
    async with serve(proxy_app(settings, crm, configs)) as (client, rt):
        assert (await login(client, "db-1")).status_code == 400  # not there yet (and cached)
        await configs.put("db-1", {**example("kitchen"), "secretKey": "authored"}, "sekrit")
        assert (await login(client, "db-1")).status_code == 200
        loaded = await configs.get("db-1")
        assert loaded is not None and loaded["secretKey"] == "sekrit"
        async with rt.db.session() as session:
            row = (
                await session.execute(text('SELECT config, "secretKey" FROM "proxyConfigs"'))
            ).one()
        stored = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        assert "secretKey" not in stored  # the authored secret is dropped
        assert row[1].startswith("gcm1:") and "sekrit" not in row[1]  # encrypted at rest
        with pytest.raises(ValueError, match=r"\$\.auth"):
            await configs.put("db-2", {"operations": {}})
        assert await configs.delete("db-1") is True
        assert await configs.get("db-1") is None


async def test_an_oauth_client_secret_is_encrypted_in_the_table(settings: Settings) -> None:
    config = example("nimbus")
    config["auth"] = {"type": "oauth", "clientId": "cid", "clientSecret": "client-s3cret",
                      "tokenUrl": "https://app.nimbuscrm.example/oauth/token"}  # fmt: skip
    configs = ProxyConfigs()
    async with serve(proxy_app(settings, FakeCrm(), configs)) as (_, rt):
        await configs.put("oauth-1", config)
        async with rt.db.session() as session:
            raw = (await session.execute(text('SELECT config FROM "proxyConfigs"'))).scalar_one()
        assert "client-s3cret" not in str(raw)
        stored = raw if isinstance(raw, dict) else json.loads(raw)
        assert stored["auth"]["clientSecret"].startswith("gcm1:")
        assert stored["auth"]["clientId"] == "cid"
        configs.forget("oauth-1")
        loaded = await configs.get("oauth-1")
        assert loaded is not None and loaded["auth"]["clientSecret"] == "client-s3cret"
        info = await ProxyConnector(configs).get_oauth_info(proxy_id="oauth-1")
        assert info["clientSecret"] == "client-s3cret"


async def test_database_configs_win_over_files_and_files_over_the_url(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "shared.json").write_text(json.dumps({"auth": {}, "meta": {"name": "file"}}))
    crm = FakeCrm()
    crm.on("GET", "/connectors/shared/proxy", json={"auth": {}, "meta": {"name": "url"}})
    crm.on("GET", "/connectors/remote/proxy", json={"auth": {}, "meta": {"name": "url"}})
    configs = ProxyConfigs(path=tmp_path, url=CONSOLE)
    async with serve(proxy_app(settings, crm, configs)):
        shared = await configs.get("shared")
        assert shared is not None and shared["meta"]["name"] == "file"
        remote = await configs.get("remote")
        assert remote is not None and remote["meta"]["name"] == "url"
        await configs.put("shared", {"auth": {}, "meta": {"name": "db"}})
        shared = await configs.get("shared")
        assert shared is not None and shared["meta"]["name"] == "db"
    assert [r.path for r in crm.requests] == ["/connectors/remote/proxy"]


async def test_remote_configs_are_cached_and_their_secret_decrypted(settings: Settings) -> None:
    crm = FakeCrm()
    record = {
        "id": "c1",
        "proxyConfig": {**example("nimbus"), "secretKey": "from-the-document"},
        "encodedSecretKey": reference_encrypt("s3cr3t", "developer-key"),
    }
    crm.on("GET", "/connectors/px_1/proxy", json=record)
    configs = ProxyConfigs(url=CONSOLE, developer_secret="developer-key", cache_ttl=60)
    async with serve(proxy_app(settings, crm, configs)):
        first = await configs.get("px_1")
        second = await configs.get("px_1")
        assert first is not None and first["secretKey"] == "s3cr3t"
        assert second == first
        assert await configs.get("missing") is None  # 404: no such config
        assert await configs.get("missing") is None
    assert [r.path for r in crm.requests] == [
        "/connectors/px_1/proxy",
        "/connectors/missing/proxy",
    ]


async def test_a_url_without_placeholder_gets_the_id_as_a_query(settings: Settings) -> None:
    crm = FakeCrm()
    crm.on("GET", "/lookup", json={"proxyConfig": {"auth": {}}})
    configs = ProxyConfigs(url="https://console.example/lookup?v=2", cache_ttl=0)
    async with serve(proxy_app(settings, crm, configs)):
        assert await configs.get("a b") == {"auth": {}}
        assert await configs.get("a b") == {"auth": {}}
    assert [r.url for r in crm.requests] == ["https://console.example/lookup?v=2&proxyId=a%20b"] * 2


async def test_a_failing_remote_is_not_fatal(settings: Settings) -> None:
    crm = FakeCrm()
    crm.on("GET", "/connectors/px_1/proxy", status=503)
    configs = ProxyConfigs(url=CONSOLE)
    async with serve(proxy_app(settings, crm, configs)) as (client, _):
        answer = await client.post(
            "/apiKeyLogin", json={"platform": "nimbus", "apiKey": "k", "proxyId": "px_1"}
        )
        assert answer.status_code == 400
        assert (await client.get("/isAlive")).status_code == 200


async def test_settings_enable_the_proxy_with_configs_from_a_directory(
    make_settings: Any, tmp_path: Path
) -> None:
    configs_dir = tmp_path / "configs"
    configs_dir.mkdir()
    (configs_dir / "kitchen-1.json").write_text((DATA / "kitchen.json").read_text())
    (configs_dir / "broken.json").write_text("{nope")
    (configs_dir / "invalid.json").write_text(json.dumps({"operations": []}))
    settings = make_settings(
        APPCONNECT_PROXY_CONFIG_PATH=str(configs_dir),
        APPCONNECT_PROXY_ALLOWED_HOSTS="*.example",
        APPCONNECT_PROXY_SECRET_KEYS=json.dumps({"kitchen-1": "file-secret"}),
    )
    crm = kitchen_crm()
    registry = ConnectorRegistry()
    app = create_app(registry, settings=settings, http_transport=crm.transport)
    assert isinstance(registry.get_original_connector("proxy"), ProxyConnector)
    async with serve(app) as (client, rt):
        assert (await login(client, "kitchen-1")).status_code == 200
        assert (await login(client, "invalid")).status_code == 400
        assert (await login(client, "broken")).status_code == 400
        configs = rt.state["proxy_configs"]
        loaded = await configs.get("kitchen-1")
        assert loaded["secretKey"] == "file-secret"
        interfaces = await client.get("/implementedInterfaces?platform=kitchen")
        flags = interfaces.json()
        assert flags["findContact"] and flags["createMessageLog"] and flags["getBasicAuth"]
        assert not flags["listAppointments"] and not flags["refreshUserInfo"]
    assert len(crm.requests) == 1


async def test_without_proxy_settings_unknown_platforms_stay_unknown(settings: Settings) -> None:
    registry = ConnectorRegistry()
    async with serve(create_app(registry, settings=settings)) as (client, _):
        answer = await client.post("/apiKeyLogin", json={"platform": "nimbus", "apiKey": "k"})
        assert answer.json() == {"error": "Connector not found for platform: nimbus"}


def test_proxy_put_command_stores_a_config(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_SERVER_SECRET_KEY", settings.app_server_secret_key or "")
    monkeypatch.setenv("HASH_KEY", "h")
    monkeypatch.setenv("NIMBUS_SECRET", "s3cr3t")
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        [
            "proxy",
            "put",
            str(DATA / "nimbus.json"),
            "--proxy-id",
            "px_9",
            "--secret-key-env",
            "NIMBUS_SECRET",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"stored": "px_9"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"operations": 1}))
    result = runner.invoke(cli_app, ["proxy", "put", str(bad), "--proxy-id", "px_bad"])
    assert result.exit_code == 1
    assert "$.auth" in result.stderr

    async def stored() -> Any:
        configs = ProxyConfigs()
        async with serve(proxy_app(settings, FakeCrm(), configs)):
            return await configs.get("px_9")

    loaded = asyncio.run(stored())
    assert loaded is not None and loaded["secretKey"] == "s3cr3t"
    assert loaded["meta"]["name"] == "nimbus"
