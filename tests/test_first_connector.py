"""docs/first-connector.md, executed step by step as a reader would.

Each ```bash block marked ``<!-- step: NAME -->`` runs in order; the suite's own interpreter and
``appconnect`` stand in for the project's ``.venv`` (the install step is the one not run: this
venv already has appconnect, and installing would need the network). The two long-running
commands (the fake CRM and the server) run in the background on free ports; the expected output
block of a step must appear in what it printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx2
from tests.e2e._server import CLI, clean_env, free_port, running
from tests.test_docs import code_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "first-connector.md"


def steps() -> dict[str, str]:
    found: dict[str, str] = {}
    for block in code_blocks(DOC):
        if block.marker and block.marker.startswith(("step:", "expect:")):
            found[block.marker.replace(" ", "")] = block.code
    return found


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    doc = steps()
    assert list(doc) == [
        "step:scaffold", "step:install", "step:test", "step:fake-crm", "step:serve",
        "step:log-a-call", "expect:log-a-call", "step:check",
    ]  # fmt: skip
    crm_port, port = free_port(), free_port()
    env = clean_env()

    def local(command: str) -> str:
        command = command.replace(".venv/bin/python", sys.executable)
        command = command.replace(".venv/bin/appconnect", CLI)
        command = re.sub(r"(?<![\w/.-])appconnect ", f"{CLI} ", command)
        return command.replace("6067", str(crm_port)).replace("6066", str(port))

    def bash(command: str, cwd: Path) -> str:
        result = subprocess.run(["bash", "-ec", local(command)], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    # 1. scaffold
    bash(doc["step:scaffold"], tmp_path)
    project = tmp_path / "acme"
    assert (project / "acme" / "connector.py").is_file()
    # 2. install: "cd acme" is the part that applies here; pip install is not run (see above).
    assert doc["step:install"].splitlines()[0] == "cd acme"
    tested = bash(doc["step:test"], project)
    assert "6 passed" in tested
    # 3. serve: the fake CRM, then `cp .env.example .env` and the server.
    (fake_crm,) = doc["step:fake-crm"].splitlines()
    copy, serve = doc["step:serve"].splitlines()
    bash(copy, project)
    dotenv = project / ".env"  # the fake CRM's port, as everywhere: a free one, not 6067
    dotenv.write_text(dotenv.read_text().replace("6067", str(crm_port)))
    crm_url, base = f"http://127.0.0.1:{crm_port}", f"http://127.0.0.1:{port}"
    with (
        running(local(fake_crm).split(), cwd=project, env=env, ready_url=f"{crm_url}/me"),
        running(local(serve).split(), cwd=project, env=env, ready_url=f"{base}/isAlive"),
    ):
        # 4. log a call over HTTP, with curl, as written.
        printed = bash(doc["step:log-a-call"], project)
        for line in doc["expect:log-a-call"].splitlines():
            assert line in printed, (line, printed)
        # The playground of section 5 is off unless asked for.
        assert httpx2.get(f"{base}/playground").status_code == 404
    # 6. check: no problem in a fresh project.
    checked = bash(doc["step:check"], project)
    assert checked.splitlines()[-1] == "0 problems"
