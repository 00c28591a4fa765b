"""The side-by-side bench's bookkeeping (``bench/versus.py``): medians, ratios, verdicts, the
table, and the clean skip where node, npm or wrk is missing. Nothing here is timed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import versus  # noqa: E402
from bench.versus import Sample, median, ratio, summarise, table  # noqa: E402


def sample(server: str, key: str, rnd: int, rps: float, p99: float, crm: float = 1.0) -> Sample:
    return Sample(server=server, key=key, round=rnd, rps=rps, p99_ms=p99, crm_per_op=crm)


def test_median_of_odd_and_even_counts_and_of_nothing() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert median([]) is None


def test_ratio_is_mine_over_theirs_and_none_without_a_reference_number() -> None:
    assert ratio(500.0, 100.0) == 5.0
    assert ratio(500.0, None) is None
    assert ratio(None, 100.0) is None
    assert ratio(500.0, 0.0) is None


def test_summary_takes_medians_per_server_over_rounds() -> None:
    samples = [
        sample("appconnect", "contact", 1, 1000, 40),
        sample("reference", "contact", 1, 200, 300),
        sample("appconnect", "contact", 2, 1600, 30),
        sample("reference", "contact", 2, 100, 500),
        sample("appconnect", "contact", 3, 1200, 50),
        sample("reference", "contact", 3, 300, 400),
    ]
    [row] = summarise(samples)
    assert row.rps == {"appconnect": 1200, "reference": 200}
    assert row.p99 == {"appconnect": 40, "reference": 400}
    assert row.ratio == pytest.approx(6.0)
    assert row.rounds["appconnect"] == [1000, 1600, 1200]
    assert row.rounds["reference"] == [200, 100, 300]
    assert row.target == 5.0
    assert row.verdict() == "PASS"


def test_verdict_names_each_missed_target() -> None:
    samples = [
        sample("appconnect", "callLog.update", 1, 400, 90, crm=2.0),
        sample("reference", "callLog.update", 1, 100, 80, crm=3.0),
    ]
    [row] = summarise(samples)
    verdict = row.verdict()
    assert verdict.startswith("FAIL")
    assert "ratio < 5x" in verdict
    assert "p99 not below" in verdict
    assert "CRM calls differ" in verdict


def test_is_alive_has_the_lower_target() -> None:
    samples = [
        sample("appconnect", "isAlive", 1, 250, 5, 0),
        sample("reference", "isAlive", 1, 100, 9, 0),
    ]
    [row] = summarise(samples)
    assert row.target == 2.0
    assert row.verdict() == "PASS"


def test_errors_fail_the_row() -> None:
    mine = sample("appconnect", "contact", 1, 1000, 10)
    mine.errors = 3
    [row] = summarise([mine, sample("reference", "contact", 1, 100, 90)])
    assert row.verdict() == "FAIL: errors"


def test_skipped_samples_are_left_out_of_medians() -> None:
    gone = sample("reference", "messageLog", 2, 0, 0)
    gone.skipped = "probe failed: 500"
    samples = [
        sample("appconnect", "messageLog", 1, 300, 100, 5),
        sample("reference", "messageLog", 1, 50, 900, 5),
        gone,
    ]
    [row] = summarise(samples)
    assert row.rps["reference"] == 50
    assert "probe failed: 500" in versus.round_details([row], samples)


def test_a_scenario_skipped_by_one_server_everywhere_has_no_ratio() -> None:
    gone = sample("reference", "contact", 1, 0, 0)
    gone.skipped = "route missing"
    [row] = summarise([sample("appconnect", "contact", 1, 900, 10), gone])
    assert row.ratio is None
    assert row.verdict() == "not measured"
    assert "| - | -x |" in table([row])


def test_table_has_one_row_per_scenario_in_the_bench_order_with_both_servers() -> None:
    samples = [
        sample("reference", "messageLog", 1, 60, 800, 5),
        sample("appconnect", "messageLog", 1, 330, 120, 5),
        sample("appconnect", "isAlive", 1, 4000, 20, 0),
        sample("reference", "isAlive", 1, 1000, 90, 0),
    ]
    text = table(summarise(samples))
    lines = text.strip().splitlines()
    assert lines[0].startswith("| scenario | appconnect req/s | reference req/s | ratio |")
    assert len(lines) == 4
    assert lines[2] == (
        "| GET /isAlive (floor) | 4,000 | 1,000 | 4.00x | >= 2x | 20.0 | 90.0 "
        "| 0.00 / 0.00 | PASS |"
    )
    assert lines[3].startswith("| POST /messageLog (3 new SMS) | 330 | 60 | 5.50x | >= 5x |")
    assert "5.00 / 5.00" in lines[3]


def test_missing_tools_lists_what_is_absent() -> None:
    present = {"node": "/usr/bin/node", "npm": "/usr/bin/npm"}
    assert versus.missing_tools(present.get) == ["wrk"]
    assert versus.missing_tools(lambda name: "/bin/x") == []


def test_main_skips_with_a_message_when_node_is_absent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "node" else real(name))

    def no_install(cache: Path) -> Path:
        raise AssertionError("must not install when skipping")

    monkeypatch.setattr(versus, "install_reference", no_install)
    code = versus.main(["--cache-dir", str(tmp_path / "cache"), "--results-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "side-by-side bench skipped" in out
    assert "node" in out
    assert not list(tmp_path.iterdir())
    assert versus.main(["--strict", "--results-dir", str(tmp_path)]) == 2


def test_reference_install_stays_outside_the_repository() -> None:
    assert not versus.DEFAULT_CACHE.is_relative_to(ROOT)
    assert any(p.startswith("@app-connect/core@1.7.41") for p in versus.REFERENCE_PACKAGES)
    assert any(p.startswith("node-fetch@") for p in versus.REFERENCE_PACKAGES)


def test_samples_disturbed_by_other_processes_are_flagged() -> None:
    busy = sample("appconnect", "contact", 2, 900, 80)
    busy.cpu_pct = {"server": 90.0, "other": 75.0}
    quiet = sample("reference", "contact", 2, 200, 300)
    quiet.cpu_pct = {"server": 100.0, "other": 3.0}
    rows = summarise([busy, quiet])
    text = versus.round_details(rows, [busy, quiet])
    assert (
        "GET /contact, appconnect, round 2: disturbed (other processes used 75% of a core)" in text
    )
    assert "reference, round 2: disturbed" not in text


def test_cpu_per_operation_is_server_cpu_over_requests() -> None:
    mine = sample("appconnect", "callLog.update", 1, 500, 100, 2)
    mine.cpu_pct = {"server": 100.0}  # one core for 500 requests/s: 2 ms each
    theirs = sample("reference", "callLog.update", 1, 100, 400, 2)
    theirs.cpu_pct = {"server": 80.0}  # 0.8 core for 100 requests/s: 8 ms each
    assert versus.cpu_ms_per_op(mine) == pytest.approx(2.0)
    assert versus.cpu_ms_per_op(theirs) == pytest.approx(8.0)
    text = versus.round_details(summarise([mine, theirs]), [mine, theirs])
    assert "- PATCH /callLog: appconnect 2.00; reference 8.00; reference / appconnect 4.00x" in text
    gone = sample("reference", "contact", 1, 0, 0)
    gone.skipped = "route missing"
    assert versus.cpu_ms_per_op(gone) is None


def test_same_count_on_different_crm_endpoints_fails_the_row() -> None:
    mine = sample("appconnect", "callLog.update", 1, 900, 100, 2)
    mine.crm_calls = {"GET /activities/{id}": 1.0, "PATCH /activities/{id}": 1.0}
    theirs = sample("reference", "callLog.update", 1, 100, 400, 2)
    theirs.crm_calls = {"POST /activities": 1.0, "PATCH /activities/{id}": 1.0}
    [row] = summarise([mine, theirs])
    assert row.verdict() == "FAIL: CRM calls differ"
    theirs.crm_calls = dict(mine.crm_calls)
    [row] = summarise([mine, theirs])
    assert row.verdict() == "PASS"
    text = versus.round_details([row], [mine, theirs])
    assert "- PATCH /callLog: GET /activities/{id} 1, PATCH /activities/{id} 1 (both)" in text
