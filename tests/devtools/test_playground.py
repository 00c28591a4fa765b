"""The playground's routes in-process (the page itself is walked in tests/e2e in Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appconnect import create_app
from appconnect.settings import ConfigurationError
from appconnect.testing import app_client, call_log_body, settings_for_test


async def test_the_playground_is_off_unless_asked(tmp_path: Path) -> None:
    async with app_client(tmp_path=tmp_path) as ac:
        assert (await ac.get("/playground")).status_code == 404
        assert (await ac.get("/playground/info")).status_code == 404


async def test_page_files_and_platforms(tmp_path: Path) -> None:
    async with app_client(tmp_path=tmp_path, APPCONNECT_PLAYGROUND="true") as ac:
        page = await ac.get("/playground")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script src="/playground/static/playground.js"' in page.text
        script = await ac.get("/playground/static/playground.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await ac.get("/playground/static/index.html")).status_code == 404
        assert (await ac.get("/playground/static/..%2F..%2Fapp.py")).status_code == 404
        info = (await ac.get("/playground/info")).json()
    assert info == {"platforms": [
        {"platform": "demo", "authType": "apiKey", "displayName": "Demo CRM", "records": True}
    ]}  # fmt: skip


async def test_crm_records_are_the_logged_in_users_own(tmp_path: Path) -> None:
    async with app_client(tmp_path=tmp_path, APPCONNECT_PLAYGROUND="true") as ac:
        assert (await ac.get("/playground/crm")).status_code == 400  # no session
        await ac.login(api_key="first-user")
        logged = await ac.post("/callLog", json=call_log_body("s-1", contact_id="sample-ada",
                                                               note="Mine"))  # fmt: skip
        assert logged.json()["successful"] is True
        (record,) = (await ac.get("/playground/crm")).json()["records"]
        assert record["kind"] == "call" and "- Note: Mine" in record["body"]
        await ac.login(api_key="second-user")
        assert (await ac.get("/playground/crm")).json() == {"records": []}


def test_the_playground_refuses_to_run_in_production(tmp_path: Path) -> None:
    settings = settings_for_test(tmp_path, APPCONNECT_PLAYGROUND="true", IS_PROD="true")
    with pytest.raises(ConfigurationError, match="IS_PROD"):
        create_app(settings=settings)
