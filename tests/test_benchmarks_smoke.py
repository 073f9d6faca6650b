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
from benchmarks import (  # noqa: E402
    bench_bundle,
    bench_fanout,
    bench_latency,
    bench_snapshot,
    bench_startup,
)
from benchmarks.bench_support import CHROMIUM, percentile, spread  # noqa: E402

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


def test_startup_targets_the_import_users_write_and_says_where_time_goes():
    figures = bench_startup.run(runs=3, breakdown=False)
    well_formed(figures)
    by_id = {f["id"]: f for f in figures}
    assert set(by_id) == {"startup_modelmanager", "startup_import"}
    mm = by_id["startup_modelmanager"]
    assert not mm.get("info") and mm["target"] == "<= +100 ms, pandas not imported"
    assert "pandas imported: no" in mm["method"]
    assert mm["spread"]["min"] <= mm["spread"]["median"] <= mm["spread"]["max"]
    env = bench_startup.bytecode_env("/tmp/cache")  # compiled code for every package alike
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["PYTHONPYCACHEPREFIX"] == "/tmp/cache"
    groups = bench_startup.importtime("from pieces_widgets import ModelManager")
    assert any(k.startswith("pieces_widgets") for k in groups) and "pandas" not in groups
    assert "anywidget" not in groups  # only what `import anywidget` does not already load


def test_snapshot_tiny_run_has_cold_rows_with_and_without_the_fast_decoder():
    figures = bench_snapshot.run(runs=5, n_models=40)
    well_formed(figures)
    by_id = {f["id"]: f for f in figures}
    cold, cold_json = by_id["snapshot_cold"], by_id["snapshot_cold_json"]
    assert set(by_id) == {"snapshot_vs_bare", "snapshot_vs_sdk", "snapshot_cold", cold_json["id"]}
    assert cold["target"] == "ours/bare <= 1.3" and not cold.get("info")
    assert cold_json["info"] is True
    assert "our body decoder: " in cold["method"]
    for key in ("snapshot_vs_bare", "snapshot_cold", "snapshot_cold_json"):
        s = by_id[key]["spread"]
        assert s["min"] <= s["median"] <= s["max"] and s["n"] == 5


def test_spread_summarises_rounds():
    assert spread([3.0, 1.0, 2.0, 10.0], "round") == {
        "per": "round", "n": 4, "min": 1.0, "median": 2.5, "max": 10.0,
    }  # fmt: skip


def test_fanout_tiny_run_counts_messages_and_checks_final_state():
    figures = bench_fanout.run(runs=1, seconds=0.4, downloads=2, frame_interval=0.02, models=20)
    well_formed(figures)
    by_id = {f["id"]: f for f in figures}
    assert set(by_id) == {"fanout_fps", "fanout_messages", "fanout_cpu", "fanout_exact"}
    assert by_id["fanout_exact"]["ok"], by_id["fanout_exact"]
    assert by_id["fanout_messages"]["value"] > 0
    assert by_id["fanout_fps"]["value"] > 0
    cpu = by_id["fanout_cpu"]
    assert cpu["target"] == "ours/floor <= 1.3"  # a ratio to the floor measured in the same run
    assert cpu["ratio"] == pytest.approx(cpu["value"] / cpu["reference"], rel=0.05)
    assert cpu["spread"]["n"] == 1 and "Per-run ours/floor" in cpu["method"]


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
    # Every write appends the run to the history; the spread across runs comes from there.
    load_sensitive = {**figures[0], "id": "kernel_rtt", "value": 9.0, "unit": "ms", "ok": True}
    load_sensitive["ratio"] = 1.1
    for value in (8.0, 12.0):
        bench_main.write([{**load_sensitive, "value": value}], timings, tmp_path, "t", ("0", "0"),
                         partial=True)  # fmt: skip
    assert (tmp_path / "benchmarks.md").read_text() == md  # a partial run rewrites no page
    bench_main.write([load_sensitive], timings, tmp_path, "later", ("1", "1"))
    history = json.loads((tmp_path / "benchmarks-history.json").read_text())
    assert [run["started"] for run in history] == ["now", "t", "t", "later"]
    assert history[-1]["figures"]["kernel_rtt"]["value"] == 9.0
    md = (tmp_path / "benchmarks.md").read_text()
    assert "## Spread across runs" in md
    assert "| 3 | 8 / 9 / 12 ms; ratio 1.1 / 1.1 / 1.1 | 3 of 3 |" in md
