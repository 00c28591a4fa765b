"""The example plugins run with ``appconnect serve`` and do what docs/writing-a-plugin.md says."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from tests.plugin._servers import free_port

from appconnect.plugin import CredentialIssuer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "examples-secret-0123456789abcdef"


def _serve(target: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PLUGIN_SERVER_SECRET_KEY": SECRET}
    cli = Path(sys.executable).with_name("appconnect")
    proc = subprocess.Popen(
        [str(cli), "serve", target, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx2.get(f"{base}/isAlive", timeout=0.5).text == "OK":
                return proc, base
        except httpx2.TransportError:
            time.sleep(0.05)
    proc.kill()
    output = proc.stdout.read().decode() if proc.stdout else ""
    pytest.fail(f"{target} did not start:\n{output}")


@pytest.mark.parametrize(
    ("target", "plugin_id", "path", "body", "expected"),
    [
        ("examples.plugins.allcaps:app", "sync-all-caps", "/plugin/sync",
         {"data": {"note": "send the quote", "contactId": "c1"},
          "config": {"ignoreLetters": {"value": "e"}}},
         {"note": "SeND THe QUOTe", "contactId": "c1"}),
        ("examples.plugins.summary_note:app", "async-summary-note", "/plugin/async",
         {"data": {"logInfo": {"logInfo": {"messages": []}}}, "config": None},
         {"accepted": True}),
    ],
)  # fmt: skip
def test_example_plugin_serves(
    target: str, plugin_id: str, path: str, body: dict[str, object], expected: dict[str, object]
) -> None:
    proc, base = _serve(target)
    try:
        token = CredentialIssuer(SECRET, plugin_id).issue("acc-1")
        answer = httpx2.post(
            f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.json() == expected
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _python_blocks(path: Path) -> list[str]:
    blocks, current, inside = [], [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(current))
            inside, current = (not inside and line.strip() == "```python"), []
        elif inside:
            current.append(line)
    return blocks


async def test_the_guide_examples_run() -> None:
    """docs/writing-a-plugin.md: both plugins compile and its example test passes."""
    sync_plugin, async_plugin, example_test = _python_blocks(ROOT / "docs/writing-a-plugin.md")
    namespace: dict[str, object] = {}
    exec(compile(sync_plugin, "writing-a-plugin.md:sync", "exec"), namespace)
    exec(compile(async_plugin, "writing-a-plugin.md:async", "exec"), {})
    exec(compile(example_test, "writing-a-plugin.md:test", "exec"), namespace)
    await namespace["test_note_in_capitals"]()  # type: ignore[operator]
