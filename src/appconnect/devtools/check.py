"""``appconnect check``: what is wrong with a connector before a user finds out.

The report is a table of findings. Problems (each has a ``code``):

* ``import``: the target cannot be imported or named (the error, in one line);
* ``manifest``: the manifest fails validation (one row per bad field) or warns;
* ``no-manifest``: a connector has no manifest;
* ``required``: ``create_call_log`` / ``update_call_log`` is missing;
* ``auth``: the manifest's auth type and the connector's disagree, or the auth interface of
  that type (``get_basic_auth`` / ``get_oauth_info``) is missing;
* ``feature``: a manifest feature needs an interface the connector lacks
  (``page.useContactSearch`` needs ``find_contact_with_name``, ...);
* ``misspelled``: a public method whose name is close to an interface name but is none;
* ``shape``: an interface, called against the fake CRM, returned the wrong shape;
* ``raised``: an interface raised when called against the fake CRM.

Rows with status ``ok`` list the implemented interfaces and what passed.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from appconnect.connectors import results as res
from appconnect.connectors.interfaces import INTERFACES, REQUIRED, python_name
from appconnect.connectors.registry import ConnectorRegistry, ConnectorView, ManifestNotFound
from appconnect.manifest import Manifest, ManifestError, load_manifest

# Manifest feature -> (description, interface it needs).
FEATURES: tuple[tuple[str, Callable[[dict[str, Any]], bool], str], ...] = (
    ("page.useContactSearch", lambda p: bool(_dig(p, "page", "useContactSearch")),
     "findContactWithName"),
    ("contactTypes", lambda p: bool(p.get("contactTypes")), "createContact"),
    ("page.newContact", lambda p: bool(_dig(p, "page", "newContact")), "createContact"),
    ("page.messageLog", lambda p: bool(_dig(p, "page", "messageLog")), "createMessageLog"),
    ("serverSideLogging.enableUserMapping",
     lambda p: bool(_dig(p, "serverSideLogging", "enableUserMapping")), "getUserList"),
    ("serverSideLogging.additionalFields",
     lambda p: bool(_dig(p, "serverSideLogging", "additionalFields")),
     "updateServerLoggingSettings"),
)  # fmt: skip

AUTH_INTERFACE = {"apiKey": "getBasicAuth", "oauth": "getOauthInfo"}


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


@dataclass(frozen=True)
class Finding:
    status: str  # "ok" | "problem" | "warning" | "skipped"
    code: str
    subject: str
    detail: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, status: str, code: str, subject: str, detail: str = "") -> None:
        self.findings.append(Finding(status, code, subject, " ".join(detail.split())))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "problem"]

    def codes(self) -> set[str]:
        return {f.code for f in self.problems}

    def render(self) -> str:
        header = ("STATUS", "CHECK", "SUBJECT", "DETAIL")
        rows = [header, *((f.status, f.code, f.subject, f.detail) for f in self.findings)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            for row in rows
        ]
        count = len(self.problems)
        lines.append(f"\n{count} problem{'s' if count != 1 else ''}")
        return "\n".join(line.rstrip() for line in lines)


# -- resolving the target ----------------------------------------------------------------------


@dataclass
class Target:
    """What to check: connectors by platform, their manifests, and the fake CRM factory."""

    connectors: dict[str, Any] = field(default_factory=dict)
    manifests: dict[str, Manifest | None] = field(default_factory=dict)
    crm: Any = None


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def _import(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ImportError(f"{spec!r}: use the form module:attribute")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from None


def _registry_of(obj: Any) -> ConnectorRegistry | None:
    if isinstance(obj, ConnectorRegistry):
        return obj
    core = getattr(getattr(obj, "state", None), "appconnect", None)
    return core.registry if core is not None else None


def _target_of(obj: Any) -> Target:
    target = Target()
    registry = _registry_of(obj)
    if registry is not None:
        for platform in registry.registered_platforms():
            target.connectors[platform] = registry.get_original_connector(platform)
            try:
                target.manifests[platform] = registry.get_manifest(platform)
            except ManifestNotFound:
                target.manifests[platform] = None
        return target
    connector = obj() if inspect.isclass(obj) else obj
    platform = getattr(connector, "platform", None) or "connector"
    target.connectors[platform] = connector
    target.manifests[platform] = None
    return target


def _project_config(folder: Path) -> dict[str, Any]:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    data = tomllib.loads(pyproject.read_text("utf-8"))
    config = data.get("tool", {}).get("appconnect", {})
    return config if isinstance(config, dict) else {}


def _manifest_files(folder: Path) -> list[Path]:
    skip = {".venv", "venv", "node_modules", ".git", "build", "dist"}
    found = []
    for path in sorted(folder.rglob("manifest.json")):
        if not skip.intersection(path.relative_to(folder).parts) and "tests" not in path.parts:
            found.append(path)
    return found


def _check_manifest_file(path: Path, report: Report) -> Manifest | None:
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        for error in exc.errors:
            report.add("problem", "manifest", path.name, error)
        return None
    for warning in manifest.warnings:
        report.add("warning", "manifest", path.name, warning)
    report.add("ok", "manifest", path.name, f"valid ({', '.join(sorted(manifest.platforms))})")
    return manifest


# -- the checks --------------------------------------------------------------------------------


def _check_static(platform: str, connector: Any, manifest: Manifest | None, report: Report) -> None:
    view_has = _has(connector)
    implemented = [name for name in INTERFACES if view_has(name)]
    report.add("ok", "interfaces", platform, ", ".join(implemented) or "none")
    for name in REQUIRED:
        if not view_has(name):
            report.add("problem", "required", platform, f"{python_name(name)} is required")
    auth_type = getattr(connector, "auth_type", None)
    platform_data = manifest.platform(platform) if manifest else None
    if manifest is None:
        report.add("problem", "no-manifest", platform, "register the connector with a manifest")
    elif platform_data is None:
        report.add("problem", "no-manifest", platform, f"the manifest has no platforms.{platform}")
    else:
        declared = _dig(platform_data, "auth", "type")
        if isinstance(declared, str) and auth_type and declared != auth_type:
            report.add("problem", "auth", platform,
                       f"manifest auth.type is {declared!r}, connector auth_type is {auth_type!r}")
        needed = AUTH_INTERFACE.get(declared or auth_type or "")
        if needed and not view_has(needed):
            report.add("problem", "auth", platform,
                       f"auth type {declared or auth_type!r} needs {python_name(needed)}")
        for feature, present, interface in FEATURES:
            if present(platform_data) and not view_has(interface):
                report.add("problem", "feature", platform,
                           f"{feature} needs {python_name(interface)}")  # fmt: skip
    known = set(INTERFACES.values()) | set(INTERFACES)
    base = {"attach", "http", "basic_auth", "startup", "get_auth_type", "playground_records"}
    for name in _public_methods(connector):
        if name in known or name in base:
            continue
        close = difflib.get_close_matches(name, sorted(set(INTERFACES.values())), n=1, cutoff=0.85)
        if close and not view_has(close[0]):
            report.add("problem", "misspelled", platform,
                       f"{name} is no interface; did you mean {close[0]}?")  # fmt: skip


def _has(connector: Any) -> Callable[[str], bool]:
    view = ConnectorView("check", connector, {})
    return view.has


def _public_methods(connector: Any) -> list[str]:
    if isinstance(connector, dict):
        return [k for k in connector if not k.startswith("_")]
    return [
        name
        for name, value in inspect.getmembers(connector)
        if not name.startswith("_") and callable(value)
    ]


# -- calling each interface against the fake CRM -----------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str  # wire name
    model: type[BaseModel] | None
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]
    # Extra rule on the wire dict (after the model validated); returns a problem or None.
    rule: Callable[[dict[str, Any], dict[str, Any]], str | None] = lambda wire, state: None


def _contact(state: dict[str, Any]) -> dict[str, Any]:
    return dict(state.get("contact") or {"id": "check-contact", "name": "Ada Lovelace"})


def _remember(key: str, wire_key: str) -> Callable[[dict[str, Any], dict[str, Any]], str | None]:
    def rule(wire: dict[str, Any], state: dict[str, Any]) -> str | None:
        value = wire.get(wire_key)
        if value is None or value == "":
            return f"{wire_key} is missing: the server stores it to edit the record later"
        state[key] = value
        return None

    return rule


def _found(wire: dict[str, Any], state: dict[str, Any]) -> str | None:
    matches = wire.get("matchedContactInfo") or []
    real = [m for m in matches if isinstance(m, dict) and not m.get("isNewContact")]
    if real and "contact" not in state:
        state["contact"] = {**real[0], "phoneNumber": real[0].get("phone")}
    return None


def _user_info(wire: dict[str, Any], state: dict[str, Any]) -> str | None:
    if wire.get("successful") and not wire.get("platformUserInfo"):
        return "successful without platformUserInfo (id, name)"
    return None


def _steps() -> list[Step]:
    from appconnect.testing.bodies import CONTACT_NUMBER, call_log_body, sms_message

    call = call_log_body("check-1")["logInfo"]
    message = sms_message("check-m-1", "Checking")
    base = lambda s: {"user": s["user"], "auth_header": s["auth_header"]}  # noqa: E731
    existing = lambda s: {"thirdPartyLogId": s.get("log_id"), "sessionId": "check-1"}  # noqa: E731
    return [
        Step("getUserInfo", res.UserInfoResult,
             lambda s: {**base(s), "api_key": "check-api-key", "additional_info": {},
                        "hostname": None, "data": {}}, _user_info),
        Step("findContact", res.FindContactResult,
             lambda s: {**base(s), "phone_number": CONTACT_NUMBER, "overriding_format": "",
                        "is_extension": False, "is_force_refresh_account_data": False}, _found),
        Step("findContactWithName", res.FindContactResult,
             lambda s: {**base(s), "name": "Ada"}, _found),
        Step("createContact", res.CreateContactResult,
             lambda s: {**base(s), "phone_number": "+16505550123",
                        "new_contact_name": "Check Contact", "new_contact_type": "contact",
                        "additional_submission": {}},
             lambda w, s: None if w.get("contactInfo") else "contactInfo is missing"),
        Step("createCallLog", res.LogResult,
             lambda s: {**base(s), "contact_info": _contact(s), "call_log": call,
                        "composed_log_details": "- Note: checking\n", "note": "checking",
                        "additional_submission": {}, "ai_note": None, "transcript": None},
             _remember("log_id", "logId")),
        Step("getCallLog", res.GetCallLogResult,
             lambda s: {**base(s), "call_log_id": s.get("log_id")},
             lambda w, s: None if w.get("callLogInfo") else "callLogInfo is missing"),
        Step("updateCallLog", res.UpdateLogResult,
             lambda s: {**base(s), "existing_call_log": existing(s),
                        "composed_log_details": "- Note: checked\n", "note": "checked",
                        "subject": "Check call", "additional_submission": {}}),
        Step("upsertCallDisposition", res.LogResult,
             lambda s: {**base(s), "existing_call_log": existing(s), "dispositions": {}}),
        Step("createMessageLog", res.LogResult,
             lambda s: {**base(s), "contact_info": _contact(s), "message": message,
                        "additional_submission": {}},
             _remember("message_log_id", "logId")),
        Step("updateMessageLog", res.UpdateLogResult,
             lambda s: {**base(s), "contact_info": _contact(s), "message": message,
                        "existing_message_log": {"thirdPartyLogId": s.get("message_log_id")}}),
        Step("getLicenseStatus", res.LicenseStatus, base),
        Step("unauthorize", res.ActionResult, base),
    ]  # fmt: skip


def _shape_problem(result: Any, model: type[BaseModel] | None) -> tuple[Any, str | None]:
    wire = res.to_wire(result)
    if model is None:
        return wire, None
    if not isinstance(wire, dict):
        return wire, (
            f"returned {type(result).__name__}; expected {model.__name__} "
            "(or a dict with its camelCase keys)"
        )
    aliases = {info.alias or name: name for name, info in model.model_fields.items()}
    for key in wire:
        if key not in aliases and key in aliases.values():
            return wire, f"key {key!r} should be camelCase ({model.model_fields[key].alias!r})"
    try:
        model.model_validate(wire)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return wire, f"{model.__name__}.{where}: {error['msg']}"
    return wire, None


def _crm_of(factory: Any) -> Any:
    crm = factory() if callable(factory) and not hasattr(factory, "handle_async_request") else (
        factory)  # fmt: skip
    return getattr(crm, "transport", crm)


async def _exercise(platform: str, connector: Any, crm_factory: Any, report: Report) -> None:
    from appconnect.app import create_app
    from appconnect.testing.client import add_user, serve, settings_for_test

    registry = ConnectorRegistry()
    try:
        registry.register(connector, platform=platform)
    except Exception as exc:
        report.add("skipped", "calls", platform, f"not callable: {exc}")
        return
    transport = _crm_of(crm_factory)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(registry, settings=settings_for_test(folder), http_transport=transport)
        async with serve(app) as (_client, rt):
            view = rt.registry.get_connector(platform)
            auth_type = await view.call("getAuthType") if view.has("getAuthType") else None
            user_id = f"check-user-{platform}"
            await add_user(rt, user_id, platform, access_token="check-api-key")
            state: dict[str, Any] = {"user": await rt.users.get(user_id)}
            state["auth_header"] = await _auth_header(view, auth_type, report, platform)
            if view.has("getLogFormatType"):
                await _check_format(view, platform, report)
            for step in _steps():
                if view.has(step.name):
                    await _run(view, step, state, platform, report)


async def _auth_header(view: Any, auth_type: Any, report: Report, platform: str) -> str:
    name = AUTH_INTERFACE.get(str(auth_type))
    if name is None or not view.has(name):
        return "Bearer check-access-token"
    subject = f"{platform}.{python_name(name)}"
    try:
        if name == "getBasicAuth":
            value = await view.call(name, api_key="check-api-key")
            if not isinstance(value, str) or not value:
                report.add("problem", "shape", subject, f"returned {value!r}; expected a string")
                return "Basic "
            report.add("ok", "shape", subject, "a string")
            return f"Basic {value}"
        _wire, problem = _shape_problem(await view.call(name, hostname=None), res.OAuthInfo)
    except Exception as exc:
        report.add("problem", "raised", subject, f"{type(exc).__name__}: {exc}")
        return "Bearer check-access-token"
    report.add("problem" if problem else "ok", "shape", subject, problem or "OAuthInfo")
    return "Bearer check-access-token"


async def _check_format(view: Any, platform: str, report: Report) -> None:
    subject = f"{platform}.get_log_format_type"
    try:
        value = await view.call_positional("getLogFormatType", platform, None)
    except Exception as exc:
        report.add("problem", "raised", subject, f"{type(exc).__name__}: {exc}")
        return
    if value in ("text/plain", "text/html", "text/markdown"):
        report.add("ok", "shape", subject, value)
    else:
        report.add("problem", "shape", subject,
                   f"returned {value!r}; expected text/plain, text/html or text/markdown")


async def _run(view: Any, step: Step, state: dict[str, Any], platform: str, report: Report) -> None:
    subject = f"{platform}.{python_name(step.name)}"
    try:
        result = await view.call(step.name, **step.kwargs(state))
    except Exception as exc:
        report.add("problem", "raised", subject, f"{type(exc).__name__}: {exc}")
        return
    wire, problem = _shape_problem(result, step.model)
    if problem is None and isinstance(wire, dict):
        problem = step.rule(wire, state)
    label = step.model.__name__ if step.model else "ok"
    report.add("problem" if problem else "ok", "shape", subject, problem or label)


# -- entry point -------------------------------------------------------------------------------


def _resolve(target: str | None, crm: str | None, report: Report) -> tuple[Any, Any, Path]:
    """The connectors to check and the fake CRM factory (``None`` where it stops early)."""
    spec = target or "."
    folder = Path(spec) if ":" not in spec or Path(spec).is_dir() else None
    manifests: list[Manifest | None] = []
    if folder is not None:
        folder = folder.resolve()
        if not folder.is_dir():
            report.add("problem", "import", spec, "no such folder, and not module:attribute")
            return None, None, folder
        manifests = [_check_manifest_file(p, report) for p in _manifest_files(folder)]
        config = _project_config(folder)
        spec = config.get("target") or ""
        crm = crm or config.get("crm")
        if not spec:
            report.add("problem", "import", str(folder),
                       "no [tool.appconnect] target in pyproject.toml; pass module:attribute")
            return None, None, folder
        if None in manifests:
            return None, None, folder
    root = folder or Path.cwd()
    with _on_path(root):
        try:
            resolved = _target_of(_import(spec))
            crm_factory = _import(crm) if crm else None
        except ManifestError as exc:
            for error in exc.errors:
                report.add("problem", "manifest", exc.source or spec, error)
            return None, None, root
        except Exception as exc:
            report.add("problem", "import", spec, f"{type(exc).__name__}: {exc}")
            return None, None, root
    # A connector named without a registry: the folder's manifest describing its platform.
    for platform, manifest in resolved.manifests.items():
        if manifest is None and folder is not None:
            resolved.manifests[platform] = next(
                (m for m in manifests if m is not None and m.platform(platform)), None
            )
    return resolved, crm_factory, root


async def check_target(target: str | None = None, crm: str | None = None) -> Report:
    """Check ``target``: a project folder (default: the current one; reads ``[tool.appconnect]``
    of its pyproject.toml) or ``module:attribute`` naming a registry, an app or a connector.

    ``crm`` (``module:attribute``) names the fake CRM: a factory or object with a
    ``transport`` (a :class:`~appconnect.testing.FakeCrm`), or an ``httpx2`` transport.
    """
    report = Report()
    resolved, crm_factory, root = _resolve(target, crm, report)
    if resolved is None:
        return report
    with _on_path(root):
        for platform, connector in resolved.connectors.items():
            _check_static(platform, connector, resolved.manifests.get(platform), report)
            if crm_factory is None:
                report.add("skipped", "calls", platform,
                           "no fake CRM given (--crm module:attribute, or [tool.appconnect] crm)")
                continue
            try:
                await _exercise(platform, connector, crm_factory, report)
            except Exception as exc:
                report.add("problem", "raised", platform, f"{type(exc).__name__}: {exc}")
    return report
