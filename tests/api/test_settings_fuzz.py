"""Property-based check of the settings, admin and managed-auth routes: any body, never a 500.

schemathesis generates requests from ``/openapi.json`` (bodies, query strings, also invalid
ones) for the routes of this issue; RingCentral is mocked and knows the caller as an admin, so
the requests reach the workflows behind the admin check. Every answer must be a 2xx/4xx in one
of the reference's content types.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from tests.api._admin_helpers import FakeRingCentral

from appconnect import Connector, ConnectorRegistry, create_app
from appconnect.settings import Settings

ROUTES = r"^/(user/|admin/|apiKeyManagedAuthState|oauthManagedAuthState|accountData|ringcentral/)"


class FuzzCRM(Connector):
    auth_type = "apiKey"

    def get_basic_auth(self, *, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def get_user_info(self, **_: Any) -> dict[str, Any]:
        return {"successful": True, "platformUserInfo": {"id": "fuzz-user", "name": "Fuzz"}}

    async def get_user_list(self, **_: Any) -> list[dict[str, Any]]:
        return [{"id": 1, "name": "Ann", "email": "a@x"}]

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


def _app(tmp: Path) -> Any:
    rc_api = FakeRingCentral()
    rc_api.caller("fuzz-admin", "acc-F", 1, admin=True)
    registry = ConnectorRegistry()
    registry.register_connector("fuzzcrm", FuzzCRM())
    return create_app(
        registry,
        settings=Settings(
            DATABASE_URL=f"sqlite:///{tmp / 'fuzz.db'}",
            APP_SERVER_SECRET_KEY="fuzz-secret-0123456789abcdef-0123456789",
            HASH_KEY="fuzz-hash",
        ),
        http_transport=rc_api.wrap(),
    )


_DIR = Path(tempfile.mkdtemp(prefix="appconnect-fuzz-"))
atexit.register(shutil.rmtree, _DIR, True)
APP = _app(_DIR)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex=ROUTES)


@pytest.fixture(scope="module")
def session_token() -> str:
    """A real user (logged in over HTTP), so JWT routes get past "User not found"."""
    from starlette.testclient import TestClient

    reply = TestClient(APP).post(
        "/apiKeyLogin",
        json={"platform": "fuzzcrm", "apiKey": "k"},
        headers={"X-RC-Access-Token": "fuzz-admin"},
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["jwtToken"]
    return token


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_500(case: Any, session_token: str) -> None:
    headers = {"Authorization": f"Bearer {session_token}", "X-RC-Access-Token": "fuzz-admin"}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    assert ctype.split(";")[0] in ("application/json", "text/html"), ctype
