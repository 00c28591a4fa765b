"""Request bodies: JSON, URL-encoded and XML, as the reference's body parsers accept.

Bounded (ours, SECURITY.md): the size is limited while the body is read
(:mod:`appconnect.body_limit`); JSON and XML nest at most :data:`MAX_DEPTH` levels, so nothing
that walks a body recursively can exhaust the stack; XML with a DTD (entity definitions, the
"billion laughs") is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

MAX_BODY = 50 * 1024 * 1024
MAX_DEPTH = 64
_XML_CHUNK = 64 * 1024
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


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


def _parse_xml(raw: bytes) -> ET.Element:
    """Parse XML, refusing a DTD and nesting deeper than :data:`MAX_DEPTH` as it streams."""
    if _DTD.search(raw):
        raise BadBody("invalid XML: DTDs are not accepted")
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    root: ET.Element | None = None
    try:
        for offset in range(0, len(raw), _XML_CHUNK):
            parser.feed(raw[offset : offset + _XML_CHUNK])
            for event, element in cast(Iterator[tuple[str, ET.Element]], parser.read_events()):
                if event == "start":
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise BadBody(f"invalid XML: nested deeper than {MAX_DEPTH} levels")
                    if root is None:
                        root = element
                else:
                    depth -= 1
        parser.close()
    except ET.ParseError as exc:
        raise BadBody(f"invalid XML: {exc}") from exc
    if root is None:
        raise BadBody("invalid XML: no element found")
    return root


def _too_deep(data: Any) -> bool:
    """Does a parsed JSON value nest deeper than :data:`MAX_DEPTH`? (iterative)"""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value  # type: ignore[assignment]
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


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
        root = _parse_xml(raw)
        value = _xml_to_obj(root)
        return {root.tag: value} if not isinstance(value, dict) else value
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadBody(json_error(raw)) from exc
    if not isinstance(data, dict):
        raise BadBody("request body must be a JSON object")
    check_depth(raw, data)
    return data


def check_depth(raw: bytes, data: Any) -> None:
    """Refuse a decoded JSON body nested deeper than :data:`MAX_DEPTH` (:class:`BadBody`)."""
    # Only a body with enough brackets can be deep; counting them is cheaper than walking.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _too_deep(data):
        raise BadBody(f"request body nests deeper than {MAX_DEPTH} levels")


def json_error(raw: bytes) -> str:
    """The message for malformed JSON, as the reference's body parser words it."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"Unexpected token in JSON at position {exc.pos}"
    return "request body must be a JSON object"
