"""The route class: FastAPI documents every route, plain request endpoints skip its handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse, Response

from appconnect.api.routing import RequestRoute, router, takes_only_the_request
from appconnect.app import create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.settings import Settings


async def plain(request: Request) -> Response:
    return PlainTextResponse(request.query_params.get("q", "none"))


async def with_param(request: Request, q: str | None = None) -> Response:
    return PlainTextResponse(f"param={q}")


def sync_endpoint(request: Request) -> Response:
    return PlainTextResponse("sync")


def test_only_async_request_only_endpoints_are_direct() -> None:
    assert takes_only_the_request(plain)
    assert not takes_only_the_request(with_param)
    assert not takes_only_the_request(sync_endpoint)


def test_direct_and_solved_routes_both_answer_and_are_documented() -> None:
    api = router()
    api.get("/plain")(plain)
    api.get("/param")(with_param)
    app = FastAPI()
    app.include_router(api)
    client = TestClient(app)

    assert client.get("/plain?q=x").text == "x"
    assert client.get("/param?q=y").text == "param=y"  # FastAPI still solves declared params
    assert client.post("/plain").status_code == 405
    routes = {r.path: r for r in api.routes if isinstance(r, RequestRoute)}
    assert routes["/plain"].direct and not routes["/param"].direct
    paths = app.openapi()["paths"]
    assert "get" in paths["/plain"] and "get" in paths["/param"]


def test_the_servers_logging_routes_run_direct(tmp_path: Path) -> None:
    settings: Any = Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
        APP_SERVER_SECRET_KEY="k" * 40,
        HASH_KEY="h",
        APPCONNECT_SECRET_FILE=str(tmp_path / "secret"),
    )
    app = create_app(ConnectorRegistry(), settings=settings)
    direct = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, RequestRoute) and route.direct
        for method in route.methods
    }
    for hot in [("GET", "/contact"), ("POST", "/callLog"), ("PATCH", "/callLog"),
                ("POST", "/messageLog")]:  # fmt: skip
        assert hot in direct
