"""The OpenAPI document: every route documents its body and replies, and the session scheme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from tests.api._call_log_helpers import Harness, log_body, running_app, sqlite_url

from appconnect import create_app

# Routes anyone may call (no credential, or a capability in the path).
PUBLIC = {
    ("get", "/isAlive"), ("get", "/readyz"), ("get", "/implementedInterfaces"),
    ("get", "/crmManifest"), ("get", "/releaseNotes"), ("get", "/serverVersionInfo"),
    ("get", "/userInfoHash"), ("get", "/oauth-callback"),
    ("put", "/debug/report/upload/{grant}"),  # the signed grant is the credential
    ("post", "/plugin/async-callback/{taskId}"),  # the task id is the plugin's capability
    ("get", "/.well-known/oauth-protected-resource"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("get", "/.well-known/openai-apps-challenge"), ("post", "/oauth/register"),
    ("get", "/oauth/authorize_shim"),
}  # fmt: skip
BODY_METHODS = {"post", "patch", "put"}
BODYLESS = {  # writes that read no body
    "/unAuthorize", "/user/refreshInfo", "/appointments/{appointmentId}/confirm",
    "/appointments/{appointmentId}/cancel", "/debug/report/upload/{grant}",
}  # fmt: skip
SESSION = [{"bearerAuth": []}, {"jwtToken": []}]
RC_TOKEN = [{"rcAccessToken": []}, {"rcAccessTokenQuery": []}]
SESSION_AND_RC_TOKEN = [
    {"bearerAuth": [], "rcAccessToken": []}, {"bearerAuth": [], "rcAccessTokenQuery": []},
    {"jwtToken": [], "rcAccessToken": []}, {"jwtToken": [], "rcAccessTokenQuery": []},
]  # fmt: skip
# Routes whose credentials are not the App Connect session alone (every other route's are).
CREDENTIALS = {
    ("post", "/apiKeyLogin"): [{}, *RC_TOKEN],  # managed auth: optional RingCentral token
    ("get", "/user/preloadSettings"): [{}, *RC_TOKEN],
    ("get", "/admin/settings"): SESSION_AND_RC_TOKEN,
    ("post", "/admin/settings"): RC_TOKEN,
    ("post", "/admin/userMapping"): SESSION_AND_RC_TOKEN,
    ("post", "/admin/reinitializeUserMapping"): SESSION_AND_RC_TOKEN,
    ("get", "/admin/managedAuth"): SESSION_AND_RC_TOKEN,
    ("post", "/admin/managedAuth"): SESSION_AND_RC_TOKEN,
    ("post", "/admin/managedAuth/options"): RC_TOKEN,
    ("post", "/admin/managedOAuth/cache"): RC_TOKEN,
    ("delete", "/admin/managedOAuth/cache"): RC_TOKEN,
    ("delete", "/admin/managedOAuth/account"): RC_TOKEN,
    ("get", "/apiKeyManagedAuthState"): RC_TOKEN,
    ("get", "/oauthManagedAuthState"): RC_TOKEN,
    ("post", "/plugin/register"): RC_TOKEN,
    ("delete", "/plugin/unregister"): RC_TOKEN,
    ("post", "/mcp"): [{}, {"ringCentralBearer": []}],  # initialize, ping... need none
    ("post", "/mcp/widget-tool-call"): [{"widgetToken": []}],
}
CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contracts" / (
    "crm-server-openapi-public.json"
)
# The reference contract's scheme names -> ours.
SCHEME_NAMES = {
    "userJwt": "bearerAuth", "legacyUserJwt": "jwtToken",
    "ringCentralAccessToken": "rcAccessToken", "legacyRingCentralAccessToken": "rcAccessTokenQuery",
}  # fmt: skip


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def _schemas(node: Any) -> list[dict[str, Any]]:
    """Every ``schema`` object in a part of the document."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                found.append(value)
            else:
                found += _schemas(value)
    elif isinstance(node, list):
        for value in node:
            found += _schemas(value)
    return found


def test_document_declares_the_session_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["jwtToken"]["in"] == "query"


def test_every_route_documents_its_body_replies_and_session(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) >= 20
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        ok = op["responses"].get("200")
        assert ok and ok.get("content"), f"{where}: no documented 200 reply"
        assert all(c.get("schema") for c in ok["content"].values()), where
        if method in BODY_METHODS and path not in BODYLESS:
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            assert body.get("schema", {}).get("properties"), f"{where}: no documented body"
        if (method, path) in PUBLIC:
            assert "security" not in op, where
        else:
            expected = CREDENTIALS.get((method, path), SESSION)
            assert op.get("security") == expected, f"{where}: credentials not declared"
        for scheme in (name for option in op.get("security", []) for name in option):
            assert scheme in document["components"]["securitySchemes"], where


def test_credentials_match_the_reference_contract(document: dict[str, Any]) -> None:
    """Where the reference's public contract is at hand, each route it lists declares the same
    credentials (in our scheme names)."""
    if not CONTRACT.exists():
        pytest.skip("the reference contract (../shared) is not available")
    contract = json.loads(CONTRACT.read_text(encoding="utf-8"))
    compared = 0
    for method, path, op in _operations(contract):
        ours = document["paths"].get(path, {}).get(method)
        assert ours is not None, f"{method.upper()} {path} is in the contract, not served"
        options = op.get("security") or []
        theirs = [{SCHEME_NAMES[k]: v for k, v in option.items()} for option in options]
        assert ours.get("security", []) == theirs, f"{method.upper()} {path}"
        compared += 1
    assert compared >= 50


def test_every_schema_is_valid_json_schema_without_dangling_refs(
    document: dict[str, Any],
) -> None:
    components = document["components"]["schemas"]
    for schema in _schemas(document["paths"]):
        jsonschema_rs.meta.validate(schema)
        text = str(schema)
        assert "#/$defs/" not in text
        for name in _refs(schema):
            assert name in components, name


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = [ref.rsplit("/", 1)[1]] if isinstance(ref, str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_post_call_log_as_the_docs_page_would_send_it(tmp_path: Path) -> None:
    """/docs serves Swagger UI; a request built from the documented body and scheme works."""
    async with running_app(sqlite_url(tmp_path)) as h:
        docs = await h.client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        document = (await h.client.get("/openapi.json")).json()
        schema = document["paths"]["/callLog"]["post"]["requestBody"]["content"][
            "application/json"]["schema"]
        body = log_body()
        jsonschema_rs.validate(schema, body)
        auth = await _login(h)
        response = await h.client.post("/callLog", json=body, headers=auth)
        assert response.status_code == 200 and response.json()["successful"] is True
        reply_schema = _resolve(document, document["paths"]["/callLog"]["post"]["responses"]
                                ["200"]["content"]["application/json"]["schema"])
        jsonschema_rs.validate(reply_schema, response.json())


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "components": document["components"]}


async def _login(h: Harness) -> dict[str, str]:
    return await h.login()
