"""Benchmark the connector server: ``python bench/run.py [--quick] [--latency 0,50] ...``.

For each CRM latency it starts two processes, a fake CRM (:mod:`bench.fake_crm`) and the server
under test (``appconnect serve bench.connector:app_factory``, fresh SQLite file, ``IS_PROD``),
logs in once through ``POST /apiKeyLogin`` (no RingCentral token, so the user has no
``rcAccountId`` and nothing is served from the contact cache), then for each scenario:

1. set-up (PATCH: create the call sessions it will update);
2. a sequential probe of a few operations, which checks the route works and counts the CRM
   requests per operation exactly (counters reset before, read after);
3. a wrk warm-up, a counter reset, the timed wrk run (CPU time of each process sampled around it).

``--setup`` picks the server: ``sqlite`` (one process, SQLite, in-memory key-value store: the
default), ``pg-redis`` (``--workers`` processes, 2 by default, on PostgreSQL and Redis: the
scale-out deployment) or ``both``, one after the other, their rows side by side in one table.

It prints a Markdown table and writes it to ``bench/results/``. Only the standard library is
used here, so any Python 3.11 runs it; the server and the fake CRM run on the repo's venv (which
also resets the PostgreSQL schema and the Redis keys for a ``pg-redis`` run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.scenarios import BY_KEY, CREATE, SCENARIOS, Scenario  # noqa: E402

WRK_SCRIPT = BENCH / "wrk" / "scenario.lua"
SECRET = "bench-app-server-secret-0123456789abcdef"  # fixed: IS_PROD needs one, none is written
API_KEY = "bench-api-key"
WRK_MISSING = (
    "wrk is not installed. Install it (Debian/Ubuntu): sudo apt-get update && "
    "sudo apt-get install -y wrk"
)


# -- small HTTP client (keep-alive, stdlib) ----------------------------------------------------


class Client:
    """One keep-alive connection; reconnects once when the server closed it."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 30.0
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                response = self._conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None) -> Any:
        raw = json.dumps(body).encode() if body is not None else None
        status, data = self.request(method, path, raw)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# -- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def venv_tools() -> tuple[str, list[str]]:
    """(python for the fake CRM, command for ``appconnect``), preferring the repo's venv."""
    venv = ROOT / ".venv" / "bin"
    python = str(venv / "python") if (venv / "python").exists() else sys.executable
    if (venv / "appconnect").exists():
        return python, [str(venv / "appconnect")]
    found = shutil.which("appconnect")
    return python, [found] if found else [python, "-m", "appconnect.cli"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (granian serves from a child of ``appconnect``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(x) for x in task.read_text().split())
            except (OSError, ValueError):
                pass
    return found


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in descendants(pid))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_seconds() -> tuple[float, float]:
    """(process CPU time: user + nice + system, kernel interrupt time: irq + softirq) of all
    cores, from ``/proc/stat``. Loopback networking is mostly softirq time, which the kernel
    charges to no process, so it is reported on its own."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (fields[0] + fields[1] + fields[2]) / tick, (fields[5] + fields[6]) / tick


def cpu_sample(st: Stack) -> dict[str, float]:
    procs, irq = machine_seconds()
    return {
        "server": tree_cpu_seconds(st.app_proc.pid),
        "crm": cpu_seconds(st.crm_proc.pid),
        "wrk": children_cpu(),
        "procs": procs,
        "irq": irq,
    }


def cpu_percent(before: dict[str, float], after: dict[str, float], secs: float) -> dict[str, float]:
    """% of one core: our three processes, kernel interrupts (``irq``), everything else."""
    used = {k: after[k] - before[k] for k in before}
    ours = used["server"] + used["crm"] + used["wrk"]
    used["other"] = max(0.0, used.pop("procs") - ours)
    return {k: 100 * v / secs for k, v in used.items()}


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this script started (by its own handle), politely first."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    client = Client(port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}); log:\n{tail(log)}")
        try:
            if client.request("GET", path, timeout=2)[0] == 200:
                client.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready after 60 s; log:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass(frozen=True)
class Setup:
    """How the server under test runs."""

    name: str  # sqlite | pg-redis
    workers: int = 1
    database_url: str = ""  # PostgreSQL; empty: a fresh SQLite file
    redis_url: str = ""

    @property
    def title(self) -> str:
        if not self.database_url:
            return "1 process, SQLite"
        return f"{self.workers} workers, PostgreSQL + Redis"

    def describe(self, server: str) -> str:
        if not self.database_url:
            return f"1 process on {server}, SQLite (fresh file), in-memory KV, IS_PROD"
        return (
            f"{self.workers} worker processes on {server}, PostgreSQL (fresh schema) + Redis "
            "(appconnect keys cleared), IS_PROD"
        )


RESET_STORES = """
import asyncio, sys
import asyncpg
from redis.asyncio import Redis

async def main(pg, redis):
    dsn = pg.replace("postgresql+asyncpg://", "postgresql://")
    name = dsn.rsplit("/", 1)[1].split("?", 1)[0]
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        conn = await asyncpg.connect(dsn)
    await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    client = Redis.from_url(redis)
    async for key in client.scan_iter("appconnect:*"):
        await client.delete(key)
    await client.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def reset_stores(python: str, setup: Setup) -> None:
    """Empty the benchmark's PostgreSQL schema and its Redis keys (pg-redis runs)."""
    name = setup.database_url.rsplit("/", 1)[-1].split("?", 1)[0]
    if "bench" not in name:
        raise SystemExit(f"--pg-url must name a database for the benchmark (with 'bench' in "
                         f"its name): its schema is dropped; got {name!r}")  # fmt: skip
    subprocess.run([python, "-c", RESET_STORES, setup.database_url, setup.redis_url], check=True)


@dataclass
class Stack:
    """The fake CRM and the server under test for one latency."""

    tmp: Path
    crm_proc: subprocess.Popen[bytes]
    app_proc: subprocess.Popen[bytes]
    crm: Client
    app: Client
    app_port: int
    server_log: Path

    def crm_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.crm.json("GET", "/__stats")
        return stats

    def crm_reset(self) -> None:
        self.crm.json("POST", "/__reset")

    def settled_stats(self) -> dict[str, Any]:
        """Counters once in-flight server work has drained (no change for 0.3 s)."""
        last = self.crm_stats()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.crm_stats()
            if now["total"] == last["total"]:
                return now
            last = now
        return last


@contextmanager
def stack(
    latency_ms: int, python: str, appconnect: list[str], keep: bool, server: str = "uvicorn",
    setup: Setup = Setup("sqlite"),
) -> Iterator[Stack]:  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix=f"appconnect-bench-{latency_ms}ms-"))
    crm_port, app_port = free_port(), free_port()
    crm_log, app_log = tmp / "fake_crm.log", tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    crm_cmd = [python, str(BENCH / "fake_crm.py"), "--port", str(crm_port)]
    crm_cmd += ["--latency-ms", str(latency_ms)]
    with crm_log.open("wb") as out:
        crm_proc = subprocess.Popen(crm_cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    server_env = {
        **env,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "IS_PROD": "true",
        "APP_SERVER_SECRET_KEY": SECRET,
        "HASH_KEY": "bench-hash-key",
        "APPCONNECT_SECRET_FILE": str(tmp / "secret"),  # never written with the two keys set
        "APPCONNECT_LOG_LEVEL": "WARNING",
        "BENCH_CRM_URL": f"http://127.0.0.1:{crm_port}",
    }
    app_cmd = [*appconnect, "serve", "bench.connector:app_factory", "--port", str(app_port)]
    app_cmd += ["--log-level", "warning", "--server", server]
    if setup.database_url:
        reset_stores(python, setup)
        server_env["DATABASE_URL"] = setup.database_url
        server_env["REDIS_URL"] = setup.redis_url
        app_cmd += ["--workers", str(setup.workers)]
    with app_log.open("wb") as out:
        app_proc = subprocess.Popen(
            app_cmd, stdout=out, stderr=subprocess.STDOUT, env=server_env, cwd=ROOT
        )
    try:
        wait_ready(crm_proc, crm_port, "/__stats", crm_log)
        wait_ready(app_proc, app_port, "/isAlive", app_log)
        yield Stack(tmp, crm_proc, app_proc, Client(crm_port), Client(app_port), app_port, app_log)
    finally:
        stop(app_proc)
        stop(crm_proc)
        if keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# -- scenario steps ----------------------------------------------------------------------------


def login(st: Stack) -> str:
    reply = st.app.json("POST", "/apiKeyLogin", {"platform": "bench", "apiKey": API_KEY})
    token = reply.get("jwtToken")
    if not token:
        raise RuntimeError(f"login failed: {reply}")
    return str(token)


def users_with_rc_account(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute('SELECT COUNT(*) FROM users WHERE "rcAccountId" IS NOT NULL').fetchone()
    return int(row[0])


def ok_answer(status: int, body: bytes) -> bool:
    return 200 <= status < 300 and b'"successful":false' not in body


def create_sessions(app: Client, prefix: str, count: int) -> None:
    """The call logs PATCH /callLog updates (ids ``<prefix>0000`` ...)."""
    for i in range(count):
        status, body = app.request("POST", *CREATE.render(f"{prefix}{i:04d}"))
        if not ok_answer(status, body):
            raise RuntimeError(f"creating session {i} failed: {status} {body[:300]!r}")


def probe_uid(sc: Scenario, prefix: str, i: int) -> str:
    if sc.mode == "cycle":
        return f"{prefix}{i % sc.count:04d}"
    return f"{prefix}probe-{i}" if sc.mode == "unique" else ""


def probe(st: Stack, sc: Scenario, prefix: str, n: int, result: report.Result) -> bool:
    """Run ``n`` operations one by one; count CRM requests per operation exactly."""
    st.crm_reset()
    for i in range(n):
        status, body = st.app.request(sc.method, *sc.render(probe_uid(sc, prefix, i)))
        if status in (404, 405) and b"successful" not in body:
            result.skipped = f"route missing ({sc.method} answered {status})"
            return False
        if not ok_answer(status, body):
            result.skipped = f"probe failed: {status} {body[:200].decode(errors='replace')}"
            return False
    counts: dict[str, int] = st.settled_stats()["counts"]
    result.crm_probe = {k: v / n for k, v in counts.items()}
    result.crm_per_op = sum(counts.values()) / n
    return True


def run_wrk(
    st: Stack, sc: Scenario, token: str, args: argparse.Namespace, conns: int, seconds: float,
    prefix: str, body_file: Path | None,
) -> dict[str, Any]:  # fmt: skip
    threads = max(1, min(args.threads, conns))
    script_args = [f"method={sc.method}", f"path={sc.path}", f"mode={sc.mode}"]
    script_args += [f"prefix={prefix}", f"count={sc.count}"]
    if body_file is not None:
        script_args.append(f"body={body_file}")
    cmd = [
        "wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds:g}s", "--timeout", "10s",
        "-H", f"Authorization: Bearer {token}", "-s", str(WRK_SCRIPT),
        f"http://127.0.0.1:{st.app_port}", "--", *script_args,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            return data
    raise RuntimeError(f"wrk gave no result (rc {out.returncode}):\n{out.stdout}\n{out.stderr}")


def server_problems(log: Path, seen: int) -> tuple[int, int]:
    """(tracebacks logged since line ``seen``, new line count)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return 0, seen
    return sum("Traceback" in line for line in lines[seen:]), len(lines)


def wait_quiet(st: Stack, limit_s: float) -> float:
    """Wait (at most ``limit_s``) until other processes use < 15% of a core; return their %."""
    deadline = time.monotonic() + limit_s
    told = False
    while True:
        before = cpu_sample(st)
        time.sleep(1.0)
        other = cpu_percent(before, cpu_sample(st), 1.0)["other"]
        if other < 15 or time.monotonic() >= deadline:
            return other
        if not told:
            print(f"(machine busy: {other:.0f}% of a core elsewhere; waiting)", end=" ", flush=True)
            told = True


def measure(
    st: Stack, sc: Scenario, token: str, args: argparse.Namespace, latency: int, conns: int
) -> report.Result:
    result = report.Result(sc.key, sc.label, latency, conns)
    nonce = secrets.token_hex(3)
    prefix = f"S{nonce}-" if sc.needs_sessions else ("" if sc.mode == "cycle" else f"{nonce}-")
    count = sc.count
    if sc.needs_sessions:
        count = args.sessions
        sc = replace(sc, count=count)
        create_sessions(st.app, prefix, count)
    if not probe(st, sc, prefix, args.probe, result):
        return result
    body_file = None
    if sc.body is not None:
        body_file = st.tmp / f"{sc.key}.json"
        body_file.write_text(sc.body)
    _, seen = server_problems(st.server_log, 0)
    if args.warmup > 0:
        warm_prefix = prefix if sc.mode == "cycle" else f"{nonce}w-"
        run_wrk(st, sc, token, args, conns, args.warmup, warm_prefix, body_file)
    st.settled_stats()
    if args.wait_quiet > 0:
        wait_quiet(st, args.wait_quiet)
    st.crm_reset()
    before = cpu_sample(st)
    run_prefix = prefix if sc.mode == "cycle" else f"{nonce}m-"
    data = run_wrk(st, sc, token, args, conns, args.duration, run_prefix, body_file)
    after = cpu_sample(st)
    stats = st.settled_stats()
    fill(result, data, stats)
    result.cpu_pct = cpu_percent(before, after, result.duration_s)
    if result.cpu_pct["other"] > 20:
        result.notes.append(
            f"other processes used {result.cpu_pct['other']:.0f}% of a core during the run: "
            "the numbers are disturbed"
        )
    tracebacks, _ = server_problems(st.server_log, seen)
    if tracebacks:
        result.notes.append(f"server logged {tracebacks} traceback(s); see its log (--keep-tmp)")
    if not result.load_ratio_ok():
        result.notes.append("CRM requests during load exceed the per-operation ceiling")
    return result


def fill(result: report.Result, data: dict[str, Any], stats: dict[str, Any]) -> None:
    result.requests = int(data["requests"])
    result.duration_s = data["duration_us"] / 1e6
    result.p50_ms, result.p90_ms = data["p50_us"] / 1000, data["p90_us"] / 1000
    result.p99_ms, result.max_ms = data["p99_us"] / 1000, data["max_us"] / 1000
    result.socket_errors = sum(int(data[k]) for k in ("connect", "read", "write", "timeout"))
    result.status_errors = int(data["status"])
    result.failures = int(data["failures"])
    result.crm_load = dict(stats["counts"])
    result.crm_load_total = int(stats["total"])


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark appconnect against a fake CRM with wrk.",
        epilog="Connections pair with latencies: --latency 0,50 --connections 64,8 runs 64 "
        "connections at 0 ms and 8 at 50 ms (the issue's target set-ups, and the default). "
        "One value applies to every latency.",
    )
    parser.add_argument("--quick", action="store_true", help="short runs (3 s, 1 s warm-up)")
    parser.add_argument("--latency", default="0,50", help="fake CRM latencies in ms")
    parser.add_argument(
        "--connections",
        default=None,
        help="wrk connections, one value or one per latency (default: 64 at 0 ms, 8 otherwise)",
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per run (10)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--scenarios", default=",".join(s.key for s in SCENARIOS), help="comma-separated keys"
    )
    parser.add_argument("--sessions", type=int, default=None, help="call sessions for PATCH")
    parser.add_argument("--probe", type=int, default=None, help="operations in the CRM probe")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="before each timed run, wait up to this many seconds for other processes to go "
        "quiet (0: do not wait)",
    )
    parser.add_argument(
        "--server",
        choices=("granian", "uvicorn"),
        default="uvicorn",
        help="appconnect serve --server (default uvicorn, as appconnect serve)",
    )
    parser.add_argument("--keep-tmp", action="store_true", help="keep DBs and process logs")
    parser.add_argument(
        "--setup",
        choices=("sqlite", "pg-redis", "both"),
        default="sqlite",
        help="sqlite: one process on SQLite; pg-redis: --workers processes on PostgreSQL and "
        "Redis; both: one after the other, side by side",
    )
    parser.add_argument("--workers", type=int, default=2, help="pg-redis: worker processes")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/appconnect_bench"
        ),
        help="pg-redis: a database for the benchmark ('bench' in its name; created if missing, "
        "its schema dropped first)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="pg-redis: Redis (its appconnect:* keys are deleted first)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (3.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.sessions = args.sessions or (128 if quick else 256)
    args.probe = args.probe or (5 if quick else 20)
    args.latencies = [int(x) for x in args.latency.split(",") if x.strip()]
    if args.connections is None:
        conns = [64 if latency == 0 else 8 for latency in args.latencies]
    else:
        conns = [int(x) for x in args.connections.split(",") if x.strip()]
    if len(conns) == 1:
        conns = conns * len(args.latencies)
    if len(conns) != len(args.latencies):
        parser.error("--connections needs one value, or one per --latency value")
    args.conns = conns
    unknown = [k for k in args.scenarios.split(",") if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {sorted(BY_KEY)}")
    args.selected = [BY_KEY[k] for k in args.scenarios.split(",")]
    return args


def run_latency(
    args: argparse.Namespace, latency: int, conns: int, python: str, appconnect: list[str],
    setup: Setup,
) -> list[report.Result]:  # fmt: skip
    print(f"\n== {setup.title}: fake CRM at {latency} ms, {conns} connections ==", flush=True)
    results: list[report.Result] = []
    with stack(latency, python, appconnect, args.keep_tmp, args.server, setup) as st:
        token = login(st)
        st.app.token = token
        # The login sends no RingCentral token, so the user has no rcAccountId (checked on
        # SQLite): every look-up reaches the CRM instead of the contact cache.
        with_rc = 0 if setup.database_url else users_with_rc_account(st.tmp / "bench.db")
        if with_rc:
            raise RuntimeError(f"{with_rc} user(s) have an rcAccountId: the cache would be used")
        for sc in args.selected:
            print(f"  {sc.label} ...", end=" ", flush=True)
            r = measure(st, sc, token, args, latency, conns)
            if args.setup == "both":
                r.label = f"{sc.label} [{setup.title}]"
            status = r.skipped or f"{r.rps:,.0f} req/s, p99 {r.p99_ms:.1f} ms, {r.verdict()}"
            print(status, flush=True)
            results.append(r)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    python, appconnect = venv_tools()
    info = report.machine_info(python, appconnect)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    setups = []
    if args.setup in ("sqlite", "both"):
        setups.append(Setup("sqlite"))
    if args.setup in ("pg-redis", "both"):
        setups.append(Setup("pg-redis", args.workers, args.pg_url, args.redis_url))
    settings = {
        "duration": f"{args.duration:g}s",
        "warmup": f"{args.warmup:g}s",
        "wrk threads": args.threads,
        "quick": args.quick,
        "server": " | ".join(setup.describe(args.server) for setup in setups),
    }
    everything: list[report.Result] = []
    for latency, conns in zip(args.latencies, args.conns, strict=True):
        results = []
        for setup in setups:
            results += run_latency(args, latency, conns, python, appconnect, setup)
        if len(setups) > 1:  # each scenario's rows side by side
            order = {sc.key: n for n, sc in enumerate(args.selected)}
            results.sort(key=lambda r: order[r.key])
        everything.extend(results)
        title = f"appconnect benchmark: fake CRM at {latency} ms, {conns} connections"
        text = report.render(results, info, settings, title)
        path = report.write(args.results_dir, f"{stamp}-{latency}ms", text, results)
        print(f"  wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    text = report.render(everything, info, settings, "appconnect benchmark (latest run)")
    report.write(args.results_dir, "latest", text, everything)
    print("\n" + report.markdown_table(everything))
    print(report.details(everything))
    failed = [r for r in everything if r.verdict().startswith("FAIL")]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
