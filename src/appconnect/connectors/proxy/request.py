"""Turning one proxy-config operation into one HTTP request (spec: proxy-connector.md §6, §7).

Pure: no I/O. :func:`build_request` takes the config, the operation and a template context and
returns a :class:`ProxyRequest` (method, URL with its query, headers, body bytes, timeout); the
connector sends it. Config mistakes that make a request impossible raise :class:`ProxyConfigError`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from appconnect.connectors.proxy.template import UNDEFINED, js_text, render_deep, render_string
from appconnect.jsvalues import js_iso_string, js_stringify

DEFAULT_TIMEOUT = 30.0
DEFAULT_ACCEPT = "application/json, text/plain, */*"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ProxyConfigError(ValueError):
    """The config cannot produce a request (e.g. a body that renders to a number)."""


@dataclass(frozen=True)
class ProxyRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    content: bytes | None
    timeout: float

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def join_url(base: Any, url: Any) -> str:
    """``baseUrl`` + rendered ``url``: absolute URLs win; one slash between the two."""
    base_text = base if isinstance(base, str) else ""
    if url is None or url is UNDEFINED or url == "":
        return base_text
    path = url if isinstance(url, str) else js_text(url)
    if not base_text or path.startswith(("http://", "https://")):
        return path
    return base_text.removesuffix("/") + "/" + path.removeprefix("/")


def timeout_of(config: Mapping[str, Any]) -> float:
    raw = as_dict(config.get("requestDefaults")).get("timeoutSeconds")
    if raw is None or isinstance(raw, bool):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 and math.isfinite(seconds) else DEFAULT_TIMEOUT


# -- headers ---------------------------------------------------------------------------------


def header_value(value: Any) -> str | None:
    """A rendered header value as text; ``None`` drops the header (null, undefined, false)."""
    if value is None or value is UNDEFINED or value is False:
        return None
    if isinstance(value, list):
        text = ", ".join(js_text(item) for item in value)
    else:
        text = js_text(value)
    # A value carrying CR/LF (from user data) must not split the header: fold it.
    return text.replace("\r", " ").replace("\n", " ")


def auth_header(auth: Mapping[str, Any], context: Mapping[str, Any], flow_header: str) -> Any:
    """The credential header value under §6.1's rules, or ``None`` for no header."""
    template = auth.get("credentialTemplate")
    scheme = auth.get("scheme")
    if isinstance(template, str) and template:
        rendered = render_string(template, context)
        if auth.get("encode") == "none":
            token = js_text(rendered) if rendered is not UNDEFINED else "undefined"
        else:
            if not isinstance(rendered, str):
                raise ProxyConfigError(
                    "auth.credentialTemplate must render to text to be base64-encoded"
                )
            token = base64.b64encode(rendered.encode("utf-8")).decode("ascii")
        return f"{scheme} {token}" if isinstance(scheme, str) and scheme else token
    if flow_header:
        return flow_header
    if auth.get("type") == "oauth":
        user = as_dict(context.get("user"))
        prefix = scheme if isinstance(scheme, str) and scheme else "Bearer"
        return f"{prefix} {js_text(user.get('accessToken')) or 'undefined'}"
    return None


def build_headers(
    config: Mapping[str, Any],
    operation: Mapping[str, Any],
    context: Mapping[str, Any],
    flow_header: str,
) -> list[tuple[str, str]]:
    """Defaults, then operation headers, then the auth header; names compare case-blind."""
    merged: dict[str, tuple[str, Any]] = {"accept": ("Accept", DEFAULT_ACCEPT)}
    defaults = as_dict(as_dict(config.get("requestDefaults")).get("defaultHeaders"))
    for source in (defaults, as_dict(operation.get("headers"))):
        for name, value in render_deep(source, context).items():
            merged[str(name).lower()] = (str(name), value)
    auth = operation.get("auth") if isinstance(operation.get("auth"), Mapping) else None
    chosen = as_dict(auth if auth is not None else config.get("auth"))
    name = chosen.get("headerName") if isinstance(chosen.get("headerName"), str) else None
    name = name or "Authorization"
    credential = auth_header(chosen, context, flow_header)
    if credential is not None:
        merged[name.lower()] = (name, credential)
    out: list[tuple[str, str]] = []
    for header_name, raw in merged.values():
        text = header_value(raw)
        if text is not None:
            out.append((header_name, text))
    return out


# -- query strings and form bodies -------------------------------------------------------------


def _component(text: str) -> str:
    encoded = quote(text, safe="-_.!~*'()")
    for plain, escaped in ((":", "%3A"), ("$", "%24"), (",", "%2C"), ("[", "%5B"), ("]", "%5D")):
        encoded = encoded.replace(escaped, plain)
    return encoded.replace("%20", "+")


def _scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return iso_utc(value)
    return js_text(value)


def _pairs(key: str, value: Any, out: list[tuple[str, str]]) -> None:
    if value is None or value is UNDEFINED:
        return
    if isinstance(value, list):
        if all(not isinstance(item, (Mapping, list)) for item in value):
            for item in value:
                if item is not None and item is not UNDEFINED:
                    out.append((f"{key}[]", _scalar(item)))
        else:
            for index, item in enumerate(value):
                _pairs(f"{key}[{index}]", item, out)
        return
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _pairs(f"{key}[{sub}]", item, out)
        return
    out.append((key, _scalar(value)))


def encode_params(params: Mapping[str, Any]) -> str:
    """The reference client's query serialization (also used for form bodies)."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        _pairs(str(key), value, out)
    return "&".join(f"{_component(k)}={_component(v)}" for k, v in out)


def with_query(url: str, query: str) -> str:
    if not query:
        return url
    head, hash_mark, fragment = url.partition("#")
    joined = f"{head}{'&' if '?' in head else '?'}{query}"
    return f"{joined}{hash_mark}{fragment}"


# -- bodies ------------------------------------------------------------------------------------


iso_utc = js_iso_string  # Date.toISOString (a naive value is UTC)


def encode_body(
    body: Any, method: str, headers: list[tuple[str, str]]
) -> tuple[bytes | None, str | None]:
    """The body bytes and the content type to add (``None`` when a header sets one)."""
    configured = next((v for k, v in headers if k.lower() == "content-type"), None)
    if body is UNDEFINED or body is None:
        return None, None
    if isinstance(body, str):
        default = FORM_TYPE if method in _BODY_METHODS else JSON_TYPE
        return body.encode("utf-8"), None if configured else default
    if isinstance(body, (Mapping, list)):
        if (
            configured
            and configured.split(";")[0].strip().lower() == FORM_TYPE
            and isinstance(body, Mapping)
        ):
            return encode_params(body).encode("ascii"), None
        text = js_stringify(body) or ""  # an object or a list: never undefined
        return text.encode("utf-8"), None if configured else JSON_TYPE
    raise ProxyConfigError("the request body must render to an object, a list or text")


def build_request(
    config: Mapping[str, Any],
    operation: Mapping[str, Any],
    context: Mapping[str, Any],
    flow_header: str = "",
) -> ProxyRequest:
    """Everything §7.1 says about one request, from config + context."""
    raw_url = operation.get("url")
    rendered_url = render_string(raw_url, context) if isinstance(raw_url, str) else raw_url
    url = join_url(as_dict(config.get("requestDefaults")).get("baseUrl"), rendered_url)
    raw_method = operation.get("method")
    method = raw_method.upper() if isinstance(raw_method, str) and raw_method else "GET"
    headers = build_headers(config, operation, context, flow_header)
    query = render_deep(as_dict(operation.get("query")), context)
    url = with_query(url, encode_params(query))
    raw_body = operation.get("body", {})
    body = render_deep({} if raw_body is None else raw_body, context)
    content, content_type = encode_body(body, method, headers)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return ProxyRequest(method, url, headers, content, timeout_of(config))
