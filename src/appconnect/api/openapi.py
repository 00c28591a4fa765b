"""The OpenAPI document: the one home of every route's documentation helpers.

Routes read their requests themselves (the reference's wire rules decide what an invalid value
answers, and the hot routes skip FastAPI's per-request parameter solving), so FastAPI cannot infer
their bodies, parameters or credentials. Each route states them with :func:`documented`
(``openapi_extra``) and :func:`replies` / :func:`reply_models` (``responses``); the reply bytes
are still built by :mod:`appconnect.api.responses`, so documenting never changes the wire.

Credentials are the reference's (its public OpenAPI contract names the same four):

* the App Connect session token, as a bearer token or the legacy ``jwtToken`` query parameter;
* a RingCentral access token, in ``X-RC-Access-Token`` or the legacy ``rcAccessToken`` query
  parameter (admin routes, and optionally logins);

plus the MCP surface's RingCentral bearer token and its widget token. Each route names the
combination it accepts (:data:`SESSION`, :data:`RC_TOKEN`, :data:`SESSION_AND_RC_TOKEN`, ...);
routes without ``security`` are public (or carry their own capability in the path).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from appconnect.api.wire import ErrorBody, SessionRevoked, adapter

Security = list[dict[str, list[str]]]

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The App Connect session token (jwtToken of /apiKeyLogin or "
        "/oauth-callback).",
    },
    "jwtToken": {
        "type": "apiKey",
        "in": "query",
        "name": "jwtToken",
        "description": "Legacy: the same token as a query parameter.",
    },
    "rcAccessToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-RC-Access-Token",
        "description": "A RingCentral access token; admin routes check that its user is an "
        "administrator of the RingCentral account.",
    },
    "rcAccessTokenQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "rcAccessToken",
        "description": "Legacy: the RingCentral access token as a query parameter (some bodies "
        "carry it as rcAccessToken too).",
    },
    "ringCentralBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "MCP: the RingCentral access token the MCP client obtained with OAuth "
        "(initialize, ping and tools/list need none).",
    },
    "widgetToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-App-Connect-Widget-Token",
        "description": "MCP widget: the signed widget session token.",
    },
}

SESSION: Security = [{"bearerAuth": []}, {"jwtToken": []}]
RC_TOKEN: Security = [{"rcAccessToken": []}, {"rcAccessTokenQuery": []}]
SESSION_AND_RC_TOKEN: Security = [
    {session: [], rc: []}
    for session in ("bearerAuth", "jwtToken")
    for rc in ("rcAccessToken", "rcAccessTokenQuery")
]
OPTIONAL_RC_TOKEN: Security = [{}, *RC_TOKEN]
MCP_BEARER: Security = [{}, {"ringCentralBearer": []}]
WIDGET_TOKEN: Security = [{"widgetToken": []}]


def schema(model: Any) -> dict[str, Any]:
    """``model`` 's JSON schema with every ``$ref`` resolved in place (no ``$defs`` left)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        raw = model.model_json_schema(by_alias=True)
    else:
        raw = adapter(model).json_schema(by_alias=True)
    defs = raw.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    resolved: dict[str, Any] = inline(raw)
    return resolved


def documented(
    body: Any = None,
    *,
    query: tuple[str, ...] = (),
    security: Security | None = SESSION,
    body_required: bool = False,
) -> dict[str, Any]:
    """``openapi_extra`` for a route: JSON body, optional string query parameters, credentials.

    ``security=None`` marks a public route (no ``security`` key at all).
    """
    extra: dict[str, Any] = {}
    if body is not None:
        extra["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": schema(body)}},
        }
    if query:
        extra["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in query
        ]
    if security is not None:
        extra["security"] = security
    return extra


_TEXT = {"text/html": {"schema": {"type": "string"}}}


def replies(
    ok: Any,
    *,
    revocable: bool = False,
    text_ok: bool = False,
    error: bool = True,
    error_model: Any = ErrorBody,
) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses`` for a route of the reference's conventions.

    ``ok`` is the 200 reply's model (``None``: a plain-text 200); ``text_ok`` adds a plain-text
    200 (an empty body on errors, for example). ``400`` is plain text (``Please go to Settings
    and authorize CRM platform``, ...) or ``error_model`` (the ``{"error"}`` envelope unless the
    route says otherwise); ``401`` the revoked-session body where the route can answer it.
    """
    out: dict[int | str, dict[str, Any]] = {}
    if ok is not None:
        out[200] = {"model": ok, "description": "The reference's reply."}
        if text_ok:
            out[200]["content"] = dict(_TEXT)
    else:
        out[200] = {"description": "Plain text.", "content": dict(_TEXT)}
    if error:
        out[400] = {
            "model": error_model,
            "description": "A plain-text refusal (no valid session, bad input) or the "
            "exception envelope.",
            "content": dict(_TEXT),
        }
    if revocable:
        out[401] = {"model": SessionRevoked, "description": "The CRM session was revoked."}
    return out


def reply_models(model: Any, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route whose replies (built by hand) all have ``model`` 's shape."""
    return {
        status: {"model": model, "description": "The reference's reply."}
        for status in statuses or (200,)
    }


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Complete FastAPI's document: the security schemes and undeclared path parameters.

    FastAPI only adds schemes it finds in dependencies, and the routes deliberately have none
    (they run on Starlette's direct path); OpenAPI requires every ``{name}`` of a path to be a
    declared parameter, which FastAPI only does for parameters it solves.
    """
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.update(SECURITY_SCHEMES)
    for path, item in document.get("paths", {}).items():
        names = re.findall(r"{([^}/]+)}", path)
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = operation.setdefault("parameters", [])
            known = {(p.get("in"), p.get("name")) for p in params if isinstance(p, dict)}
            for name in names:
                if ("path", name) not in known:
                    params.append(
                        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    )
    return document
