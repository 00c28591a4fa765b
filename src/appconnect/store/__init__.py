"""Persistence: SQLAlchemy models, the database handle and repositories."""

from appconnect.store.db import Database

__all__ = ["Database"]
