"""``GET /debug/report/url`` and the local store's upload endpoint, over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from appconnect.app import create_app
from appconnect.runtime import Runtime
from appconnect.services import debug_reports
from appconnect.settings import Settings
from support import add_user, bearer, serve


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx2.AsyncClient, Runtime]]:
    settings = Settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        APP_SERVER_SECRET_KEY="s",
        HASH_KEY="k",
        APP_SERVER="https://connector.example",
        APPCONNECT_REPORT_DIR=str(tmp_path / "reports"),
    )
    async with serve(create_app(settings=settings)) as pair:
        yield pair


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "connector.example"
    return parts.path


async def test_report_url_then_upload(
    api: tuple[httpx2.AsyncClient, Runtime], tmp_path: Path
) -> None:
    client, rt = api
    token = await add_user(rt, "u1-demo", "demo")
    response = await client.get("/debug/report/url", headers=bearer(token))
    assert response.status_code == 200 and set(response.json()) == {"presignedUrl"}
    url = response.json()["presignedUrl"]
    report = {"logs": ["boom"], "version": "1.7"}
    uploaded = await client.put(
        _path(url), content=json.dumps(report), headers={"Content-Type": "application/json"}
    )
    assert uploaded.status_code == 200, uploaded.text
    key = uploaded.json()["key"]
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    assert re.fullmatch(rf"error-reports/{day}/u1-demo-[A-Za-z0-9_-]+\.json", key)
    stored = tmp_path / "reports" / key
    assert json.loads(stored.read_text()) == report
    meta = json.loads(stored.with_name(stored.name + ".meta.json").read_text())
    assert meta == {"user-id": "u1-demo", "platform": "demo"}


async def test_token_rules(api: tuple[httpx2.AsyncClient, Runtime], tmp_path: Path) -> None:
    client, _ = api
    missing = await client.get("/debug/report/url")
    assert missing.status_code == 400 and missing.text == "Invalid request"
    # Any token will do; an undecodable one files the report under "undefined".
    odd = await client.get("/debug/report/url", params={"jwtToken": "not-a-jwt"})
    assert odd.status_code == 200
    uploaded = await client.put(_path(odd.json()["presignedUrl"]), content=b"{}")
    assert "/undefined-" in uploaded.json()["key"]
    header = await client.get("/debug/report/url", headers=bearer("also-not-a-jwt"))
    assert header.status_code == 200


async def test_upload_grant_is_checked(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api
    forged = await client.put("/debug/report/upload/abc.def.ghi", content=b"{}")
    assert forged.status_code == 403
    store = debug_reports.LocalReportStore(rt.settings.report_dir, "another-secret")
    target = debug_reports.new_target("b", "u", "p")
    url = await store.upload_url(target, "https://connector.example")
    other_secret = await client.put(_path(url), content=b"{}")
    assert other_secret.status_code == 403


def test_object_keys_cannot_leave_the_folder(tmp_path: Path) -> None:
    store = debug_reports.LocalReportStore(tmp_path, "s")
    path = store.path_for("error-reports/2026-01-01/../../../etc/passwd-x.json")
    assert tmp_path in path.parents and ".." not in path.parts
    path = store.path_for("error-reports/d/a\\b/c-1.json")
    assert tmp_path in path.parents


async def test_storage_failure_answers_400(api: tuple[httpx2.AsyncClient, Runtime]) -> None:
    client, rt = api

    class Broken:
        async def upload_url(self, target: debug_reports.ReportTarget, base_url: str) -> str:
            raise OSError("bucket unreachable")

    rt.state[debug_reports.STATE_KEY] = Broken()
    response = await client.get("/debug/report/url", headers=bearer("x"))
    # An infrastructure error never reaches the client as text (issue 12, item 5).
    assert response.status_code == 400 and response.json() == {"error": "Internal server error"}
