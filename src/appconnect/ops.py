"""Process-level operations for the ``appconnect`` command: ``.env`` files, logging, and
start-up errors in one line."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

ENV_FILE_VARIABLE = "APPCONNECT_ENV_FILE"

# Standard LogRecord attributes: everything else on a record is an ``extra`` worth logging.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


def load_env_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """Put the variables of a ``.env`` file into the environment; variables already set win.

    ``path`` defaults to ``APPCONNECT_ENV_FILE``, else ``.env`` in the working directory. A
    missing default file is not an error; a missing named file is.
    """
    from dotenv import dotenv_values

    named = path or os.environ.get(ENV_FILE_VARIABLE)
    env_path = Path(named) if named else Path(".env")
    if not env_path.is_file():
        if named:
            raise FileNotFoundError(f"{ENV_FILE_VARIABLE}: no such file {env_path}")
        return None
    for key, value in dotenv_values(env_path).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return env_path


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields.

    uvicorn's access records (``uvicorn.access``) also get ``client``, ``method``, ``path``,
    ``http_version`` and ``status`` as fields of their own.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(
            record.args) == 5:  # fmt: skip
            client, method, path, version, status = record.args
            entry.update(client=client, method=method, path=path, http_version=version,
                         status=status)  # fmt: skip
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else (
                    repr(value))  # fmt: skip
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(level: str, fmt: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for appconnect and uvicorn (also uvicorn's log_config)."""
    level = level.upper()
    if fmt == "json":
        formatter: dict[str, Any] = {"()": "appconnect.ops.JsonFormatter"}
    elif fmt == "text":
        formatter = {"format": "%(levelname)s:     %(name)s: %(message)s"}
    else:
        raise ValueError(f"APPCONNECT_LOG_FORMAT must be text or json, not {fmt!r}")
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": level, "handlers": [], "propagate": True},
        },
    }


def startup_error(exc: BaseException) -> str | None:
    """The one line to print for a configuration error, or ``None`` for a real bug."""
    from appconnect.manifest import ManifestError
    from appconnect.settings import ConfigurationError

    if isinstance(exc, ManifestError):
        return f"error: {exc}"
    if isinstance(exc, ConfigurationError):
        return f"error: {exc}"
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return f"error: invalid settings: {problems}"
    if isinstance(exc, FileNotFoundError) and ENV_FILE_VARIABLE in str(exc):
        return f"error: {exc}"
    return None


def fail(line: str) -> None:
    print(line, file=sys.stderr)
    raise SystemExit(1)
