"""Client debug reports: a short-lived upload URL, and where the uploaded report goes.

The client asks ``GET /debug/report/url`` for a URL, then ``PUT`` s its JSON report there. The
reference presigns an S3 ``PUT``; here storage sits behind :class:`ReportStore`, whose default,
:class:`LocalReportStore`, hands out a URL of this server (``PUT /debug/report/upload/<token>``,
the token a signed, five-minute grant for one object key) and writes the report to a folder.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt

from appconnect.jsvalues import js_str_absent

UPLOAD_EXPIRY_SECONDS = 300
UPLOAD_TOKEN_TYPE = "debug-report-upload"
MAX_REPORT_BYTES = 50 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """One report to be uploaded: its object key and metadata."""

    bucket: str
    key: str
    user_id: str
    platform: str
    content_type: str = "application/json"


class ReportStore(Protocol):
    """Where debug reports go. ``upload_url`` answers a URL the client can ``PUT`` to."""

    async def upload_url(self, target: ReportTarget, base_url: str) -> str: ...


class ReportError(ValueError):
    """An upload the store refuses (bad or expired grant, too large)."""


def new_target(
    bucket: str, user_id: Any, platform: Any, *, now: datetime | None = None
) -> ReportTarget:
    """``error-reports/<UTC date>/<userId>-<short random id>.json``."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    key = f"error-reports/{day}/{js_str_absent(user_id)}-{secrets.token_urlsafe(6)}.json"
    return ReportTarget(
        bucket=bucket, key=key, user_id=js_str_absent(user_id), platform=js_str_absent(platform)
    )


class LocalReportStore:
    """Reports written below ``folder``; upload URLs point back at this server."""

    def __init__(self, folder: str | Path, secret: str) -> None:
        self.folder = Path(folder)
        self._key = secret.encode("utf-8")

    async def upload_url(self, target: ReportTarget, base_url: str) -> str:
        claims = {
            "type": UPLOAD_TOKEN_TYPE,
            "key": target.key,
            "bucket": target.bucket,
            "userId": target.user_id,
            "platform": target.platform,
            "exp": int(time.time()) + UPLOAD_EXPIRY_SECONDS,
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        return f"{base_url.rstrip('/')}/debug/report/upload/{token}"

    def grant(self, token: str) -> dict[str, Any]:
        """The claims of a valid, unexpired upload token."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            raise ReportError("Invalid or expired upload URL") from exc
        if claims.get("type") != UPLOAD_TOKEN_TYPE or not isinstance(claims.get("key"), str):
            raise ReportError("Invalid or expired upload URL")
        return dict(claims)

    def path_for(self, key: str) -> Path:
        """The file for an object key; every path part is made safe (no ``..``, no separators)."""
        parts = [_UNSAFE.sub("_", part) or "_" for part in key.split("/")]
        parts = ["_" if part in (".", "..") else part for part in parts]
        return self.folder.joinpath(*parts)

    async def save(self, token: str, body: bytes) -> str:
        """Store an uploaded report; returns its object key."""
        claims = self.grant(token)
        if len(body) > MAX_REPORT_BYTES:
            raise ReportError("Report too large")
        target = self.path_for(claims["key"])
        meta = {"user-id": claims.get("userId"), "platform": claims.get("platform")}
        await asyncio.to_thread(_write, target, body, meta)
        return str(claims["key"])


def _write(target: Path, body: bytes, meta: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))


STATE_KEY = "debug_reports.store"


def report_store(state: dict[str, Any], folder: str, secret: str) -> ReportStore:
    """The process's store: one set in ``runtime.state[STATE_KEY]``, else the local folder."""
    store = state.get(STATE_KEY)
    if store is None:
        store = state[STATE_KEY] = LocalReportStore(folder, secret)
    return store
