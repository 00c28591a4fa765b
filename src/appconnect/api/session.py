"""The session token as a route sees it (after the middleware in ``appconnect.middleware``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.runtime import Runtime

SCOPE_RUNTIME = "appconnect.runtime"
SCOPE_SESSION = "appconnect.session"


@dataclass(frozen=True, slots=True)
class Session:
    """``token`` is what the route received; ``claims`` is set only when it verified.

    A verified token without an ``id`` claim is decodable but not a session: routes that tell
    "invalid token" from "no user id" (the reference's ``/licenseStatus``) need both facts.
    """

    token: str | None
    claims: dict[str, Any] | None

    @property
    def present(self) -> bool:
        return bool(self.token)

    @property
    def decodable(self) -> bool:
        return self.claims is not None

    @property
    def valid(self) -> bool:
        return self.claims is not None and self.claims.get("id") is not None

    @property
    def user_id(self) -> str | None:
        value = (self.claims or {}).get("id")
        return None if value is None else str(value)

    @property
    def platform(self) -> str | None:
        value = (self.claims or {}).get("platform")
        return None if value is None else str(value)


_NO_SESSION = Session(None, None)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.scope[SCOPE_RUNTIME]
    return rt


def session(request: Request) -> Session:
    return request.scope.get(SCOPE_SESSION) or _NO_SESSION


INVALID_JWT = "Invalid JWT token"

SessionEndpoint = Callable[[Request, Session], Awaitable[Response]]
# A route's answer to an unusable token: the text of a plain ``400``, or a function building
# the whole answer (the call-down routes answer ``400 {"error": "Unauthorized"}``).
Refusal = str | Callable[[], Response]


def refusal(
    s: Session, *, invalid_token: Refusal = r.NOAUTH, no_user: Refusal = r.NOAUTH
) -> Response:
    """The reference's ``400`` answer for a request without a usable session.

    No token at all is always ``Please go to Settings and authorize CRM platform``;
    ``invalid_token`` answers a token that does not verify, ``no_user`` one that verifies but
    names no user (routes differ, see the HTTP spec §1.2).
    """
    if not s.present:
        return r.text(r.NOAUTH, 400)
    answer = no_user if s.decodable else invalid_token
    return r.text(answer, 400) if isinstance(answer, str) else answer()


def with_session(
    *, invalid_token: Refusal = r.NOAUTH, no_user: Refusal = r.NOAUTH
) -> Callable[[SessionEndpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate ``async def route(request, s)``: it runs only with a valid session.

    The decorated endpoint is a plain ``async def (request)``, so it stays on the direct
    Starlette path of :class:`appconnect.api.routing.RequestRoute`.
    """

    def wrap(fn: SessionEndpoint) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            s = request.scope.get(SCOPE_SESSION) or _NO_SESSION
            if not s.valid:
                return refusal(s, invalid_token=invalid_token, no_user=no_user)
            return await fn(request, s)

        endpoint.__name__ = fn.__name__
        endpoint.__qualname__ = fn.__qualname__
        endpoint.__doc__ = fn.__doc__
        endpoint.__module__ = fn.__module__
        return endpoint

    return wrap
