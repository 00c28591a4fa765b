"""``appconnect check``: each kind of problem it reports, on a small project made per test."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from appconnect.cli import app as cli_app
from appconnect.devtools.check import Report, check_target

runner = CliRunner()

CONNECTOR = '''
from typing import Any

from appconnect import (Connector, ContactMatch, FindContactResult, LogResult, PlatformUserInfo,
                        UpdateLogResult, UserInfoResult)


class Good(Connector):
    platform = "chk"
    auth_type = "apiKey"
    base_url = "https://crm.check"

    def get_basic_auth(self, *, api_key: str, **_: Any) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, **_: Any) -> UserInfoResult:
        me = (await self.http().get("/me")).json()
        return UserInfoResult(successful=True,
                              platform_user_info=PlatformUserInfo(id=me["id"], name=me["name"]))

    async def find_contact(self, *, phone_number: str, **_: Any) -> FindContactResult:
        people = (await self.http().get("/people", params={"phone": phone_number})).json()
        return FindContactResult(matched_contact_info=[ContactMatch(**p) for p in people])

    async def create_call_log(self, **_: Any) -> LogResult:
        return LogResult(log_id=(await self.http().post("/logs")).json()["id"])

    async def update_call_log(self, **_: Any) -> UpdateLogResult:
        return UpdateLogResult()
'''

FAKE = '''
from appconnect.testing import FakeCrm


def fake():
    crm = FakeCrm()
    crm.on("GET", "/me", json={"id": "1-chk", "name": "Checker"})
    crm.on("GET", "/people", json=[{"id": 7, "name": "Ada"}])
    crm.on("POST", "/logs", json={"id": "L1"})
    return crm
'''


def manifest(**platform: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "chk",
        "displayName": "Check CRM",
        "auth": {"type": "apiKey", "apiKey": {"page": {"title": "Check", "content": [
            {"const": "apiKey", "title": "API key", "type": "string", "required": True}]}}},
    }  # fmt: skip
    entry.update(platform)
    return {"author": {"name": "Tests"}, "version": "1.0.0", "platforms": {"chk": entry}}


def project(
    tmp_path: Path,
    *,
    connector: str = CONNECTOR,
    extra: str = "",
    manifest_data: dict[str, Any] | None = None,
    attribute: str = "registry",
    crm: bool = True,
) -> Path:
    """A folder with a connector module (unique name), its manifest, a fake CRM and config."""
    module = f"chk_{uuid.uuid4().hex[:8]}"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest_data or manifest()))
    registry = textwrap.dedent('''
        from pathlib import Path
        from appconnect import ConnectorRegistry, load_manifest
        registry = ConnectorRegistry()
        registry.register(Good(), manifest=load_manifest(Path(__file__).with_name("manifest.json")))
    ''') if attribute == "registry" else ""  # fmt: skip
    (tmp_path / f"{module}.py").write_text(connector + textwrap.dedent(extra) + registry)
    (tmp_path / f"{module}_fake.py").write_text(FAKE)
    config = f'[tool.appconnect]\ntarget = "{module}:{attribute}"\n'
    if crm:
        config += f'crm = "{module}_fake:fake"\n'
    (tmp_path / "pyproject.toml").write_text(config)
    return tmp_path


async def problems(folder: Path) -> tuple[Report, set[str]]:
    report = await check_target(str(folder))
    return report, report.codes()


async def test_a_clean_connector_has_no_problem_and_lists_what_it_implements(
    tmp_path: Path,
) -> None:
    report, codes = await problems(project(tmp_path))
    assert codes == set(), report.render()
    rows = {(f.code, f.subject): f for f in report.findings}
    assert rows[("interfaces", "chk")].detail == (
        "getAuthType, getBasicAuth, getUserInfo, findContact, createCallLog, updateCallLog"
    )
    assert rows[("shape", "chk.find_contact")].status == "ok"
    assert rows[("shape", "chk.create_call_log")].detail == "LogResult"


async def test_manifest_problems_are_listed_field_by_field(tmp_path: Path) -> None:
    broken = manifest()
    del broken["platforms"]["chk"]["name"]
    broken["platforms"]["chk"]["contactTypes"] = "lead"
    report, codes = await problems(project(tmp_path, manifest_data=broken))
    assert codes == {"manifest"}
    details = [f.detail for f in report.problems]
    assert len(details) == 2
    assert any("platform.name is required" in d for d in details)
    assert any("contactTypes" in d for d in details)


async def test_a_feature_without_its_interface(tmp_path: Path) -> None:
    data = manifest(page={"useContactSearch": True}, contactTypes=[{"display": "L", "value": "l"}])
    report, codes = await problems(project(tmp_path, manifest_data=data))
    assert codes == {"feature"}
    assert sorted(f.detail for f in report.problems) == [
        "contactTypes needs create_contact",
        "page.useContactSearch needs find_contact_with_name",
    ]


async def test_auth_type_disagreement_and_missing_auth_interface(tmp_path: Path) -> None:
    data = manifest(auth={"type": "oauth", "oauth": {"authUrl": "https://a", "clientId": "c"}})
    report, codes = await problems(project(tmp_path, manifest_data=data))
    assert codes == {"auth"}
    assert {f.detail for f in report.problems} == {
        "manifest auth.type is 'oauth', connector auth_type is 'apiKey'",
        "auth type 'oauth' needs get_oauth_info",
    }


async def test_a_missing_required_interface(tmp_path: Path) -> None:
    source = CONNECTOR.replace("    async def update_call_log", "    async def update_call_lg")
    report, codes = await problems(project(tmp_path, connector=source, attribute="Good"))
    assert "required" in codes
    assert any(f.detail == "update_call_log is required" for f in report.problems)
    # ... and the near-miss name is called out too.
    assert any(f.code == "misspelled" and "update_call_log" in f.detail for f in report.problems)


async def test_a_misspelled_interface_name(tmp_path: Path) -> None:
    extra = '''
    async def _find_contact_with_nme(self, **_): return {}
    class Good(Good):  # noqa
        async def find_contact_with_nme(self, **_):
            return {}
    '''
    report, codes = await problems(project(tmp_path, extra=extra))
    assert codes == {"misspelled"}
    (problem,) = report.problems
    assert problem.detail == (
        "find_contact_with_nme is no interface; did you mean find_contact_with_name?"
    )


async def test_wrong_return_shapes(tmp_path: Path) -> None:
    extra = '''
    class Good(Good):  # noqa
        async def find_contact(self, **_):
            return [{"id": 1, "name": "Ada"}]  # a list, not {matchedContactInfo: [...]}

        async def create_call_log(self, **_):
            return {"log_id": "L1"}  # snake_case key

        async def get_call_log(self, **_):
            return {"callLogInfo": {"subject": 5}}  # subject must be text

        async def update_call_log(self, **_):
            return {}
    '''
    report, codes = await problems(project(tmp_path, extra=extra))
    assert codes == {"shape"}
    shapes = {f.subject: f.detail for f in report.problems}
    assert shapes == {
        "chk.find_contact": "returned list; expected FindContactResult "
        "(or a dict with its camelCase keys)",
        "chk.create_call_log": "key 'log_id' should be camelCase ('logId')",
        "chk.get_call_log": "GetCallLogResult.callLogInfo.subject: Input should be a valid string",
    }


async def test_a_log_without_its_id_is_a_shape_problem(tmp_path: Path) -> None:
    extra = '''
    class Good(Good):  # noqa
        async def create_call_log(self, **_):
            return {"returnMessage": {"message": "ok"}}
    '''
    report, _ = await problems(project(tmp_path, extra=extra))
    (problem,) = report.problems
    assert problem.subject == "chk.create_call_log"
    assert problem.detail.startswith("logId is missing")


async def test_an_interface_that_raises_against_the_fake_crm(tmp_path: Path) -> None:
    extra = '''
    class Good(Good):  # noqa
        async def create_contact(self, **_):
            response = await self.http().post("/contacts")  # the fake has no such route
            response.raise_for_status()
    '''
    report, codes = await problems(project(tmp_path, extra=extra))
    assert codes == {"raised"}
    (problem,) = report.problems
    assert problem.subject == "chk.create_contact"
    assert problem.detail.startswith("HTTPStatusError: Client error '404 Not Found'")


async def test_no_manifest_and_no_fake_crm(tmp_path: Path) -> None:
    folder = project(tmp_path, attribute="Good", crm=False)
    report, codes = await problems(folder)
    # A connector class named directly is checked against the folder's manifest ...
    assert codes == set(), report.render()
    assert any(f.status == "skipped" and f.code == "calls" for f in report.findings)
    # ... and without one, that is a problem.
    (folder / "manifest.json").unlink()
    report, codes = await problems(folder)
    assert codes == {"no-manifest"}


async def test_a_target_that_does_not_import(tmp_path: Path) -> None:
    report = await check_target("no_such_module_xyz:registry")
    assert report.codes() == {"import"}
    assert "ModuleNotFoundError" in report.problems[0].detail


def test_the_command_prints_the_table_and_fails_for_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = manifest(page={"useContactSearch": True})
    (tmp_path / "bad").mkdir()
    (tmp_path / "clean").mkdir()
    folder = project(tmp_path / "bad", manifest_data=data)
    monkeypatch.chdir(folder)
    result = runner.invoke(cli_app, ["check"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["STATUS", "CHECK", "SUBJECT", "DETAIL"]
    assert any(line.split()[:3] == ["problem", "feature", "chk"] for line in lines)
    assert lines[-1] == "1 problem"
    clean = project(tmp_path / "clean")
    ok = runner.invoke(cli_app, ["check", str(clean)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1] == "0 problems"
