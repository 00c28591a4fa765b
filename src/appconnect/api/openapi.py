"""OpenAPI documentation for routes that parse their own requests.

Routes here read bodies themselves (the reference's wire rules decide what an invalid value
answers), so FastAPI cannot infer their schemas. These helpers attach a pydantic model's schema to
the operation instead: ``/openapi.json`` then documents the request and reply shapes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/X"}`` replaced by X's schema (no cycles here)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema, self-contained (nested models inlined)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs)
    return inlined


def documented_body(model: type[BaseModel], *, query: tuple[str, ...] = ()) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON body of ``model`` (and optional string queries)."""
    extra: dict[str, Any] = {
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": _schema(model)}},
        }
    }
    if query:
        extra["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in query
        ]
    return extra


def documented_responses(model: type[BaseModel], *, status: int = 200) -> dict[int | str, Any]:
    """``responses=`` for a route whose reply (built by hand) has the shape of ``model``."""
    return {status: {"model": model}}
