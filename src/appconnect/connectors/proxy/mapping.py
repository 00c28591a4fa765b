"""Response mappings: reading a CRM's JSON back into App Connect shapes (spec §8).

Pure functions from (mapping, response data) to wire-shaped dicts. Paths use the template
language's resolution (``resolve``) over ``{"body": <response data>}``. A mapping key that is
absent or empty falls back to its default path; "‖" fallbacks use JavaScript truthiness.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appconnect.connectors.proxy.template import UNDEFINED, js_text, resolve
from appconnect.jsvalues import js_truthy


def _or(value: Any, fallback: Any) -> Any:
    return value if js_truthy(value) else fallback


def _path(mapping: Mapping[str, Any], key: str, default: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) and value else default


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def message(text: str, kind: str, ttl: int) -> dict[str, Any]:
    return {"message": text, "messageType": kind, "ttl": ttl}


def _set(out: dict[str, Any], key: str, value: Any) -> None:
    """Undefined values are left out, as JSON.stringify leaves them out."""
    if value is not UNDEFINED:
        out[key] = value


class MappingError(ValueError):
    """The response did not have the shape the mapping expects (e.g. a list that is not one)."""


# -- contacts ------------------------------------------------------------------------------


def contact_list(mapping: Any, data: Any) -> list[dict[str, Any]]:
    """``findContact`` / ``findContactWithName``: one match per list item."""
    if not isinstance(mapping, Mapping):
        return []
    items = _or(resolve({"body": data}, _path(mapping, "listPath", "body")), [])
    if not isinstance(items, list):
        raise MappingError("responseMapping.listPath does not point at a list")
    item_map = _mapping(mapping.get("item"))
    matches = []
    for item in items:
        match: dict[str, Any] = {}

        def value(key: str, default: str, item: Any = item) -> Any:
            return resolve(item, _path(item_map, key, default))

        _set(match, "id", value("idPath", "id"))
        match["name"] = _or(value("namePath", "name"), "")
        _set(match, "phone", _or(value("phonePath", "phone"), UNDEFINED))
        match["type"] = _or(value("typePath", "type"), "Contact")
        match["title"] = _or(value("titlePath", "title"), "")
        match["company"] = _or(value("companyPath", "company"), "")
        _set(match, "createdDate", _or(value("createdDatePath", "createdDate"), UNDEFINED))
        _set(
            match,
            "mostRecentActivityDate",
            _or(value("mostRecentActivityDatePath", "mostRecentActivityDate"), UNDEFINED),
        )
        match["additionalInfo"] = _or(value("additionalInfoPath", "additionalInfo"), None)
        matches.append(match)
    return matches


def created_contact(mapping: Any, data: Any) -> dict[str, Any] | None:
    mapping = _mapping(mapping)
    id_path = mapping.get("idPath")
    if not isinstance(id_path, str) or not id_path:
        return None
    root = {"body": data}
    contact: dict[str, Any] = {}
    _set(contact, "id", resolve(root, id_path))
    _set(contact, "name", resolve(root, _path(mapping, "namePath", "body.name")))
    contact["type"] = _or(resolve(root, _path(mapping, "typePath", "body.type")), "Contact")
    return contact


# -- logs ----------------------------------------------------------------------------------


def log_id(mapping: Any, data: Any) -> str | None:
    """A created log's id as text, or ``None`` (undefined) when the mapping finds nothing."""
    if not isinstance(mapping, Mapping):
        return None
    value = resolve({"body": data}, _path(mapping, "idPath", "body.id"))
    return js_text(value) if js_truthy(value) else None


def call_log_info(mapping: Any, data: Any) -> dict[str, Any]:
    mapping = _mapping(mapping)
    root = {"body": data}
    info: dict[str, Any] = {}
    _set(info, "subject", resolve(root, _path(mapping, "subjectPath", "body.subject")))
    _set(info, "note", resolve(root, _path(mapping, "notePath", "body.note")))
    _set(info, "fullBody", resolve(root, _path(mapping, "fullBodyPath", "body.note")))
    info["fullLogResponse"] = data
    return info


# -- users ---------------------------------------------------------------------------------


def user_info(
    mapping: Any,
    data: Any,
    *,
    additional_info: Any,
    api_key: Any,
    hostname: Any,
    platform: Any,
) -> dict[str, Any]:
    """``getUserInfo``'s result (successful), from the response and the login inputs."""
    mapping = _mapping(mapping)
    root = {
        "body": data,
        "additionalInfo": additional_info,
        "apiKey": api_key,
        "hostname": hostname,
        "platform": platform,
    }

    def at(key: str) -> Any:
        path = mapping.get(key)
        return resolve(root, path) if isinstance(path, str) and path else UNDEFINED

    raw_id = at("idPath")
    name = at("namePath") if mapping.get("namePath") else raw_id
    info: dict[str, Any] = {
        "id": f"{js_text(raw_id) if raw_id is not UNDEFINED else 'undefined'}-{js_text(platform)}",
    }
    _set(info, "name", name)
    timezone = at("timezoneNamePath")
    if js_truthy(timezone):
        info["timezoneName"] = timezone
    overriding = at("overridingApiKeyPath")
    if js_truthy(overriding):
        info["overridingApiKey"] = overriding
    extra: dict[str, Any] = {}
    if isinstance(additional_info, Mapping):
        extra = {k: v for k, v in additional_info.items() if k != "password"}
    paths = mapping.get("platformAdditionalInfoPaths")
    if isinstance(paths, Mapping):
        for key, path in paths.items():
            value = resolve(root, path) if isinstance(path, str) else UNDEFINED
            if value is UNDEFINED:
                extra.pop(str(key), None)
            else:
                extra[str(key)] = value
    if extra:
        info["platformAdditionalInfo"] = extra
    text = at("messagePath")
    return {
        "successful": True,
        "platformUserInfo": info,
        "returnMessage": message(
            text if js_truthy(text) else f"Connected to {js_text(platform)}.", "success", 1000
        ),
    }


def user_list(mapping: Any, data: Any) -> list[dict[str, Any]]:
    mapping = _mapping(mapping)
    list_path = mapping.get("listPath")
    items = resolve({"body": data}, list_path) if isinstance(list_path, str) and list_path else []
    items = _or(items, [])
    if not isinstance(items, list):
        raise MappingError("responseMapping.listPath does not point at a list")
    users = []
    for item in items:
        entry: dict[str, Any] = {}
        _set(entry, "id", resolve(item, _path(mapping, "idPath", "id")))
        _set(entry, "name", resolve(item, _path(mapping, "namePath", "name")))
        _set(entry, "email", resolve(item, _path(mapping, "emailPath", "email")))
        users.append(entry)
    return users


def license_status(mapping: Any, data: Any) -> dict[str, Any]:
    mapping = _mapping(mapping)
    root = {"body": data}
    out: dict[str, Any] = {}
    for key, default in (
        ("isLicenseValid", "body.isLicenseValid"),
        ("licenseStatus", "body.licenseStatus"),
        ("licenseStatusDescription", "body.licenseStatusDescription"),
    ):
        _set(out, key, resolve(root, _path(mapping, f"{key}Path", default)))
    return out
