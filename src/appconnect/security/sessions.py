"""The App Connect session token ("userJwt").

HS256 with the server secret, claims ``id``, ``platform``, ``iat`` and ``exp`` (14 days), plus
``sg`` (the user's session generation, see :mod:`appconnect.services.sessions`) once the user
has logged out at least once. A token is refused when it has no ``exp`` (the reference accepts
such tokens forever; we do not), when it expired, or when its algorithm is ``none`` or asymmetric.
A token within seven days of expiry is replaced by a fresh one on its next request.
"""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

# The key is the deployment's APP_SERVER_SECRET_KEY, whatever its length (the reference accepts
# any); warning on every request would only flood the log. Settings warns once instead.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

SESSION_LIFETIME = 14 * 24 * 3600
ROTATE_WITHIN = 7 * 24 * 3600


def _time_valid(claims: dict[str, Any], now: float) -> bool:
    """``exp`` and ``nbf`` as PyJWT checks them (no leeway)."""
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp <= now:
        return False
    nbf = claims.get("nbf")
    return not (isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf > now)


_ALGORITHMS = ["HS256", "HS384", "HS512"]


class SessionSigner:
    """Issues and verifies session tokens with one secret.

    Every request carries the same token for days, and verifying an HMAC signature with PyJWT
    costs more than the rest of the middleware together. Verified claims are therefore kept in a
    small LRU keyed by the token; a cache hit still re-checks expiry and not-before, so a cached
    token stops verifying at exactly the moment a fresh verification would reject it.
    """

    __slots__ = ("_cache", "_cache_size", "_key")

    def __init__(self, secret: str, *, cache_size: int = 10_000) -> None:
        self._key = secret.encode("utf-8")
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._cache_size = cache_size

    def issue(
        self,
        user_id: Any,
        platform: str,
        *,
        now: float | None = None,
        generation: str | None = None,
    ) -> str:
        """A session token; ``generation`` is the user's current session generation, if any."""
        iat = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "id": str(user_id),
            "platform": platform,
            "iat": iat,
            "exp": iat + SESSION_LIFETIME,
        }
        if generation is not None:
            claims["sg"] = generation
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str | None) -> dict[str, Any] | None:
        """Return the claims of a valid token, or ``None`` for anything undecodable."""
        if not token:
            return None
        cached = self._cache.get(token)
        if cached is not None:
            if _time_valid(cached, time.time()):
                self._cache.move_to_end(token)
                return dict(cached)
            del self._cache[token]
            return None
        claims = self._decode(token)
        if claims is not None:
            self._cache[token] = claims
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return dict(claims)
        return None

    def _decode(self, token: str) -> dict[str, Any] | None:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=_ALGORITHMS,
                options={"require": ["exp"], "verify_aud": False, "verify_iss": False},
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
