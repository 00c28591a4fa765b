"""System and metadata routes: liveness, manifests, release notes, capabilities, hashing."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api import wire as w
from appconnect.api.openapi import documented, replies
from appconnect.api.session import runtime, session
from appconnect.connectors.interfaces import REPORTED
from appconnect.manifest import merge_release_notes
from appconnect.security.hashing import MISSING, hash_id
from appconnect.services import health
from appconnect.services.release_notes import CORE_RELEASE_NOTES

router = routing.router(tags=["system"])


@router.get("/isAlive", response_class=PlainTextResponse, responses=replies(None, error=False))
async def is_alive() -> Response:
    return PlainTextResponse("OK")


class Readiness(BaseModel):
    """``GET /readyz``: ``ready`` or ``unavailable``, and each dependency's state."""

    status: str
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unavailable"}},
)
async def readyz(request: Request) -> Response:
    """Readiness probe: 200 when the database and the key-value store answer, else 503."""
    ready, checks = await health.readiness(runtime(request))
    reply = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return r.json(reply.model_dump(), 200 if ready else 503)


@router.get("/implementedInterfaces", responses=replies(w.AnyObject))
async def implemented_interfaces(request: Request, platform: str | None = None) -> Response:
    if not platform:
        return r.text("Please provide platform.", 400)
    rt = runtime(request)
    try:
        view = rt.registry.get_connector(platform)
        # The reference forgets to await an async getAuthType here; we await it (spec §3.7).
        auth_type = await view.call("getAuthType") if view.has("getAuthType") else None
    except Exception as exc:
        return r.failed(exc)
    flags: dict[str, Any] = {name: view.has(name) for name in REPORTED}
    if auth_type == "oauth":
        flags["getOauthInfo"] = view.has("getOauthInfo")
    elif auth_type == "apiKey":
        flags["getBasicAuth"] = view.has("getBasicAuth")
    flags["cacheCallNote"] = rt.settings.call_note_cache_enabled
    return r.json(flags)


@router.get("/crmManifest", responses=replies(w.AnyObject))
async def crm_manifest(request: Request, platformName: str | None = None) -> Response:
    rt = runtime(request)
    try:
        manifest = rt.registry.get_manifest(platformName or "default")
        if not (manifest.data.get("author") or {}).get("name"):
            return r.text("Platform not found", 400)
        served = manifest.served(
            override_app_server=rt.settings.override_app_server,
            override_server_side_logging_server=rt.settings.override_server_side_logging_server,
        )
    except Exception:
        return r.text("Platform not found", 400)
    return r.json(served)


@router.get("/releaseNotes", responses=replies(w.AnyObject, error=False))
async def release_notes(request: Request) -> Response:
    notes = runtime(request).registry.get_release_notes()
    return r.json(merge_release_notes(CORE_RELEASE_NOTES, notes))


@router.get("/serverVersionInfo", responses=replies(w.VersionInfo, error=False))
async def server_version_info(request: Request) -> Response:
    try:
        version = runtime(request).registry.get_manifest("default").version
    except LookupError:
        version = None
    return r.json({"version": version or "unknown"})


@router.get(
    "/hostname",
    openapi_extra=documented(),
    response_class=HTMLResponse,  # documentation only: the reply is plain text
    responses=replies(None),
)
async def hostname(request: Request) -> Response:
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    try:
        user = await runtime(request).users.get(s.user_id) if s.valid else None
    except Exception as exc:
        return r.failed(exc, 500)
    if user is None:
        return r.text(r.USER_NOT_FOUND, 400)
    return r.plain(user.hostname or "")  # stored data: text/plain + nosniff (SECURITY.md)


@router.get("/userInfoHash", responses=replies(w.UserInfoHash, error=False))
async def user_info_hash(
    request: Request, extensionId: str | None = None, accountId: str | None = None
) -> Response:
    key = runtime(request).hash_key
    return r.json(
        {
            "extensionId": hash_id(MISSING if extensionId is None else extensionId, key),
            "accountId": hash_id(MISSING if accountId is None else accountId, key),
        }
    )
