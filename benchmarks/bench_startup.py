"""Start-up: `from pieces_widgets import ModelManager` over `import anywidget`, fresh interpreters.

Each sample is a new `python -c` process that times one import statement with
`time.perf_counter()` around it (interpreter start-up is the same for all and left out), then
reports whether pandas got imported. Kinds are interleaved, rotating which goes first, so machine
drift hits them alike; we compare medians. Targets: the import users write (`from pieces_widgets
import ModelManager`) and the bare `import pieces_widgets` each at most +100 ms over `import
anywidget`, pandas not imported. A few `python -X importtime` processes then say where the extra
time goes (modules `import anywidget` does not load, grouped by top-level package).

    python -m benchmarks.bench_startup [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from typing import Any

from benchmarks.bench_support import ROOT, figure, median, spread

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


def bytecode_env(cache_dir: str) -> dict[str, str]:
    """The environment for the probes: bytecode cached, for every package alike, in `cache_dir`.

    Why: with PYTHONDONTWRITEBYTECODE set (as in some CI and sandboxes) our source tree has no
    ``.pyc`` files, so each probe would compile every pieces_widgets module while anywidget's
    come precompiled from its wheel. Users import compiled code; so do the probes: the warm-up
    run compiles everything once into a private prefix (the source tree is left alone).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def _sample(stmt: str, env: dict[str, str] | None = None) -> tuple[float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )
    seconds, pandas = out.stdout.split()
    return float(seconds), pandas == "True"


def importtime(
    stmt: str, base: str = KINDS["anywidget"], env: dict[str, str] | None = None
) -> dict[str, float]:
    """Self time (ms) of each module `stmt` imports that `base` does not, by top-level package
    (our own modules one by one). One `-X importtime` process each; the flag inflates times."""

    def modules(code: str) -> dict[str, int]:
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True, text=True, check=True, cwd=ROOT, timeout=60, env=env,
        ).stderr  # fmt: skip
        out = {}
        for line in err.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[0].strip().isdigit():
                out[parts[2].strip()] = int(parts[0])
        return out

    before = modules(base)
    groups: dict[str, float] = defaultdict(float)
    for name, us in modules(stmt).items():
        if name not in before:
            top = name if name.startswith("pieces_widgets") else name.split(".")[0]
            groups[top] += us / 1000
    return dict(groups)


def _breakdown(env: dict[str, str], samples: int = 3) -> str:
    """Median over a few processes of `importtime()`, the biggest groups first."""
    per: dict[str, list[float]] = defaultdict(list)
    for _ in range(samples):
        for k, v in importtime(KINDS["ModelManager"], env=env).items():
            per[k].append(v)
    med = {k: median(v + [0.0] * (samples - len(v))) for k, v in per.items()}
    top = sorted(med.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{k} {v:.1f}" for k, v in top[:12] if v >= 0.5)
    return (
        f"Where the extra time goes (`python -X importtime`, self ms, median of {samples}; the "
        f"flag inflates times; modules `import anywidget` does not load, summed "
        f"{sum(med.values()):.0f} ms): {shown}."
    )


def run(runs: int = RUNS, breakdown: bool = True) -> list[dict[str, Any]]:
    """Measure; return the figure dicts (see `bench_support.figure`)."""
    runs = max(runs, 3)
    names = list(KINDS)
    times: dict[str, list[float]] = {k: [] for k in names}
    pandas: dict[str, bool] = dict.fromkeys(names, False)
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = bytecode_env(cache)
        for name in names:  # warm the OS file cache and compile the bytecode once (not counted)
            _sample(KINDS[name], env)
        for i in range(runs):
            k = i % len(names)
            for name in names[k:] + names[:k]:
                seconds, imported = _sample(KINDS[name], env)
                times[name].append(seconds * 1000)
                pandas[name] |= imported
        where = _breakdown(env) if breakdown else ""
    med = {k: median(v) for k, v in times.items()}
    base = med["anywidget"]
    method = (
        f"median of {runs} fresh `{sys.executable.rsplit('/', 2)[-2]}/python -c` processes per "
        "statement, interleaved (rotating order), time.perf_counter() around the import statement "
        "only; 'pandas' in sys.modules checked in the same process; bytecode compiled once by a "
        "warm-up run into a private PYTHONPYCACHEPREFIX, for every package alike (as installed "
        "code is; PYTHONDONTWRITEBYTECODE dropped for the probes)"
    )
    delta = med["pieces_widgets"] - base
    delta_mm = med["ModelManager"] - base
    over = [t - base for t in times["ModelManager"]]
    return [
        figure(
            "startup_modelmanager",
            "start-up: `from pieces_widgets import ModelManager` over `import anywidget`",
            round(delta_mm, 1),
            "ms",
            "<= +100 ms, pandas not imported",
            delta_mm <= 100 and not pandas["ModelManager"],
            f"{method}. The import took {med['ModelManager']:.1f} ms in total (it includes "
            f"anywidget itself); pandas imported: {'yes' if pandas['ModelManager'] else 'no'}."
            + (f" {where}" if where else ""),
            reference=round(base, 1),
            ratio=round(med["ModelManager"] / base, 3),
            reference_unit="ms (import anywidget)",
            spread=spread(over, "process (ms over the median import anywidget)", 1),
        ),
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
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    figures = run(parser.parse_args().runs)
    print(json.dumps(figures, indent=2))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
