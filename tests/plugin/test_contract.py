"""The SDK's plugin server against the published plugin-server contract (schemathesis).

Every operation of ``plugin-server-openapi.json`` is called with generated requests on a real
uvicorn server; responses must match the contract (status codes, content types, schemas,
headers) and never be a server error. Skipped when ``../shared`` (the contract) is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

CONTRACT = Path(__file__).resolve().parents[3] / "shared/contracts/plugin-server-openapi.json"
if not CONTRACT.exists():
    pytest.skip("the plugin-server contract (../shared) is not available", allow_module_level=True)

import schemathesis  # noqa: E402
from examples.plugins.allcaps import all_caps  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from tests.fakes.plugins import RC_SERVER, FakeRingCentral  # noqa: E402
from tests.plugin._servers import serving  # noqa: E402

from appconnect.plugin import Invocation, OAuthCallback, PluginServer  # noqa: E402

SECRET = "contract-test-secret-0123456789abcdef"
# Schema-valid requests only: the contract documents no 4xx for most operations, so the answer
# to a schema-violating request could not conform to it either way. Registration with a made-up
# RingCentral token is refused (400 or 403), as the contract says.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "positive"},
        "operations": [
            {
                "include-path": "/admin/register",
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "403"]}
                },
            },
            {
                # A provider error (or a state the plugin does not know) is a documented 400.
                "include-path": "/oauth/callback",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400"]}},
            },
        ],
    }
)
schema = schemathesis.openapi.from_dict(
    json.loads(CONTRACT.read_text(encoding="utf-8")), config=CONFIG
)


def contract_server() -> PluginServer:
    rc = FakeRingCentral()
    rc.admin("valid-rc-token", "123456789")
    # RingCentral is faked; callbacks to the generated callbackUrl values go nowhere (404).
    server = PluginServer(
        "contract-plugin", secret=SECRET, rc_server=RC_SERVER, http_transport=rc.transport
    )
    server.transform(all_caps)

    @server.background
    async def work(call: Invocation) -> str:
        return "done"

    @server.authorization_url
    async def auth_url(plugin_id: str | None) -> str:
        return "https://provider.example.com/oauth/authorize?client_id=plugin"

    @server.oauth_callback
    async def completed(callback: OAuthCallback) -> None:
        if callback.callback_params.get("error"):
            raise ValueError("provider refused")

    return server


@pytest.fixture(scope="module")
def plugin_server() -> Iterator[tuple[str, PluginServer]]:
    server = contract_server()
    with serving(server.app) as url:
        yield url, server


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_sdk_plugin_server_honours_the_contract(
    case: Any, plugin_server: tuple[str, PluginServer]
) -> None:
    url, server = plugin_server
    token = server.issue_credential("123456789")
    case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"})


def test_protected_endpoints_refuse_missing_and_foreign_credentials(
    plugin_server: tuple[str, PluginServer],
) -> None:
    url, _server = plugin_server
    other = PluginServer("other-plugin", secret=SECRET).issue_credential("123456789")
    with httpx2.Client(base_url=url, timeout=10) as client:
        for method, path in (("POST", "/token/sync"), ("POST", "/plugin/sync"),
                             ("POST", "/plugin/async"), ("GET", "/license")):  # fmt: skip
            body = {} if method == "POST" else None
            missing = client.request(method, path, json=body)
            assert (missing.status_code, missing.text) == (401, "Bearer token is required")
            bad = client.request(method, path, json=body, headers={"Authorization": "Bearer x"})
            assert (bad.status_code, bad.text) == (401, "Invalid bearer token")
            foreign = client.request(
                method, path, json=body, headers={"Authorization": f"bearer {other}"}
            )
            assert (foreign.status_code, foreign.text) == (
                403, "Token pluginId does not match route pluginId"
            )  # fmt: skip
