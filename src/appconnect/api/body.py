"""Request bodies: JSON, URL-encoded and XML, as the reference's body parsers accept."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

MAX_BODY = 50 * 1024 * 1024


class BadBody(ValueError):
    pass


def _xml_to_obj(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _xml_to_obj(child)
        if child.tag in out:  # repeated tags become a list (no forced arrays otherwise)
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


async def read_body(request: Request) -> dict[str, Any]:
    """The body as an object; an empty body is ``{}``; a malformed one raises :class:`BadBody`."""
    raw = await request.body()
    if not raw:
        return {}
    return decode_body(raw, request.headers.get("content-type", ""))


def decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A non-empty body as an object, decoded by its content type (JSON when unsure)."""
    if len(raw) > MAX_BODY:
        raise BadBody("request entity too large")
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if ctype.endswith("/xml") or ctype.endswith("+xml"):
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as exc:
            raise BadBody(f"invalid XML: {exc}") from exc
        value = _xml_to_obj(root)
        return {root.tag: value} if not isinstance(value, dict) else value
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadBody(json_error(raw)) from exc
    if not isinstance(data, dict):
        raise BadBody("request body must be a JSON object")
    return data


def json_error(raw: bytes) -> str:
    """The message for malformed JSON, as the reference's body parser words it."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"Unexpected token in JSON at position {exc.pos}"
    return "request body must be a JSON object"
