"""The session token as a route sees it (after the middleware in ``appconnect.middleware``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

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
