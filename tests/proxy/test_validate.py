"""Config validation and ``appconnect proxy check``: each kind of mistake, with its JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.proxy._proxy_helpers import DATA, example
from typer.testing import CliRunner

from appconnect.cli import app as cli_app
from appconnect.connectors.proxy.validate import check_config


def found(config: Any) -> set[tuple[str, str, str]]:
    """(severity, path, first words of the message) of every problem."""
    return {(p.severity, p.path, p.message.split(":")[0]) for p in check_config(config)}


def paths(config: Any, severity: str = "error") -> list[str]:
    return [p.path for p in check_config(config) if p.severity == severity]


def test_the_spec_examples_are_clean() -> None:
    assert check_config(example("nimbus")) == []
    assert check_config(example("kitchen")) == []


def test_not_an_object() -> None:
    assert paths([1, 2]) == ["$"]
    assert paths("text") == ["$"]


def test_missing_auth_and_wrong_auth_type() -> None:
    assert paths({}) == ["$.auth"]
    assert paths({"auth": "apiKey"}) == ["$.auth"]
    assert paths({"auth": {"type": "basic", "encode": 1}}) == ["$.auth.type", "$.auth.encode"]


def test_wrong_types_everywhere() -> None:
    config = {
        "auth": {},
        "meta": [],
        "requestDefaults": {"baseUrl": "ftp://x", "timeoutSeconds": "20", "defaultHeaders": []},
        "operations": {
            "findContact": {
                "method": 5,
                "url": ["/x"],
                "headers": "X-A: 1",
                "query": [],
                "body": 5,
                "auth": [],
                "responseMapping": {"listPath": 3, "item": {"idPath": ["id"]}},
            }
        },
    }
    assert paths(config) == [
        "$.meta",
        "$.requestDefaults.baseUrl",
        "$.requestDefaults.timeoutSeconds",
        "$.requestDefaults.defaultHeaders",
        "$.operations.findContact.method",
        "$.operations.findContact.url",
        "$.operations.findContact.headers",
        "$.operations.findContact.query",
        "$.operations.findContact.body",
        "$.operations.findContact.auth",
        "$.operations.findContact.responseMapping.listPath",
        "$.operations.findContact.responseMapping.item.idPath",
    ]


def test_relative_url_without_base_and_bad_methods_and_headers() -> None:
    config = {
        "auth": {"headerName": "X Api Key"},
        "operations": {
            "getCallLog": {"url": "/activities/{{thirdPartyLogId}}"},
            "updateCallLog": {"method": "PATCH ME", "url": "HTTPS://crm.example/a"},
            "createCallLog": {"url": "https://crm.example", "headers": {"Bad Header": "x"}},
            "unAuthorize": {},
        },
    }
    assert paths(config) == [
        "$.auth.headerName",
        "$.operations.getCallLog.url",
        "$.operations.updateCallLog.method",
        "$.operations.updateCallLog.url",
        "$.operations.createCallLog.headers['Bad Header']",
        "$.operations.unAuthorize.url",
    ]


def test_templated_base_url_is_an_error() -> None:
    config = {"auth": {}, "requestDefaults": {"baseUrl": "https://{{user.hostname}}/api"}}
    assert paths(config) == ["$.requestDefaults.baseUrl"]


def test_warnings() -> None:
    config = {
        "auth": {"credentialTemplate": "{{apiKey}}"},
        "secretKey": "authored",
        "meta": {"logFormat": "text/rtf"},
        "requestDefaults": {"baseUrl": "https://crm.example"},
        "operations": {
            "findContacts": {"url": "/x"},
            "getUserInfo": {"url": "/me", "responseMapping": {"namePath": "body.name"}},
            "getUserList": {"url": "/users", "responseMapping": {}},
            "findContact": {"url": "/people?phone={{phone}}"},
            "createCallLog": {
                "url": "/logs",
                "body": {"who": "{{contact.id}}", "text": "{{ note", "env": "{{settings.key}}"},
            },
            "createMessageLog": {"url": "/m", "body": "{{message}}"},
        },
    }
    assert paths(config) == []
    assert set(paths(config, "warning")) == {
        "$.auth.credentialTemplate",
        "$.secretKey",
        "$.meta.logFormat",
        "$.operations.findContacts",
        "$.operations.getUserInfo.responseMapping.idPath",
        "$.operations.getUserList.responseMapping.listPath",
        "$.operations.findContact.url",
        "$.operations.findContact.responseMapping",
        "$.operations.createCallLog.body.who",
        "$.operations.createCallLog.body.text",
        "$.operations.createCallLog.body.env",
        "$.operations.createCallLog.responseMapping",
        "$.operations.createMessageLog.body",
    }


# -- the command ---------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args))


def test_check_command_accepts_the_example() -> None:
    result = run("proxy", "check", str(DATA / "nimbus.json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"valid": True, "warnings": 0}


def test_check_command_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    config = example("nimbus")
    del config["auth"]
    config["requestDefaults"]["timeoutSeconds"] = 0
    config["operations"]["findContact"]["method"] = "GET /people"
    config["operations"]["getCallLog"]["url"] = 7
    config["operations"]["createContact"]["body"] = 3
    config["operations"]["createCalllog"] = {}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    result = run("proxy", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        'error: $.auth: is required (use {} for "apiKey" with the framework header)',
        "error: $.requestDefaults.timeoutSeconds: must be a number above 0",
        "error: $.operations.findContact.method: must be an HTTP method such as GET or POST",
        "error: $.operations.createContact.body: must be an object, a list or a string",
        "error: $.operations.getCallLog.url: must be a string",
        "warning: $.operations.createCalllog: unknown operation 'createCalllog' is ignored",
    ]


@pytest.mark.parametrize("text", ["{not json", ""])
def test_check_command_on_broken_json(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    result = run("proxy", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: $: not a readable JSON document")
