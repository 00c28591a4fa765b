"""Checking a proxy config: every problem, with its JSON path (spec §3.6).

Errors are what makes the reference fail or a request impossible (wrong types, no ``auth``, a
relative URL without ``baseUrl``, a method that is not an HTTP token...). Warnings are what the
reference accepts but is almost certainly a mistake (unknown operation names, template variables
the operation does not have, a ``getUserInfo`` mapping without ``idPath``...). The server refuses
to use a config with errors; ``appconnect proxy check`` prints both kinds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from appconnect.connectors.proxy.context import BASE_VARIABLES, OPERATION_INPUTS
from appconnect.connectors.proxy.template import expressions, is_whole_expression

OPERATIONS = tuple(OPERATION_INPUTS)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_LOOSE_BRACES = re.compile(r"\{\{(?![^{}]*\}\})")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else f"{path}[{key!r}]"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, "error"))

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, "warning"))

    def typed(self, value: Any, path: str, kinds: tuple[type, ...], label: str) -> bool:
        if isinstance(value, bool) and bool not in kinds:
            self.error(path, f"must be {label}")
            return False
        if not isinstance(value, kinds):
            self.error(path, f"must be {label}")
            return False
        return True

    # -- templates ---------------------------------------------------------------------------

    def templates(self, value: Any, path: str, allowed: set[str] | None) -> None:
        for where, text in _strings(value, path):
            self.template(text, where, allowed)

    def template(self, text: str, path: str, allowed: set[str] | None) -> None:
        if _LOOSE_BRACES.search(text):
            self.warn(path, "'{{' without a matching '}}' is sent literally")
        if allowed is None:
            return
        for expr in expressions(text):
            root = expr.split(".", 1)[0]
            if root not in allowed:
                self.warn(
                    path,
                    f"template variable {root!r} does not exist for this operation "
                    "(it always renders as nothing)",
                )

    # -- sections ----------------------------------------------------------------------------

    def auth(self, auth: Any, path: str, allowed: set[str] | None) -> None:
        if not self.typed(auth, path, (dict,), "an object"):
            return
        auth_type = auth.get("type")
        if auth_type is not None and auth_type not in ("apiKey", "oauth"):
            self.error(f"{path}.type", 'must be "apiKey" or "oauth"')
        for key in ("scheme", "headerName", "credentialTemplate", "encode", "clientId",
                    "clientSecret", "tokenUrl", "redirectUri"):  # fmt: skip
            if key in auth and not isinstance(auth[key], str):
                self.error(f"{path}.{key}", "must be a string")
        name = auth.get("headerName")
        if isinstance(name, str) and name and not _TOKEN.match(name):
            self.error(f"{path}.headerName", f"{name!r} is not a valid HTTP header name")
        template = auth.get("credentialTemplate")
        if isinstance(template, str):
            self.template(template, f"{path}.credentialTemplate", allowed)
            if is_whole_expression(template) and auth.get("encode") != "none":
                self.warn(
                    f"{path}.credentialTemplate",
                    "a bare expression may render a non-string, which cannot be base64-encoded;"
                    ' write e.g. "{{apiKey}}:"',
                )
        if auth_type == "oauth" and path == "$.auth":
            for key in ("clientId", "tokenUrl"):
                if not auth.get(key):
                    self.warn(f"{path}.{key}", "an OAuth config needs it for the token exchange")

    def headers(self, headers: Any, path: str, allowed: set[str] | None) -> None:
        if not self.typed(headers, path, (dict,), "an object of header name -> template"):
            return
        for name, value in headers.items():
            where = _key(path, name)
            if not _TOKEN.match(name):
                self.error(where, f"{name!r} is not a valid HTTP header name")
            if isinstance(value, (dict, list)):
                self.warn(where, "an object or list header value is sent as text")
            self.templates(value, where, allowed)

    def operation(self, name: str, op: Any, path: str, base_url: Any) -> None:
        if not self.typed(op, path, (dict,), "an object"):
            return
        allowed = (
            set(OPERATION_INPUTS[name]) | set(BASE_VARIABLES) if name in OPERATION_INPUTS else None
        )
        method = op.get("method")
        if method is not None and (not isinstance(method, str) or not _TOKEN.match(method)):
            self.error(f"{path}.method", "must be an HTTP method such as GET or POST")
        url = op.get("url")
        if url is not None:
            if not isinstance(url, str):
                self.error(f"{path}.url", "must be a string")
            else:
                self.template(url, f"{path}.url", allowed)
                absolute = url.startswith(("http://", "https://"))
                if not absolute and not base_url and not url.startswith("{{"):
                    self.error(
                        f"{path}.url",
                        "is relative but requestDefaults.baseUrl is not set",
                    )
                elif not absolute and url.lower().startswith(("http:", "https:")):
                    self.error(f"{path}.url", "write the scheme as http:// or https:// (lowercase)")
        elif not base_url:
            self.error(f"{path}.url", "is missing and requestDefaults.baseUrl is not set")
        if "headers" in op:
            self.headers(op["headers"], f"{path}.headers", allowed)
        if "query" in op and self.typed(op["query"], f"{path}.query", (dict,), "an object"):
            self.templates(op["query"], f"{path}.query", allowed)
        if "body" in op and op["body"] is not None:
            body = op["body"]
            if self.typed(body, f"{path}.body", (dict, list, str), "an object, a list or a string"):
                self.templates(body, f"{path}.body", allowed)
                if isinstance(body, str) and is_whole_expression(body):
                    self.warn(f"{path}.body", "a bare expression body may render a non-object")
        if "auth" in op:
            self.auth(op["auth"], f"{path}.auth", allowed)
        mapping = op.get("responseMapping")
        if mapping is not None:
            self.mapping(name, mapping, f"{path}.responseMapping")
        elif name in ("findContact", "findContactWithName", "getUserList"):
            self.warn(f"{path}.responseMapping", "is missing: the operation returns no results")
        elif name in ("createCallLog", "createContact"):
            self.warn(
                f"{path}.responseMapping",
                "is missing: the CRM record is created but the result reports failure",
            )

    def mapping(self, name: str, mapping: Any, path: str) -> None:
        if not self.typed(mapping, path, (dict,), "an object"):
            return
        for key, value in _paths(mapping, path):
            if not isinstance(value, str):
                self.error(key, "must be a string path such as body.data.id")
        if name == "getUserInfo" and not mapping.get("idPath"):
            self.warn(f"{path}.idPath", "is missing: every user would get the id 'undefined-...'")
        if name == "getUserList" and not mapping.get("listPath"):
            self.warn(f"{path}.listPath", "is missing: the user list is always empty")
        if name == "createContact" and not mapping.get("idPath"):
            self.warn(f"{path}.idPath", "is missing: contact creation always reports failure")
        paths = mapping.get("platformAdditionalInfoPaths")
        if paths is not None:
            self.typed(paths, f"{path}.platformAdditionalInfoPaths", (dict,), "an object")

    def config(self, config: Any) -> None:
        if not isinstance(config, dict):
            self.error("$", "a proxy config must be a JSON object")
            return
        if "auth" not in config:
            self.error("$.auth", 'is required (use {} for "apiKey" with the framework header)')
        else:
            self.auth(config["auth"], "$.auth", set(BASE_VARIABLES))
        if "secretKey" in config:
            self.warn("$.secretKey", "is ignored: the server injects the connector secret itself")
        meta = config.get("meta")
        if meta is not None and self.typed(meta, "$.meta", (dict,), "an object"):
            fmt = meta.get("logFormat")
            if fmt is not None and fmt not in ("text/plain", "text/html", "text/markdown"):
                self.warn("$.meta.logFormat", "is not text/plain, text/html or text/markdown: "
                          "call logs get no composed details")  # fmt: skip
        defaults = config.get("requestDefaults", {})
        base_url = None
        if self.typed(defaults, "$.requestDefaults", (dict,), "an object"):
            base_url = defaults.get("baseUrl")
            if base_url is not None:
                if not isinstance(base_url, str) or not base_url.startswith(
                    ("http://", "https://")
                ):
                    self.error("$.requestDefaults.baseUrl", "must be an http:// or https:// URL")
                    base_url = None
                elif "{{" in base_url:
                    self.error("$.requestDefaults.baseUrl", "is not templated; use absolute "
                               "operation URLs for per-user hosts")  # fmt: skip
            timeout = defaults.get("timeoutSeconds")
            if timeout is not None and (
                isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
            ):
                self.error("$.requestDefaults.timeoutSeconds", "must be a number above 0")
            if "defaultHeaders" in defaults:
                self.headers(
                    defaults["defaultHeaders"], "$.requestDefaults.defaultHeaders",
                    set(BASE_VARIABLES),
                )  # fmt: skip
        operations = config.get("operations", {})
        if self.typed(operations, "$.operations", (dict,), "an object"):
            for name, op in operations.items():
                path = _key("$.operations", name)
                if name not in OPERATION_INPUTS:
                    self.warn(path, f"unknown operation {name!r} is ignored")
                    continue
                self.operation(name, op, path, base_url)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, _key(path, str(key)))


def _paths(mapping: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        if key == "item" and isinstance(value, Mapping):
            yield from _paths(value, f"{path}.item")
        elif key.endswith("Path"):
            yield _key(path, key), value


def check_config(config: Any) -> list[Problem]:
    """Every problem in ``config`` (errors first, then warnings, each in document order)."""
    checker = _Checker()
    checker.config(config)
    return sorted(checker.problems, key=lambda p: p.severity != "error")


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
