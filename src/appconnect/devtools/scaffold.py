"""``appconnect new``: write a ready project from the templates shipped in this package.

Templates are ``string.Template`` files (``${name}`` placeholders) under ``templates/<kind>/``;
``package/`` in a template path becomes the project's Python package. Manifests are built as
data and written as JSON, so they are valid by construction (and checked by the tests).
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from appconnect import __version__

TEMPLATES = Path(__file__).with_name("templates")
KINDS = ("connector", "plugin", "proxy")
AUTH_TYPES = ("apiKey", "oauth")
# Files whose template name differs from the name in the project.
_RENAMES = {"env.example": ".env.example", "gitignore": ".gitignore"}


class ScaffoldError(ValueError):
    """The name, auth type, kind or destination cannot make a project."""


@dataclass(frozen=True)
class Names:
    """Every spelling of the project's name the templates use."""

    platform: str  # manifest key, e.g. "acme"
    package: str  # Python package, e.g. "acme"
    class_name: str  # e.g. "AcmeConnector"
    display_name: str  # e.g. "Acme"
    env_prefix: str  # e.g. "ACME"
    project_name: str  # distribution name, e.g. "acme-connector"


def names_for(name: str, kind: str) -> Names:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if not words or not words[0][0].isalpha():
        raise ScaffoldError(f"{name!r}: a project name starts with a letter (e.g. acme-crm)")
    package = "_".join(w.lower() for w in words)
    if keyword.iskeyword(package) or package in {"appconnect", "tests", "test"}:
        raise ScaffoldError(f"{name!r} cannot be a Python package name; pick another name")
    title = "".join(w[:1].upper() + w[1:] for w in words)
    suffix = {"connector": "Connector", "plugin": "Plugin", "proxy": "Proxy"}[kind]
    return Names(
        platform="".join(w.lower() for w in words),
        package=package,
        class_name=title if title.endswith(suffix) else title + suffix,
        display_name=" ".join(w[:1].upper() + w[1:] for w in words),
        env_prefix=package.upper(),
        project_name=f"{'-'.join(w.lower() for w in words)}-{kind}",
    )


def scaffold(
    name: str, destination: Path, *, auth: str = "apiKey", kind: str = "connector"
) -> list[Path]:
    """Write the project ``name`` into ``destination`` (new or empty); return the files."""
    if kind not in KINDS:
        raise ScaffoldError(f"--kind must be one of {', '.join(KINDS)}")
    if auth not in AUTH_TYPES:
        raise ScaffoldError(f"--auth must be one of {', '.join(AUTH_TYPES)}")
    if destination.exists() and any(destination.iterdir()):
        raise ScaffoldError(f"{destination} exists and is not empty")
    names = names_for(name, kind)
    values = _values(names, auth, kind)
    written: list[Path] = []
    root = TEMPLATES / kind
    for template in sorted(root.rglob("*.tmpl")):
        relative = template.relative_to(root).with_suffix("")  # drop ".tmpl"
        parts = [names.package if p == "package" else _RENAMES.get(p, p) for p in relative.parts]
        target = destination.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = Template(template.read_text("utf-8")).substitute(values)
        target.write_text(text.rstrip("\n") + "\n" if text.strip() else "", "utf-8")
        written.append(target)
    for relative_path, data in _generated(names, auth, kind).items():
        target = destination / relative_path.replace("package/", f"{names.package}/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
        written.append(target)
    return written


# -- values of the placeholders ----------------------------------------------------------------


def _snippet(name: str, values: dict[str, str]) -> str:
    return Template((TEMPLATES / name).read_text("utf-8")).substitute(values)


def _values(names: Names, auth: str, kind: str) -> dict[str, str]:
    values: dict[str, str] = {
        "platform": names.platform,
        "package": names.package,
        "class_name": names.class_name,
        "display_name": names.display_name,
        "env_prefix": names.env_prefix,
        "project_name": names.project_name,
        "auth_type": auth,
        "appconnect_version": __version__,
    }
    if kind != "connector":
        return values
    values["first_party_imports"] = "\n".join(sorted([
        f"from {names.package}.server import MANIFEST_PATH, registry",
        f"from tests.fake_crm import Fake{names.class_name}",
    ]))  # fmt: skip
    oauth = auth == "oauth"
    prefix = names.env_prefix
    values.update(
        auth_label="OAuth" if oauth else "API key",
        auth_imports="    OAuthInfo,\n" if oauth else "",
        oauth_doc=" ``POST /oauth/token`` answers the code exchange." if oauth else "",
        oauth_routes=(
            '\n        self.on("POST", "/oauth/token", json={"access_token": "test-access-token",'
            '\n                "refresh_token": "test-refresh-token", "expires_in": 3600})'
            if oauth
            else ""
        ),
        oauth_env=(
            f"{prefix}_CLIENT_ID=your-oauth-client-id\n{prefix}_CLIENT_SECRET=your-oauth-secret\n"
            f"{prefix}_REDIRECT_URI={REDIRECT_URI}\n"
            f"# {prefix}_TOKEN_URL=https://api.{names.platform}.example/oauth/token"
            if oauth
            else ""
        ),
        oauth_env_fixture=(
            "\n\n@pytest.fixture(autouse=True)\n"
            "def oauth_app(monkeypatch: pytest.MonkeyPatch) -> None:\n"
            '    """The OAuth app the connector reads from the environment (.env.example)."""\n'
            f'    monkeypatch.setenv("{prefix}_CLIENT_ID", "test-client")\n'
            f'    monkeypatch.setenv("{prefix}_CLIENT_SECRET", "test-secret")\n'
            f'    monkeypatch.setenv("{prefix}_REDIRECT_URI", "{REDIRECT_URI}")'
            if oauth
            else ""
        ),
        login_call=f'login_oauth("{REDIRECT_URI}")' if oauth else 'login(api_key="test-key")',
        expected_auth=(
            "Bearer test-access-token" if oauth else "Basic dGVzdC1rZXk6"  # base64("test-key:")
        ),
    )
    methods = _snippet("connector/auth_oauth.py.snippet" if oauth else
                       "connector/auth_apikey.py.snippet", values)  # fmt: skip
    values["auth_methods"] = methods
    values["oauth_helpers"] = (
        _snippet("connector/auth_oauth_helpers.py.snippet", values) if oauth else ""
    )
    return values


REDIRECT_URI = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html"


# -- data files --------------------------------------------------------------------------------


def _generated(names: Names, auth: str, kind: str) -> dict[str, Any]:
    if kind == "connector":
        return {"package/manifest.json": connector_manifest(names, auth)}
    from appconnect.devtools.kinds import generated

    return generated(names, auth, kind)


def connector_manifest(names: Names, auth: str) -> dict[str, Any]:
    """A manifest that passes validation, with the features the stub connector implements."""
    if auth == "oauth":
        auth_block: dict[str, Any] = {
            "type": "oauth",
            "oauth": {
                "authUrl": f"https://app.{names.platform}.example/oauth/authorize",
                "clientId": f"your-{names.platform}-client-id",
                "redirectUri": REDIRECT_URI,
                "scope": "",
            },
        }
    else:
        auth_block = {
            "type": "apiKey",
            "apiKey": {
                "page": {
                    "title": names.display_name,
                    "content": [
                        {
                            "const": "apiKey",
                            "title": "API key",
                            "type": "string",
                            "required": True,
                            "uiSchema": {"ui:widget": "password"},
                        }
                    ],
                }
            },
        }
    return {
        "author": {"name": f"{names.display_name} connector authors"},
        "version": "0.1.0",
        "platforms": {
            names.platform: {
                "name": names.platform,
                "displayName": names.display_name,
                "auth": auth_block,
                "canOpenLogPage": False,
                "contactTypes": [{"display": "Contact", "value": "contact"}],
                "page": {"useContactSearch": True},
            }
        },
    }
