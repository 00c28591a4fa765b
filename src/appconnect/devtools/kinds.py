"""The data files of the plugin and proxy project kinds (valid against docs' specifications:
plugins §3.2 and proxy connectors §3), written as JSON by :func:`scaffold`."""

from __future__ import annotations

from typing import Any

from appconnect.devtools.scaffold import REDIRECT_URI, Names, connector_manifest


def generated(names: Names, auth: str, kind: str) -> dict[str, Any]:
    if kind == "plugin":
        return {"package/manifest.json": plugin_manifest(names)}
    return {
        "proxy-config.json": proxy_config(names, auth),
        "manifest.json": proxy_manifest(names, auth),
    }


def plugin_manifest(names: Names) -> dict[str, Any]:
    """A synchronous call-log plugin; the URLs are where it will be deployed (TODO)."""
    base = f"https://{names.platform}.plugins.example"
    return {
        "platforms": {
            names.platform: {
                "name": names.platform,
                "displayName": names.display_name,
                "endpointUrl": f"{base}/plugin/sync",
                "userRegisterEndpointUrl": f"{base}/admin/register",
                "licenseStatusUrl": f"{base}/license",
                "supportedLogTypes": ["call"],
                "isAsync": False,
            }
        }
    }


def proxy_manifest(names: Names, auth: str) -> dict[str, Any]:
    manifest = connector_manifest(names, auth)
    entry = manifest["platforms"][names.platform]
    entry.pop("contactTypes", None)
    entry["page"] = {}
    return manifest


def _contact_item() -> dict[str, str]:
    return {"idPath": "id", "namePath": "name", "phonePath": "phone", "typePath": "type"}


def proxy_config(names: Names, auth: str) -> dict[str, Any]:
    """Operations for the same fictional API as the connector kind's stubs (TODO: your CRM's)."""
    if auth == "oauth":
        auth_block: dict[str, Any] = {
            "type": "oauth",
            "clientId": f"your-{names.platform}-client-id",
            "clientSecret": f"your-{names.platform}-client-secret",
            "tokenUrl": f"https://api.{names.platform}.example/oauth/token",
            "redirectUri": REDIRECT_URI,
        }
    else:
        auth_block = {"type": "apiKey"}  # Basic base64("<apiKey>:"), the framework's default
    activity = {"contactId": "{{contactInfo.id}}", "subject": "{{subject}}",
                "body": "{{composedLogDetails}}", "type": "call"}
    return {
        "meta": {"name": names.platform, "displayName": names.display_name,
                 "logFormat": "text/plain"},
        "auth": auth_block,
        "requestDefaults": {
            "baseUrl": f"https://api.{names.platform}.example",
            "timeoutSeconds": 20,
            "defaultHeaders": {"Accept": "application/json"},
        },
        "operations": {
            "getUserInfo": {
                "method": "GET",
                "url": "/me",
                "responseMapping": {"idPath": "body.id", "namePath": "body.name",
                                    "timezoneNamePath": "body.timezone"},
            },
            "findContact": {
                "method": "GET",
                "url": "/contacts",
                "query": {"phone": "{{phoneNumber}}"},
                "responseMapping": {"listPath": "body", "item": _contact_item()},
            },
            "findContactWithName": {
                "method": "GET",
                "url": "/contacts",
                "query": {"name": "{{name}}"},
                "responseMapping": {"listPath": "body", "item": _contact_item()},
            },
            "createContact": {
                "method": "POST",
                "url": "/contacts",
                "body": {"name": "{{newContactName}}", "phone": "{{phoneNumber}}",
                         "type": "{{newContactType}}"},
                "responseMapping": {"idPath": "body.id", "namePath": "body.name",
                                    "typePath": "body.type"},
            },
            "createCallLog": {
                "method": "POST",
                "url": "/activities",
                "body": activity,
                "responseMapping": {"idPath": "body.id"},
            },
            "getCallLog": {
                "method": "GET",
                "url": "/activities/{{thirdPartyLogId}}",
                "responseMapping": {"subjectPath": "body.subject", "notePath": "body.note",
                                    "fullBodyPath": "body.body"},
            },
            "updateCallLog": {
                "method": "PATCH",
                "url": "/activities/{{thirdPartyLogId}}",
                "body": {"subject": "{{subject}}", "body": "{{composedLogDetails}}"},
            },
        },
    }
