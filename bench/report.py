"""Results of a benchmark run: the per-scenario record, the verdicts, the Markdown report.

Kept apart from :mod:`bench.run` (which drives processes) so the table's format and the
pass/fail rules can be read in one place.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.scenarios import BY_KEY, MIN_RPS, P99_LIMIT_MS


@dataclass
class Result:
    """One scenario at one CRM latency."""

    key: str
    label: str
    latency_ms: int
    connections: int
    skipped: str = ""  # why the scenario was not measured
    requests: int = 0
    duration_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    socket_errors: int = 0  # connect + read + write + timeout
    status_errors: int = 0  # non-2xx answers
    failures: int = 0  # 2xx answers saying "successful": false
    crm_per_op: float | None = None  # exact, from the sequential probe
    crm_probe: dict[str, float] = field(default_factory=dict)  # per endpoint, per operation
    crm_load_total: int = 0  # CRM requests seen during the timed run
    crm_load: dict[str, int] = field(default_factory=dict)
    cpu_pct: dict[str, float] = field(default_factory=dict)  # server / crm / wrk, % of one core
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.status_errors + self.failures

    def error_text(self) -> str:
        if not self.errors:
            return "0"
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.socket_errors, "socket"),
                (self.status_errors, "non-2xx"),
                (self.failures, "successful:false"),
            )
            if n
        ]
        return f"{self.errors} ({', '.join(parts)})"

    def load_ratio_ok(self) -> bool:
        """Under load the CRM may see up to ``connections`` operations wrk abandoned at the end."""
        ceiling = BY_KEY[self.key].crm_max_per_op * (self.requests + self.connections)
        return self.crm_load_total <= ceiling

    def verdict(self) -> str:
        """PASS/FAIL against the issue's targets; ``-`` when none applies to this configuration."""
        if self.skipped:
            return "skipped"
        problems: list[str] = []
        target = MIN_RPS.get((self.key, self.latency_ms, self.connections))
        if target is not None and self.rps < target:
            problems.append(f"< {target:g} req/s")
        if target is not None and self.latency_ms == 0 and self.p99_ms >= P99_LIMIT_MS:
            problems.append(f"p99 >= {P99_LIMIT_MS:g} ms")
        if self.errors:
            problems.append("errors")
        limit = BY_KEY[self.key].crm_max_per_op
        if self.crm_per_op is None or self.crm_per_op > limit + 1e-9 or not self.load_ratio_ok():
            problems.append(f"CRM req/op > {limit:g}")
        if problems:
            return "FAIL: " + ", ".join(problems)
        return "PASS" if target is not None else "ok (no target)"


def target_text(r: Result) -> str:
    target = MIN_RPS.get((r.key, r.latency_ms, r.connections))
    limit = BY_KEY[r.key].crm_max_per_op
    crm = f"CRM <= {limit:g}"
    if target is None:
        return crm
    p99 = f", p99 < {P99_LIMIT_MS:g} ms" if r.latency_ms == 0 else ""
    return f">= {target:g} req/s{p99}, {crm}"


def markdown_table(results: list[Result]) -> str:
    head = (
        "| scenario | CRM latency | conns | req/s | p50 ms | p99 ms | errors | CRM req/op "
        "| CPU % server/CRM/wrk/irq/other | target | verdict |\n"
        "|---|---:|---:|---:|---:|---:|---|---:|---|---|---|\n"
    )
    rows = []
    for r in results:
        if r.skipped:
            rows.append(
                f"| {r.label} | {r.latency_ms} ms | {r.connections} | - | - | - | - | - | - "
                f"| {target_text(r)} | skipped: {r.skipped} |"
            )
            continue
        crm = "-" if r.crm_per_op is None else f"{r.crm_per_op:.2f}"
        cpu = "/".join(
            f"{r.cpu_pct.get(k, 0):.0f}" for k in ("server", "crm", "wrk", "irq", "other")
        )
        rows.append(
            f"| {r.label} | {r.latency_ms} ms | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.1f} "
            f"| {r.p99_ms:.1f} | {r.error_text()} | {crm} | {cpu} | {target_text(r)} "
            f"| {r.verdict()} |"
        )
    return head + "\n".join(rows) + "\n"


def details(results: list[Result]) -> str:
    """Per-scenario CRM breakdowns and notes, under the table."""
    lines = ["", "Details:", ""]
    for r in results:
        if r.skipped:
            continue
        probe = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r.crm_probe.items())) or "none"
        load = ", ".join(f"{k} {v}" for k, v in sorted(r.crm_load.items())) or "none"
        lines.append(
            f"- {r.label} @ {r.latency_ms} ms: {r.requests} requests in {r.duration_s:.1f} s, "
            f"p90 {r.p90_ms:.1f} ms, max {r.max_ms:.1f} ms; CRM per op (probe): {probe}; "
            f"CRM during load: {r.crm_load_total} ({load})"
        )
        lines.extend(f"  - note: {n}" for n in r.notes)
    return "\n".join(lines) + "\n"


# -- machine information ----------------------------------------------------------------------


def _run(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(server_python: str, appconnect_bin: list[str]) -> dict[str, str]:
    """What the numbers depend on: cores, CPU, interpreter, package and wrk versions."""
    versions = _run(
        [
            server_python,
            "-c",
            "import importlib.metadata as m, sys; print(sys.version.split()[0], *("
            "f'{p}={m.version(p)}' for p in ('uvicorn', 'uvloop', 'httptools', 'fastapi', "
            "'starlette', 'sqlalchemy', 'aiosqlite', 'httpx2', 'aiohttp', 'orjson', 'granian')))",
        ]
    ).split()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": _run(["nproc"]) if shutil.which("nproc") else str(affinity or os.cpu_count()),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python (server)": versions[0] if versions else "unknown",
        "appconnect": _run([*appconnect_bin, "--version"]),
        "packages": " ".join(versions[1:]),
        "wrk": _run(["wrk", "-v"]).split(" Copyright")[0],
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "driver python": sys.version.split()[0],
    }


def render(
    results: list[Result], info: dict[str, str], settings: dict[str, Any], title: str
) -> str:
    meta = "\n".join(f"- {k}: {v}" for k, v in info.items())
    conf = ", ".join(f"{k}={v}" for k, v in settings.items())
    return (
        f"# {title}\n\n{meta}\n- run: {conf}\n\n{markdown_table(results)}{details(results)}"
        "\nreq/s and latency are wrk's (closed loop, latency measured from request write to "
        'response). errors = socket errors + non-2xx + 2xx answers with "successful":false. '
        "CRM req/op comes from a sequential probe of the same requests against the idle server "
        "(exact); the CRM count during the load run is shown in the details (it may include up "
        "to one connection's worth of operations wrk abandoned at the end). CPU % is per process "
        "(100 = one core) over the timed run; irq = kernel interrupt time (loopback networking), "
        "other = every other process on the machine.\n"
    )


def write(results_dir: Path, stem: str, text: str, results: list[Result]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{stem}.md"
    path.write_text(text)
    payload = [{**asdict(r), "rps": r.rps, "verdict": r.verdict()} for r in results]
    (results_dir / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
    return path
