"""The route class of App Connect's endpoints: FastAPI documents them, Starlette runs them.

Almost every endpoint here is ``async def f(request: Request) -> Response``: it reads the
session, query and body itself, because the reference's wire rules (which parameter wins, what
an invalid value answers) do not fit declarative validation. For such an endpoint FastAPI's
request handler (dependency solving, two exit stacks, response-model handling) does nothing but
cost CPU on every request, several percent of a call-log create. :class:`RequestRoute` keeps
the :class:`~fastapi.routing.APIRoute` (so the OpenAPI schema and ``openapi_extra`` stay) and
runs such endpoints through Starlette's plain ``request_response``. Endpoints that declare
other parameters keep FastAPI's handler unchanged.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import request_response


def takes_only_the_request(endpoint: Any) -> bool:
    """Is ``endpoint`` an ``async def f(request: Request)`` with nothing else to solve?"""
    if not inspect.iscoroutinefunction(endpoint):
        return False
    params = list(inspect.signature(endpoint).parameters.values())
    return (
        len(params) == 1
        and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD)
        and params[0].annotation in (Request, "Request")
    )


class RequestRoute(APIRoute):
    """An ``APIRoute`` that skips FastAPI's parameter machinery when there is none to run."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.direct = takes_only_the_request(endpoint) and not self.dependencies
        if self.direct:
            self.app = request_response(endpoint)


def router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` whose routes are :class:`RequestRoute` s."""
    return APIRouter(route_class=RequestRoute, **kwargs)
