"""The App Connect session token ("userJwt").

HS256 with the server secret, claims ``id``, ``platform``, ``iat`` and ``exp`` (14 days). Tokens
without ``exp`` (legacy) verify forever; ``none`` and asymmetric algorithms never verify.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

# The key is the deployment's APP_SERVER_SECRET_KEY, whatever its length (the reference accepts
# any); warning on every request would only flood the log. Settings warns once instead.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

SESSION_LIFETIME = 14 * 24 * 3600
ROTATE_WITHIN = 7 * 24 * 3600
_ALGORITHMS = ["HS256", "HS384", "HS512"]


class SessionSigner:
    """Issues and verifies session tokens with one secret."""

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def issue(self, user_id: Any, platform: str, *, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        claims = {
            "id": str(user_id),
            "platform": platform,
            "iat": iat,
            "exp": iat + SESSION_LIFETIME,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str | None) -> dict[str, Any] | None:
        """Return the claims of a valid token, or ``None`` for anything undecodable."""
        if not token:
            return None
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=_ALGORITHMS,
                options={"require": [], "verify_aud": False, "verify_iss": False},
                leeway=0,
            )
        except jwt.PyJWTError:
            return None
        return claims if isinstance(claims, dict) else None

    @staticmethod
    def needs_rotation(claims: dict[str, Any], *, now: float | None = None) -> bool:
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return False
        return exp - (now if now is not None else time.time()) <= ROTATE_WITHIN
