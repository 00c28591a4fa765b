"""Helpers for tests that drive the ASGI app in-process (the public testing kit's)."""

from __future__ import annotations

from appconnect.testing.client import add_user, bearer, serve

__all__ = ["add_user", "bearer", "serve"]
