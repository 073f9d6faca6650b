"""The benchmark harness runs on tiny inputs and produces well-formed figures (no timing asserts).

`make bench` is the real run (minutes); this only proves the machinery works: the emulator
subprocess, the recording comm, the browser page and its shim, the analysis and the report.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as bench_main  # noqa: E402
from benchmarks import bench_bundle, bench_fanout, bench_latency, bench_startup  # noqa: E402
from benchmarks.bench_support import CHROMIUM, percentile  # noqa: E402

KEYS = {"name", "value", "unit", "target", "ok", "reference", "ratio", "method"}


def well_formed(figures: list[dict]) -> None:
    assert figures and isinstance(figures, list)
    for f in figures:
        assert set(f) >= KEYS, f
        assert isinstance(f["name"], str) and f["name"]
        assert isinstance(f["unit"], str) and isinstance(f["target"], str) and f["target"]
        assert isinstance(f["ok"], bool)
        assert isinstance(f["method"], str) and f["method"]
        assert isinstance(f["id"], str) and f["id"]
        for key in ("value", "reference", "ratio"):
            v = f[key]
            assert v is None or (isinstance(v, int | float) and math.isfinite(v)), (key, v)
        json.dumps(f, allow_nan=False)


def test_bundle_figure():
    figures = bench_bundle.run()
    well_formed(figures)
    assert figures[0]["value"] > 0 and figures[0]["reference"] > figures[0]["value"]


def test_startup_probe_reports_time_and_pandas():
    seconds, pandas = bench_startup._sample("import pieces_widgets")
    assert seconds > 0
    assert pandas is False  # a functional promise of the package, not a timing


def test_fanout_tiny_run_counts_messages_and_checks_final_state():
    figures = bench_fanout.run(runs=1, seconds=0.4, downloads=2, frame_interval=0.02, models=20)
    well_formed(figures)
    by_id = {f["id"]: f for f in figures}
    assert set(by_id) == {"fanout_fps", "fanout_messages", "fanout_cpu", "fanout_exact"}
    assert by_id["fanout_exact"]["ok"], by_id["fanout_exact"]
    assert by_id["fanout_messages"]["value"] > 0
    assert by_id["fanout_fps"]["value"] > 0


def test_latency_analysis_on_synthetic_logs():
    # Frames at 10, 20, 30 % emitted at t=100.00/.01/.02 s; the row shows 20 % at 100.05 s and
    # 30 % at 100.10 s (page clock 1000 ms behind the server's).
    stamps = [
        ("m", "IN-PROGRESS", 10.0, 100.00),
        ("m", "IN-PROGRESS", 20.0, 100.01),
        ("m", "IN-PROGRESS", 30.0, 100.02),
        ("m", "COMPLETED", 100, 100.03),
    ]
    log = [[99_050.0, "m", 20.0, "IN-PROGRESS"], [99_100.0, "m", 30.0, "IN-PROGRESS"]]
    out = bench_latency._analyse(stamps, log, 1000.0, ["m"], [], [])
    assert out["unmatched"] == 0
    assert [round(x, 3) for x in out["every"]] == [0.05, 0.04, 0.08]
    assert [round(x, 3) for x in out["shown"]] == [0.04, 0.08]
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0


def test_table_tiny_run_in_chromium():
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test, but {CHROMIUM} is missing")
        pytest.skip(f"needs {CHROMIUM} (apt-get install chromium)")
    from benchmarks import bench_table

    figures = bench_table.run(runs=1, models=40, ticks=2)
    well_formed(figures)
    assert {f["id"] for f in figures} == {
        "table_render",
        "table_sort",
        "table_search",
        "table_tick",
    }
    assert "touched exactly one row" in figures[-1]["method"]


def test_report_and_crash_handling(tmp_path):
    figures, timings = bench_main.run_all(
        benches=[
            ("bundle", "benchmarks.bench_bundle", {}),
            ("boom", "benchmarks.no_such_benchmark", {}),
        ],
        log=lambda _: None,
    )
    well_formed([f for f in figures if not f.get("crashed")])
    assert figures[-1]["crashed"] and not figures[-1]["ok"]
    missed = {**figures[0], "id": "fanout_cpu", "ok": False}
    bench_main.write([*figures, missed], timings, tmp_path, "now", ("1 1 1", "2 2 2"))
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    assert all(set(f) >= KEYS for f in data)
    md = (tmp_path / "benchmarks.md").read_text()
    assert "| figure | ours | reference | ratio | target | ok | method |" in md
    assert "## Machine and method" in md and "Latency method" in md
    assert "## Missed targets" in md and bench_main.WHY["fanout_cpu"][:40] in md
    assert "the benchmark crashed" in md
