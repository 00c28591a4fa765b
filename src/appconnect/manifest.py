"""Connector manifest: loading, validation, the served copy and release notes.

A manifest is mostly client configuration; the server reads only a handful of its fields
(spec manifest.md §2.3). Existing manifests must load unchanged and be served back
semantically identical, so this module validates with exactly the reference's rules (§14.1),
merely logs suspicious-but-legal shapes (§14.2) and otherwise never touches the document.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appconnect.jsvalues import js_truthy

logger = logging.getLogger("appconnect.manifest")

_KNOWN_AUTH_TYPES = frozenset({"oauth", "apikey"})
_KNOWN_ENVIRONMENT_TYPES = frozenset({"fixed", "dynamic", "selectable"})
_ARRAY_FIELDS = ("settings", "contactTypes", "override")

# (field path, message): the path is relative to whatever the caller prefixes it with.
_Problem = tuple[str, str]


class ManifestError(ValueError):
    """A manifest (or release-notes document) the server must refuse to start with.

    Every problem is kept in ``errors`` so a start-up failure reports them all at once, and the
    message names the source so the operator knows which file to fix.
    """

    def __init__(
        self, errors: Iterable[str], source: str | None = None, *, what: str = "connector manifest"
    ) -> None:
        self.errors: list[str] = list(errors)
        self.source = source
        where = f" {source}" if source else ""
        super().__init__(f"invalid {what}{where}: " + "; ".join(self.errors))


@dataclass(frozen=True)
class Manifest:
    """A loaded manifest. ``data`` is the raw document and must be treated as read-only;
    anything handed to a client should come from :meth:`served`, which is a deep copy."""

    data: dict[str, Any]
    source: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def version(self) -> str | None:
        """Reported by ``/serverVersionInfo``; non-string values are treated as absent."""
        value = self.data.get("version")
        return value if isinstance(value, str) else None

    @property
    def platforms(self) -> dict[str, Any]:
        value = self.data.get("platforms")
        return value if isinstance(value, dict) else {}

    def platform(self, key: str) -> dict[str, Any] | None:
        value = self.platforms.get(key)
        return value if isinstance(value, dict) else None

    def served(
        self,
        *,
        override_app_server: str | None = None,
        override_server_side_logging_server: str | None = None,
    ) -> dict[str, Any]:
        """The document for ``/crmManifest``. The reference mutates its stored manifest when
        applying the deployment overrides; we apply them to a copy so the stored one stays
        pristine. Empty override strings count as unset, as in the reference (truthiness)."""
        document = copy.deepcopy(self.data)
        if override_app_server:
            document["serverUrl"] = override_app_server
        if override_server_side_logging_server:
            for _, platform in _mapping_items(document.get("platforms")):
                logging_config = platform.get("serverSideLogging")
                if isinstance(logging_config, dict):
                    logging_config["url"] = override_server_side_logging_server
        return document

    def auth_fields(self, platform: str) -> list[dict[str, Any]]:
        """The API-key form fields managed auth works from (§6.3); non-object entries are
        skipped because they cannot carry a ``const``."""
        return [item for item in _auth_content(self.platform(platform)) if isinstance(item, dict)]


# ---------------------------------------------------------------- JavaScript semantics


def _is_array(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _get(obj: Any, key: str) -> Any:
    """``obj.key`` for JSON data: reading a property of a non-object yields undefined."""
    return obj.get(key) if isinstance(obj, Mapping) else None


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _indexed(value: Any) -> Iterable[tuple[int, Any]]:
    return enumerate(value) if _is_array(value) else ()


def _mapping_items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        yield from ((k, v) for k, v in value.items() if isinstance(v, Mapping))


def _auth_content(platform: Any) -> list[Any]:
    content = _get(_get(_get(_get(platform, "auth"), "apiKey"), "page"), "content")
    return list(content) if _is_array(content) else []


# ---------------------------------------------------------------- reference rules (§14.1)


def validate_platform(manifest: Mapping[str, Any] | None, platform_key: str) -> list[str]:
    """The reference's ``isManifestValid`` for one platform: its exact error texts, in its
    order; an empty list means valid."""
    return [text for _, text in _platform_problems(manifest, platform_key)]


def _platform_problems(manifest: Any, key: str) -> list[_Problem]:
    if not js_truthy(manifest):
        return [("", "connectorManifest is required")]
    platforms = _get(manifest, "platforms")
    if not js_truthy(platforms):
        return [("platforms", "connectorManifest.platforms is required")]
    base = f"platforms.{key}"
    platform = _get(platforms, key)
    if not js_truthy(platform):
        return [(base, f'Platform "{key}" not found in manifest')]
    problems = [
        *_auth_problems(_get(platform, "auth")),
        *_environment_problems(_get(platform, "environment")),
        *_shape_problems(platform),
    ]
    return [(f"{base}.{path}", text) for path, text in problems]


def _auth_problems(auth: Any) -> list[_Problem]:
    if not js_truthy(auth):
        return [("auth", "platform.auth is required")]
    problems: list[_Problem] = []
    auth_type = _get(auth, "type")
    if not js_truthy(auth_type):
        problems.append(("auth.type", "platform.auth.type is required"))
    kind = _lower(auth_type)
    if kind == "oauth":
        problems.extend(_oauth_problems(_get(auth, "oauth")))
    elif kind == "apikey" and not js_truthy(_get(auth, "apiKey")):
        problems.append(
            ("auth.apiKey", "platform.auth.apiKey configuration is required for apiKey type")
        )
    return problems


def _oauth_problems(oauth: Any) -> list[_Problem]:
    if not js_truthy(oauth):
        return [("auth.oauth", "platform.auth.oauth configuration is required for oauth type")]
    return [
        (f"auth.oauth.{name}", f"platform.auth.oauth.{name} is required")
        for name in ("authUrl", "clientId")
        if not js_truthy(_get(oauth, name))
    ]


def _environment_problems(environment: Any) -> list[_Problem]:
    if not js_truthy(environment):
        return []
    env_type = _get(environment, "type")
    if not js_truthy(env_type):
        text = "platform.environment.type is required when environment is specified"
        return [("environment.type", text)]
    if _lower(env_type) == "selectable" and _empty(_get(environment, "selections")):
        text = "platform.environment.selections is required for selectable environment type"
        return [("environment.selections", text)]
    return []


def _empty(value: Any) -> bool:
    """``!value || value.length === 0``: only a truthy array can be empty beyond falsiness."""
    return not js_truthy(value) or (_is_array(value) and len(value) == 0)


def _shape_problems(platform: Any) -> list[_Problem]:
    problems: list[_Problem] = []
    if not js_truthy(_get(platform, "name")):
        problems.append(("name", "platform.name is required"))
    for name in _ARRAY_FIELDS:
        value = _get(platform, name)
        if js_truthy(value) and not _is_array(value):
            problems.append((name, f"platform.{name} must be an array if specified"))
    return problems


# ---------------------------------------------------------------- loader (§14.2)


def load_manifest(
    source: str | os.PathLike[str] | Mapping[str, Any], *, name: str | None = None
) -> Manifest:
    """Load and validate a manifest from a JSON file or an in-memory mapping.

    Every platform is validated and all errors are raised together, each prefixed with its
    field path, so a broken deployment fails at start-up rather than on a user's first login.
    ``name`` labels the source in messages (for mappings it is the only label).
    """
    if isinstance(source, Mapping):
        label, data = name, copy.deepcopy(dict(source))
    else:
        path = Path(source)
        label = str(path) if name is None else f"{name} ({path})"
        data = _read_json_object(path, label, "connector manifest")
    errors = _manifest_errors(data)
    if errors:
        raise ManifestError(errors, label)
    warnings = tuple(_manifest_warnings(data))
    for warning in warnings:
        logger.warning("%s: %s", label or "connector manifest", warning)
    return Manifest(data=data, source=label, warnings=warnings)


def _read_json_object(path: Path, label: str, what: str) -> dict[str, Any]:
    """Strict JSON (as Node's ``JSON.parse``: no NaN/Infinity); a UTF-8 BOM is tolerated."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as exc:
        raise ManifestError([f"cannot read file: {exc}"], label, what=what) from exc
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ManifestError([f"not valid JSON: {exc}"], label, what=what) from exc
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else _js(data)
        raise ManifestError([f"must be a JSON object, not {kind}"], label, what=what)
    return data


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def _manifest_errors(data: dict[str, Any]) -> list[str]:
    """Rule 2 once for the document, then rules 3-15 for every platform it declares."""
    platforms = data.get("platforms")
    if not js_truthy(platforms):
        return ["platforms: connectorManifest.platforms is required"]
    if not isinstance(platforms, Mapping):
        return ["platforms: must be an object keyed by platform"]
    return [f"{path}: {text}" for key in platforms for path, text in _platform_problems(data, key)]


def _manifest_warnings(data: dict[str, Any]) -> Iterator[str]:
    if not js_truthy(_get(data.get("author"), "name")):
        yield "author.name is missing; GET /crmManifest answers 400 without it"
    platforms = data.get("platforms")
    if isinstance(platforms, Mapping) and not platforms:
        yield "platforms is empty; this manifest describes no connector"
    for key, platform in _mapping_items(platforms):
        yield from _platform_warnings(f"platforms.{key}", key, platform)


def _platform_warnings(base: str, key: str, platform: Any) -> Iterator[str]:
    name = _get(platform, "name")
    if name != key:
        yield f"{base}.name is {_js(name)}, expected the platform key {_js(key)}"
    auth_type = _get(_get(platform, "auth"), "type")
    if _lower(auth_type) not in _KNOWN_AUTH_TYPES:
        yield f"{base}.auth.type {_js(auth_type)} is neither oauth nor apiKey (no client flow)"
    env_type = _get(_get(platform, "environment"), "type")
    if js_truthy(env_type) and _lower(env_type) not in _KNOWN_ENVIRONMENT_TYPES:
        yield f"{base}.environment.type {_js(env_type)} is not fixed, dynamic or selectable"
    yield from _settings_warnings(base, _get(platform, "settings"))
    yield from _additional_field_warnings(base, platform)
    yield from _managed_field_warnings(base, platform)


def _settings_warnings(base: str, settings: Any) -> Iterator[str]:
    """Settings are stored per user by item id, so an entry without one cannot hold a value."""
    for index, entry in _indexed(settings):
        path = f"{base}.settings[{index}]"
        if not js_truthy(_get(entry, "id")):
            yield f"{path}.id is missing"
        for item_index, item in _indexed(_get(entry, "items")):
            if not js_truthy(_get(item, "id")):
                yield f"{path}.items[{item_index}].id is missing"


def _additional_field_warnings(base: str, platform: Any) -> Iterator[str]:
    """Submitted values are keyed by ``const``; a field without one is never delivered."""
    containers = [
        (f"page.{form}", section) for form, section in _mapping_items(_get(platform, "page"))
    ]
    containers.append(("serverSideLogging", _get(platform, "serverSideLogging")))
    for where, container in containers:
        for index, item in _indexed(_get(container, "additionalFields")):
            if not js_truthy(_get(item, "const")):
                yield f"{base}.{where}.additionalFields[{index}].const is missing"


def _managed_field_warnings(base: str, platform: Any) -> Iterator[str]:
    """Dynamic options come from a per-user CRM lookup, so only user scope makes sense."""
    for index, item in enumerate(_auth_content(platform)):
        scope = _get(item, "managedScope")
        if _get(item, "managedFieldType") == "dynamic" and scope != "user":
            path = f"{base}.auth.apiKey.page.content[{index}]"
            yield f'{path}.managedScope is {_js(scope)}; managedFieldType "dynamic" needs "user"'


def _js(value: Any) -> str:
    """Render a value as JSON so messages match what the manifest author wrote."""
    return json.dumps(value, default=str)


# ---------------------------------------------------------------- release notes


def load_release_notes(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Load ``{version: {section: [{type, description}]}}``. Only the per-version object shape
    is checked, because ``/releaseNotes`` spreads it; the notes themselves are opaque."""
    if isinstance(source, Mapping):
        label, notes = None, copy.deepcopy(dict(source))
    else:
        label = str(source)
        notes = _read_json_object(Path(source), label, "release notes")
    bad = [f"{ver}: must be an object" for ver, v in notes.items() if not isinstance(v, Mapping)]
    if bad:
        raise ManifestError(bad, label, what="release notes")
    return notes


def merge_release_notes(core: Mapping[str, Any], connector: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /releaseNotes``: every connector version gets the core's ``global`` notes for the
    same version (``?? []``); connector sections, including a ``global`` of its own, win;
    versions known only to the core are omitted, as in the reference."""
    merged: dict[str, Any] = {}
    for version, sections in connector.items():
        core_global = _get(core.get(version), "global")
        own = sections if isinstance(sections, Mapping) else {}
        merged[version] = {"global": [] if core_global is None else core_global, **own}
    return copy.deepcopy(merged)
