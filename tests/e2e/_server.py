"""Start real ``appconnect serve`` (or any) processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

CLI = str(Path(sys.executable).with_name("appconnect"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without server settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_SERVER", "HASH_KEY", "DATABASE_URL", "APPCONNECT_", "REDIS_URL"))
    }
    env.update(extra)
    return env


@contextmanager
def running(
    args: list[str], *, cwd: Path, env: Mapping[str, str], ready_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends; wait until ``ready_url`` answers 2xx first."""
    proc = subprocess.Popen(
        args, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(400):
            if proc.poll() is not None:
                break
            try:
                if httpx2.get(ready_url, timeout=0.5).is_success:
                    break
            except httpx2.TransportError:
                time.sleep(0.05)
        else:
            proc.kill()
        if proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"{' '.join(args)} did not start:\n{output}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
