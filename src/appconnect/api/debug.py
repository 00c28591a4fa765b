"""``GET /debug/report/url`` (spec §7) and the local store's upload endpoint.

The reference answers a presigned S3 ``PUT`` URL. appconnect's default store is a local folder,
so the URL it hands out is ``PUT /debug/report/upload/<grant>`` on this server (a five-minute
signed grant for one object key); see :mod:`appconnect.services.debug_reports`.
"""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.openapi import documented, replies, reply_models
from appconnect.api.session import runtime, session
from appconnect.runtime import Runtime
from appconnect.services import debug_reports as reports

router = routing.router(tags=["debug"])


class PresignedUrl(BaseModel):
    presignedUrl: str


class Uploaded(BaseModel):
    successful: bool
    key: str


def _raw_token(request: Request) -> str | None:
    """Any token the request carries (header first), verified or not."""
    header = request.headers.get("authorization") or ""
    parts = header.split(" ")
    if len(parts) >= 2 and parts[0].lower() == "bearer" and parts[1]:
        return parts[1]
    return request.query_params.get("jwtToken") or None


def _store(rt: Runtime) -> reports.ReportStore:
    return reports.report_store(rt.state, rt.settings.report_dir, rt.secret)


@router.get(
    "/debug/report/url",
    openapi_extra=documented(),  # any bearer / jwtToken value files a report (spec §10 #6)
    responses=replies(PresignedUrl),
)
async def report_url(request: Request) -> Response:
    """A URL the client can ``PUT`` its JSON debug report to (valid five minutes)."""
    token = _raw_token(request)
    rt = runtime(request)
    s = session(request)
    if s.valid:
        claims = s.claims or {}
    elif token and (rt.sessions.verify(token) or {}).get("id") is not None:
        token = None  # a genuine token refused by the session check (logged out): none at all
    else:
        claims = {}  # any other token is accepted; an undecodable one files as "undefined"
    if not token:
        return r.text("Invalid request", 400)
    target = reports.new_target(
        rt.settings.error_report_s3_bucket, claims.get("id"), claims.get("platform")
    )
    base = rt.settings.app_server or str(request.base_url)
    try:
        url = await _store(rt).upload_url(target, base)
    except Exception as exc:  # the reference hangs here; we answer (spec §10 #6)
        return r.failed(exc)
    return r.json({"presignedUrl": url})


# No security: the signed, five-minute grant in the path is the credential.
@router.put("/debug/report/upload/{grant}", responses=reply_models(Uploaded))
async def upload_report(request: Request) -> Response:
    """The local store's upload target: the body is written as the report."""
    store = _store(runtime(request))
    if not isinstance(store, reports.LocalReportStore):
        return r.error("Uploads go to the configured report store", 404)
    body = await request.body()
    try:
        key = await store.save(request.path_params["grant"], body)
    except reports.ReportError as exc:  # our own message: the grant expired, or too large
        message = exc.args[0] if exc.args else type(exc).__name__
        return r.error(message, 403 if "expired" in message else 413)
    return r.json({"successful": True, "key": key})
