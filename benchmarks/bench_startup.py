"""Start-up: `import pieces_widgets` over `import anywidget`, each in a fresh interpreter.

Each sample is a new `python -c` process that times one import statement with
`time.perf_counter()` around it (interpreter start-up is the same for all and left out), then
reports whether pandas got imported. Kinds are interleaved, rotating which goes first, so machine
drift hits them alike; we compare medians. Also `from pieces_widgets import ModelManager` (which
brings in anywidget, ipywidgets, httpx and websockets) for information.

    python -m benchmarks.bench_startup [--runs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from benchmarks.bench_support import ROOT, figure, median

RUNS = 21
PROBE = (
    "import sys, time\n"
    "t = time.perf_counter()\n"
    "{stmt}\n"
    "t = time.perf_counter() - t\n"
    "print(t, 'pandas' in sys.modules)\n"
)
KINDS = {
    "anywidget": "import anywidget",
    "pieces_widgets": "import pieces_widgets",
    "ModelManager": "from pieces_widgets import ModelManager",
}


def _sample(stmt: str) -> tuple[float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    seconds, pandas = out.stdout.split()
    return float(seconds), pandas == "True"


def run(runs: int = RUNS) -> list[dict[str, Any]]:
    """Measure; return the figure dicts (see `bench_support.figure`)."""
    runs = max(runs, 15)
    names = list(KINDS)
    times: dict[str, list[float]] = {k: [] for k in names}
    pandas: dict[str, bool] = dict.fromkeys(names, False)
    for name in names:  # warm the OS file cache once (not counted)
        _sample(KINDS[name])
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            seconds, imported = _sample(KINDS[name])
            times[name].append(seconds * 1000)
            pandas[name] |= imported
    med = {k: median(v) for k, v in times.items()}
    base = med["anywidget"]
    method = (
        f"median of {runs} fresh `{sys.executable.rsplit('/', 2)[-2]}/python -c` processes per "
        "statement, interleaved (rotating order), time.perf_counter() around the import statement "
        "only; 'pandas' in sys.modules checked in the same process"
    )
    delta = med["pieces_widgets"] - base
    delta_mm = med["ModelManager"] - base
    return [
        figure(
            "startup_import",
            "start-up: `import pieces_widgets` over `import anywidget`",
            round(delta, 1),
            "ms",
            "<= +100 ms, pandas not imported",
            delta <= 100 and not pandas["pieces_widgets"],
            f"{method}. `import pieces_widgets` alone took {med['pieces_widgets']:.1f} ms; "
            f"pandas imported: {'yes' if pandas['pieces_widgets'] else 'no'}.",
            reference=round(base, 1),
            ratio=round(med["pieces_widgets"] / base, 3),
            reference_unit="ms (import anywidget)",
        ),
        figure(
            "startup_modelmanager",
            "start-up (info): `from pieces_widgets import ModelManager` over `import anywidget`",
            round(delta_mm, 1),
            "ms",
            "info (<= +100 ms, pandas not imported)",
            delta_mm <= 100 and not pandas["ModelManager"],
            f"{method}. The import took {med['ModelManager']:.1f} ms in total (it includes "
            f"anywidget itself); pandas imported: {'yes' if pandas['ModelManager'] else 'no'}.",
            reference=round(base, 1),
            ratio=round(med["ModelManager"] / base, 3),
            info=True,
            reference_unit="ms (import anywidget)",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    figures = run(parser.parse_args().runs)
    print(json.dumps(figures, indent=2))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
