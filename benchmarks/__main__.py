"""`make bench`: run every benchmark, write docs/benchmarks.md and docs/benchmarks.json.

    python -m benchmarks                 # everything (about 4-6 minutes on 2 cores)
    python -m benchmarks --only table    # some of them; prints the table, writes nothing
    python -m benchmarks --only table --out /tmp/b   # ... and writes there
    python -m benchmarks --only kernel --only latency --repeat 3   # spread across runs

Each benchmark module has `run() -> list[dict]` returning figure dicts
``{name, value, unit, target, ok, reference, ratio, method}`` (+ ``id``, and ``spread`` for
load-sensitive figures). A benchmark that crashes becomes one failed figure (the others still
run). Every run that writes is also appended to docs/benchmarks-history.json (`report.py`), which
is where the spread across runs comes from; ``--repeat N`` runs the selection N times, each
repetition recorded (the md and json show the last). Exit status 0 whatever the figures say (a
missed target is reported, not an error), 1 when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.notes import NOTES, WHY
from benchmarks.report import ROOT, fmt, loadavg, write

__all__ = ["BENCHES", "NOTES", "WHY", "main", "run_all", "write"]

# (key, module, kwargs for run()). Order matters a little: the CPU-sensitive, in-process ones run
# before any Chromium is started, the browser ones after.
BENCHES: list[tuple[str, str, dict[str, Any]]] = [
    ("bundle", "benchmarks.bench_bundle", {}),
    ("startup", "benchmarks.bench_startup", {}),
    ("snapshot", "benchmarks.bench_snapshot", {}),
    ("fanout", "benchmarks.bench_fanout", {}),
    ("kernel", "benchmarks.bench_kernel", {}),
    ("latency", "benchmarks.bench_latency", {}),
    ("table", "benchmarks.bench_table", {}),
]


def _assign_ids(key: str, figures: list[dict[str, Any]]) -> None:
    for i, f in enumerate(figures):
        f.setdefault("bench", key)
        f.setdefault("id", f"{key}_{i}")


def run_all(
    selected: list[str] | None = None,
    log: Callable[[str], None] = print,
    benches: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Run the benchmarks; return (figures, seconds per benchmark)."""
    figures: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    for key, module, kwargs in benches or BENCHES:
        if selected and key not in selected:
            continue
        log(f"[bench] {key} ...")
        t = time.monotonic()
        try:
            got = importlib.import_module(module).run(**kwargs)
        except Exception as exc:
            traceback.print_exc()
            got = [
                {
                    "id": f"{key}_crashed",
                    "name": f"{key}: the benchmark crashed",
                    "value": None,
                    "unit": "",
                    "target": "runs",
                    "ok": False,
                    "reference": None,
                    "ratio": None,
                    "method": f"{type(exc).__name__}: {exc}",
                    "crashed": True,
                }
            ]
        timings[key] = time.monotonic() - t
        _assign_ids(key, got)
        for f in got:
            f["seconds"] = round(timings[key], 1)
            log(f"[bench]   {'ok  ' if f['ok'] else 'MISS'} {f['name']}: {fmt(f['value'])} "
                f"{f['unit']} (target {f['target']})")  # fmt: skip
        figures.extend(got)
    return figures, timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", action="append", choices=[k for k, _, _ in BENCHES],
                        help="run only this benchmark (repeatable)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="where to write the md/json (default docs/)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the selection N times, each added to the history")  # fmt: skip
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    crashed = False
    for rep in range(max(args.repeat, 1)):
        if args.repeat > 1:
            print(f"[bench] repetition {rep + 1} of {args.repeat}")
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        load_start = loadavg()
        figures, timings = run_all(args.only)
        crashed |= any(f.get("crashed") for f in figures)
        # A subset run only writes when asked to (--out), or records its repetitions (--repeat).
        partial = bool(args.only) and args.out is None
        out = args.out or (ROOT / "docs" if not args.only or args.repeat > 1 else None)
        if out is not None:
            write(figures, timings, out, started, (load_start, loadavg()), partial=partial)
            what = "benchmarks-history.json" if partial else "benchmarks.md, .json and history"
            print(f"[bench] wrote {out}/{what}")
    graded = [f for f in figures if not f.get("info")]
    missed = [f["name"] for f in graded if not f["ok"]]
    print(f"[bench] {len(graded) - len(missed)}/{len(graded)} figures meet their target "
          f"(informational figures not counted); {time.monotonic() - t0:.0f} s in all")  # fmt: skip
    for name in missed:
        print(f"[bench]   missed: {name}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
