"""The developer playground (``appconnect serve --playground`` / ``APPCONNECT_PLAYGROUND``).

``GET /playground`` is a page that plays the App Connect client against this server; its files
ship in ``appconnect/devtools/playground``. Two small JSON routes feed it: the platforms served,
and the CRM records of the logged-in user for connectors that can list them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import FileResponse, Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.session import runtime, session
from appconnect.services import playground

router = routing.router(tags=["playground"])

FILES = Path(__file__).resolve().parents[1] / "devtools" / "playground"
STATIC = {"playground.js": "text/javascript", "playground.css": "text/css"}


class PlatformInfo(BaseModel):
    platform: str
    authType: str | None
    displayName: str
    records: bool


class PlaygroundInfo(BaseModel):
    platforms: list[PlatformInfo]


class CrmRecords(BaseModel):
    records: list[dict[str, Any]]


@router.get("/playground", response_class=FileResponse, include_in_schema=False)
async def page(request: Request) -> Response:
    return FileResponse(FILES / "index.html", media_type="text/html; charset=utf-8")


@router.get("/playground/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC:
        return r.json({"error": "Not found"}, 404)
    return FileResponse(FILES / name, media_type=STATIC[name])


@router.get("/playground/info", response_model=PlaygroundInfo)
async def info(request: Request) -> Response:
    """The platforms this server serves (the page's platform list)."""
    found = await playground.platforms(runtime(request))
    return r.json(PlaygroundInfo.model_validate({"platforms": found}).model_dump())


@router.get("/playground/crm", response_model=CrmRecords)
async def crm_records(request: Request) -> Response:
    """The logged-in user's records as the CRM stored them (connectors with
    ``playground_records``, e.g. the demo); 404 when the connector cannot list them."""
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    if s.user_id is None or s.platform is None:
        return r.text(r.USER_NOT_FOUND, 400)
    records = await playground.crm_records(runtime(request), s.user_id, s.platform)
    if records is None:
        return r.json({"error": "This connector cannot list its CRM records"}, 404)
    return r.json(CrmRecords(records=records).model_dump())
