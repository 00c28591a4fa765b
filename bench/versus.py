"""Side-by-side bench: appconnect against the Node.js reference, in one interleaved run.

``python -m bench.versus`` (or ``python bench/versus.py``):

1. installs the reference, ``@app-connect/core`` at :data:`REFERENCE_VERSION`, with its peer
   dependencies, ``sqlite3`` and ``node-fetch``, through npm into a cache directory outside the
   repository (``~/.cache/appconnect-bench/reference``; ``--cache-dir``), once;
2. starts both servers, each with an empty SQLite file and its own fake CRM
   (``bench/fake_crm.py``, the same program for both): appconnect with ``bench/connector.py``,
   the reference with ``bench/reference/server.js`` and ``connector.js``, which make the same
   CRM requests per operation;
3. for several rounds, for each scenario, measures both servers one after the other (the order
   alternates between rounds) with wrk, 1 thread, 64 connections, 10 s, after the same set-up,
   probe and warm-up as ``bench/run.py`` (whose steps it reuses);
4. prints one table (median req/s of each, their ratio, the issue's ratio target, median p99 of
   each, CRM requests per operation of each) and writes it to ``bench/results/``.

Where node, npm or wrk is missing it says so and exits 0 without measuring (``--strict``: 2).
Only the standard library is used here, like ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report, run  # noqa: E402
from bench.scenarios import BY_KEY, SCENARIOS, Scenario  # noqa: E402

REFERENCE_VERSION = "1.7.41"
REFERENCE_PACKAGES = (
    f"@app-connect/core@{REFERENCE_VERSION}",
    # its peer dependencies (package.json "peerDependencies" of 1.7.41)
    "axios@^1.12.2",
    "express@^4.22.1",
    "moment@^2.29.4",
    "moment-timezone@^0.5.39",
    "pg@^8.8.0",
    "sequelize@^6.29.0",
    # Sequelize's SQLite driver, and node-fetch (required by the package, not declared)
    "sqlite3@^6.0.1",
    "node-fetch@^2.7.0",
)
REFERENCE_JS = BENCH / "reference"
DEFAULT_CACHE = Path.home() / ".cache" / "appconnect-bench" / "reference"
# The issue's targets: appconnect req/s over the reference's, per scenario.
RATIO_TARGETS = {
    "isAlive": 2.0,
    "contact": 5.0,
    "callLog.create": 5.0,
    "callLog.update": 5.0,
    "messageLog": 5.0,
}
SERVERS = ("appconnect", "reference")
DISTURBED_PCT = 20.0  # other processes' CPU (% of a core) above which a sample is flagged


# -- the table (pure: tested without processes) ----------------------------------------------


@dataclass
class Sample:
    """One timed wrk run of one server on one scenario."""

    server: str
    key: str
    round: int
    rps: float
    p99_ms: float
    crm_per_op: float | None
    errors: int = 0
    cpu_pct: dict[str, float] = field(default_factory=dict)
    skipped: str = ""
    crm_calls: dict[str, float] = field(default_factory=dict)  # per CRM endpoint, per op


@dataclass
class Row:
    """One scenario, both servers, over all rounds."""

    key: str
    label: str
    rps: dict[str, float | None]
    p99: dict[str, float | None]
    crm: dict[str, float | None]
    errors: dict[str, int]
    rounds: dict[str, list[float]]
    ratio: float | None
    target: float
    crm_calls: dict[str, dict[str, float]] = field(default_factory=dict)

    def verdict(self) -> str:
        if self.ratio is None:
            return "not measured"
        problems = []
        if self.ratio < self.target:
            problems.append(f"ratio < {self.target:g}x")
        mine, theirs = self.p99["appconnect"], self.p99["reference"]
        if mine is not None and theirs is not None and mine >= theirs:
            problems.append("p99 not below the reference's")
        if self.errors["appconnect"]:
            problems.append("errors")
        crm_a, crm_r = self.crm["appconnect"], self.crm["reference"]
        calls_a, calls_r = self.crm_calls.get("appconnect"), self.crm_calls.get("reference")
        if crm_a is not None and crm_r is not None and abs(crm_a - crm_r) > 1e-9:
            problems.append("CRM calls differ")
        elif calls_a and calls_r and calls_a != calls_r:
            problems.append("CRM calls differ")
        return "FAIL: " + ", ".join(problems) if problems else "PASS"


def median(values: Sequence[float]) -> float | None:
    """Median, or ``None`` for no values (a scenario skipped in every round)."""
    return statistics.median(values) if values else None


def ratio(mine: float | None, theirs: float | None) -> float | None:
    if mine is None or theirs is None or theirs <= 0:
        return None
    return mine / theirs


def summarise(samples: Sequence[Sample], keys: Sequence[str] | None = None) -> list[Row]:
    """Per scenario (in ``keys`` order, default: the bench's order): medians over the rounds."""
    rows = []
    order = list(keys) if keys is not None else [s.key for s in SCENARIOS]
    for key in order:
        mine = [s for s in samples if s.key == key and not s.skipped]
        if not mine and not any(s.key == key for s in samples):
            continue
        rps: dict[str, float | None] = {}
        p99: dict[str, float | None] = {}
        crm: dict[str, float | None] = {}
        errors: dict[str, int] = {}
        rounds: dict[str, list[float]] = {}
        calls: dict[str, dict[str, float]] = {}
        for server in SERVERS:
            runs = [s for s in mine if s.server == server]
            rounds[server] = [s.rps for s in sorted(runs, key=lambda s: s.round)]
            rps[server] = median([s.rps for s in runs])
            p99[server] = median([s.p99_ms for s in runs])
            probes = [s.crm_per_op for s in runs if s.crm_per_op is not None]
            crm[server] = max(probes) if probes else None
            calls[server] = next((s.crm_calls for s in runs if s.crm_calls), {})
            errors[server] = sum(s.errors for s in runs)
        rows.append(
            Row(
                key=key,
                label=BY_KEY[key].label,
                rps=rps,
                p99=p99,
                crm=crm,
                errors=errors,
                rounds=rounds,
                ratio=ratio(rps["appconnect"], rps["reference"]),
                target=RATIO_TARGETS.get(key, 1.0),
                crm_calls=calls,
            )
        )
    return rows


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def table(rows: Sequence[Row]) -> str:
    """The ratio table (Markdown)."""
    head = (
        "| scenario | appconnect req/s | reference req/s | ratio | target | appconnect p99 ms "
        "| reference p99 ms | CRM calls/op appconnect / reference | verdict |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|---|\n"
    )
    lines = []
    for r in rows:
        crm = f"{_num(r.crm['appconnect'], '.2f')} / {_num(r.crm['reference'], '.2f')}"
        lines.append(
            f"| {r.label} | {_num(r.rps['appconnect'], ',.0f')} "
            f"| {_num(r.rps['reference'], ',.0f')} | {_num(r.ratio, '.2f')}x "
            f"| >= {r.target:g}x | {_num(r.p99['appconnect'], '.1f')} "
            f"| {_num(r.p99['reference'], '.1f')} | {crm} | {r.verdict()} |"
        )
    return head + "\n".join(lines) + "\n"


def cpu_ms_per_op(s: Sample) -> float | None:
    """The server's CPU milliseconds per answered request in one sample (None if unknown)."""
    server = s.cpu_pct.get("server")
    if s.skipped or not server or s.rps <= 0:
        return None
    return server * 10.0 / s.rps  # % of a core * 10 ms/s / (requests/s)


def round_details(rows: Sequence[Row], samples: Sequence[Sample]) -> str:
    """Every round's req/s, and any errors or skips, under the table."""
    out = ["", "Rounds (req/s, in order):", ""]
    for r in rows:
        per = "; ".join(
            f"{server} " + ", ".join(f"{v:,.0f}" for v in r.rounds[server]) for server in SERVERS
        )
        out.append(f"- {r.label}: {per}")
    out += ["", "Server CPU per operation (ms, median over rounds; less disturbed than req/s):", ""]
    for r in rows:
        cpu = {
            server: median(
                [
                    c
                    for s in samples
                    if s.key == r.key and s.server == server and (c := cpu_ms_per_op(s))
                ]
            )
            for server in SERVERS
        }
        per = "; ".join(f"{server} {_num(cpu[server], '.2f')}" for server in SERVERS)
        eff = ratio(cpu["reference"], cpu["appconnect"])
        out.append(f"- {r.label}: {per}; reference / appconnect {_num(eff, '.2f')}x")
    out += ["", "CRM calls per operation by endpoint (sequential probe):", ""]
    for r in rows:
        texts = {
            server: ", ".join(f"{k} {v:g}" for k, v in sorted(r.crm_calls.get(server, {}).items()))
            or "none"
            for server in SERVERS
        }
        if texts["appconnect"] == texts["reference"]:
            out.append(f"- {r.label}: {texts['appconnect']} (both)")
        else:
            per = "; ".join(f"{server} {texts[server]}" for server in SERVERS)
            out.append(f"- {r.label}: {per}")
    out.append("")
    for s in samples:
        other = s.cpu_pct.get("other", 0.0)
        if other > DISTURBED_PCT:
            out.append(
                f"- {BY_KEY[s.key].label}, {s.server}, round {s.round}: disturbed (other processes "
                f"used {other:.0f}% of a core)"
            )
        if s.skipped:
            out.append(f"- {BY_KEY[s.key].label}, {s.server}, round {s.round}: {s.skipped}")
        elif s.errors:
            out.append(f"- {BY_KEY[s.key].label}, {s.server}, round {s.round}: {s.errors} errors")
    return "\n".join(out) + "\n"


# -- tools and the reference's install -------------------------------------------------------


def missing_tools(which: Callable[[str], str | None] | None = None) -> list[str]:
    """The programs this bench needs that are not on ``PATH``."""
    which = which or shutil.which
    return [tool for tool in ("node", "npm", "wrk") if which(tool) is None]


def skip_message(missing: Sequence[str]) -> str:
    hints = {
        "node": "Node.js 18+ (Debian/Ubuntu: apt-get install -y nodejs npm)",
        "npm": "npm (Debian/Ubuntu: apt-get install -y npm)",
        "wrk": "wrk (Debian/Ubuntu: apt-get install -y wrk)",
    }
    needs = "; ".join(hints[t] for t in missing)
    return f"side-by-side bench skipped: {', '.join(missing)} not found. Install {needs}."


def install_reference(cache: Path) -> Path:
    """Install the reference into ``cache`` (once; a marker file names what was installed)."""
    marker = cache / ".installed"
    wanted = "\n".join(REFERENCE_PACKAGES)
    if marker.exists() and marker.read_text() == wanted:
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    package = cache / "package.json"
    if not package.exists():
        package.write_text(
            json.dumps({"name": "appconnect-bench-reference", "private": True, "version": "0.0.0"})
        )
    print(f"installing the reference into {cache} (npm, once) ...", flush=True)
    cmd = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *REFERENCE_PACKAGES]
    subprocess.run(cmd, cwd=cache, check=True)
    marker.write_text(wanted)
    return cache


# -- processes ---------------------------------------------------------------------------------


@contextmanager
def reference_stack(cache: Path, python: str, keep: bool) -> Iterator[run.Stack]:
    """The reference server (``bench/reference/server.js``) and its own fake CRM."""
    tmp = Path(tempfile.mkdtemp(prefix="appconnect-versus-reference-"))
    crm_port, app_port = run.free_port(), run.free_port()
    crm_log, app_log = tmp / "fake_crm.log", tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    crm_cmd = [python, str(BENCH / "fake_crm.py"), "--port", str(crm_port), "--latency-ms", "0"]
    with crm_log.open("wb") as out:
        crm_proc = subprocess.Popen(crm_cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    server_env = {
        **env,
        "NODE_PATH": str(cache / "node_modules"),
        "NODE_ENV": "production",
        "DATABASE_URL": f"sqlite:{tmp / 'reference.db'}",
        "IS_PROD": "true",
        "APP_SERVER_SECRET_KEY": run.SECRET,
        "HASH_KEY": "bench-hash-key",
        "LOG_LEVEL": "WARN",
        "BENCH_CRM_URL": f"http://127.0.0.1:{crm_port}",
        "PORT": str(app_port),
    }
    with app_log.open("wb") as out:
        app_proc = subprocess.Popen(
            ["node", str(REFERENCE_JS / "server.js")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env,
            cwd=cache,
        )
    try:
        run.wait_ready(crm_proc, crm_port, "/__stats", crm_log)
        run.wait_ready(app_proc, app_port, "/isAlive", app_log)
        yield run.Stack(
            tmp, crm_proc, app_proc, run.Client(crm_port), run.Client(app_port), app_port, app_log
        )
    finally:
        run.stop(app_proc)
        run.stop(crm_proc)
        if keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def measure(st: run.Stack, sc: Scenario, token: str, args: argparse.Namespace) -> report.Result:
    return run.measure(st, sc, token, args, 0, args.connections)


def to_sample(server: str, rnd: int, r: report.Result) -> Sample:
    return Sample(
        server=server,
        key=r.key,
        round=rnd,
        rps=r.rps,
        p99_ms=r.p99_ms,
        crm_per_op=r.crm_per_op,
        crm_calls={k: round(v, 6) for k, v in r.crm_probe.items() if v},
        errors=r.errors,
        cpu_pct=dict(r.cpu_pct),
        skipped=r.skipped,
    )


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="appconnect against @app-connect/core, side by side, interleaved (wrk)."
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--scenarios", default=",".join(s.key for s in SCENARIOS), help="comma-separated keys"
    )
    parser.add_argument("--sessions", type=int, default=256, help="call sessions for PATCH")
    parser.add_argument("--probe", type=int, default=20, help="operations in the CRM probe")
    parser.add_argument("--wait-quiet", type=float, default=15.0, help="see bench/run.py")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--server",
        choices=("granian", "uvicorn"),
        default="uvicorn",
        help="appconnect serve --server (default uvicorn, as appconnect serve)",
    )
    parser.add_argument("--keep-tmp", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a FAIL, 2 on a skip")
    args = parser.parse_args(argv)
    unknown = [k for k in args.scenarios.split(",") if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {sorted(BY_KEY)}")
    args.selected = [BY_KEY[k] for k in args.scenarios.split(",")]
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_tools()
    if missing:
        print(skip_message(missing))
        return 2 if args.strict else 0
    cache = install_reference(args.cache_dir.expanduser())
    python, appconnect = run.venv_tools()
    info = report.machine_info(python, appconnect)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    info["node"] = node.stdout.strip()
    info["reference"] = f"@app-connect/core {REFERENCE_VERSION}"
    samples: list[Sample] = []
    with ExitStack() as stacks:
        ours = stacks.enter_context(run.stack(0, python, appconnect, args.keep_tmp, args.server))
        theirs = stacks.enter_context(reference_stack(cache, python, args.keep_tmp))
        servers = {"appconnect": ours, "reference": theirs}
        tokens = {}
        for name, st in servers.items():
            st.app.token = tokens[name] = run.login(st)
        for rnd in range(1, args.rounds + 1):
            print(f"\n== round {rnd}/{args.rounds} ==", flush=True)
            for sc in args.selected:
                order = SERVERS if rnd % 2 else tuple(reversed(SERVERS))
                for name in order:
                    print(f"  {sc.label} [{name}] ...", end=" ", flush=True)
                    result = measure(servers[name], sc, tokens[name], args)
                    sample = to_sample(name, rnd, result)
                    samples.append(sample)
                    print(
                        sample.skipped
                        or f"{sample.rps:,.0f} req/s, p99 {sample.p99_ms:.1f} ms, "
                        f"CRM/op {_num(sample.crm_per_op, '.2f')}, errors {sample.errors}",
                        flush=True,
                    )
    rows = summarise(samples, [sc.key for sc in args.selected])
    text = render(rows, samples, info, args)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{stamp}-versus.md"
    path.write_text(text)
    raw = [asdict(s) for s in samples]
    path.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    print("\n" + table(rows) + round_details(rows, samples))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    failed = any(r.verdict() != "PASS" for r in rows)
    return 1 if args.strict and failed else 0


def render(
    rows: Sequence[Row], samples: Sequence[Sample], info: dict[str, str], args: argparse.Namespace
) -> str:
    meta = "\n".join(f"- {k}: {v}" for k, v in info.items())
    conf = (
        f"rounds={args.rounds} (interleaved, order alternating), wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration:g}s after {args.warmup:g}s warm-up, fake CRM at "
        f"0 ms (one per server, same program), each server 1 process with an empty SQLite file; "
        f"appconnect serve --server {args.server}"
    )
    return (
        f"# appconnect vs @app-connect/core {REFERENCE_VERSION}, side by side\n\n{meta}\n"
        f"- run: {conf}\n\n{table(rows)}{round_details(rows, samples)}\n"
        "req/s and p99 are medians over the rounds of wrk's numbers; ratio = appconnect median "
        "req/s / reference median req/s. CRM calls/op come from a sequential probe of each "
        "server (exact).\n"
    )


if __name__ == "__main__":
    sys.exit(main())
