"""OpenAPI documentation for routes that parse their own requests.

Routes here read bodies themselves (the reference's wire rules decide what an invalid value
answers), so FastAPI cannot infer their schemas. These helpers attach a pydantic model's schema to
the operation instead: ``/openapi.json`` then documents the request and reply shapes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF)
    schema.pop("$defs", None)  # nested models are documented inline by the reply models
    return schema


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
