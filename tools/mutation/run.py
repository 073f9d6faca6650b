"""Run mutmut on chosen modules of ``pieces_widgets`` and write ``docs/mutation.json``.

Why a driver and not plain ``mutmut run``: the module list lives in one place (the Makefile's
``MUTATION_MODULES``), and each module's tests are found by name, so adding a module is one
edit. mutmut reads its static settings from ``[tool.mutmut]`` in pyproject.toml; this script
sets the two lists that depend on the modules (``only_mutate`` and the test selection) on
mutmut's own config object before running it in this process.

Tests of module ``m`` (only these run, never the browser, notebook or benchmark tests):
``tests/test_m.py``, ``tests/test_core_m*.py`` and ``tests/test_fuzz_m*.py``. A module whose
tests live under another name is given as ``module:stem`` (``_fields:models`` mutates
``_fields.py`` against the tests of ``models``).

Counting: ``killed`` is every mutant a test detected: mutmut's ``killed`` plus ``timeout``
(the tests hung) plus ``segfault`` (the test process died, e.g. SIGKILL after the CPU limit).
``total`` is every mutant generated, including those no selected test reaches ("no tests").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

PACKAGE = "pieces_widgets"
DETECTED = {"killed", "timeout", "segfault"}


def tests_for(module: str, root: Path) -> list[str]:
    """The unit test files of `module`, by naming convention (sorted, relative to `root`)."""
    tests = root / "tests"
    found = [tests / f"test_{module}.py"] if (tests / f"test_{module}.py").is_file() else []
    found += sorted(tests.glob(f"test_core_{module}*.py")) + sorted(
        tests.glob(f"test_fuzz_{module}*.py")
    )
    return [p.relative_to(root).as_posix() for p in found]


def summarise(modules: list[str]) -> tuple[dict[str, Counter[str]], list[tuple[str, str]]]:
    """Per-module status counts and the undetected mutants, read from mutmut's ``.meta`` files."""
    from mutmut.stats import status_by_exit_code

    per_module: dict[str, Counter[str]] = {}
    undetected: list[tuple[str, str]] = []
    for module in modules:
        meta = Path("mutants") / PACKAGE / f"{module}.py.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.is_file() else {}
        counts: Counter[str] = Counter()
        for name, code in sorted(codes.items()):
            status = status_by_exit_code[code]
            counts[status] += 1
            if status not in DETECTED:
                undetected.append((name, status))
        per_module[module] = counts
    return per_module, undetected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="+", help="modules under pieces_widgets/ (name[:stem])")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", default="docs/mutation.json")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ (results cached)")
    args = parser.parse_args(argv)

    root = Path.cwd()
    selection: list[str] = []
    modules: list[str] = []
    for spec in args.modules:
        module, _, stem = spec.partition(":")
        if not (root / PACKAGE / f"{module}.py").is_file():
            parser.error(f"no module {PACKAGE}/{module}.py")
        tests = tests_for(stem or module, root)
        if not tests:
            parser.error(f"no tests for {module}: expected tests/test_{stem or module}.py")
        modules.append(module)
        selection += [t for t in tests if t not in selection]

    if not args.keep:
        shutil.rmtree("mutants", ignore_errors=True)

    # Each mutant reruns the property tests: fewer examples keep a run short (see the fuzz file).
    os.environ.setdefault("PIECES_FUZZ_EXAMPLES", "50")
    from mutmut.__main__ import cli
    from mutmut.configuration import config

    cfg = config()
    cfg.only_mutate = [f"{PACKAGE}/{m}.py" for m in modules]
    cfg.pytest_add_cli_args_test_selection = selection
    print(f"mutating {', '.join(cfg.only_mutate)}\ntests: {' '.join(selection)}", flush=True)

    start = time.monotonic()
    try:
        cli.main(["run", "--max-children", str(args.jobs)], standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            print(f"mutmut run failed ({exc.code})", file=sys.stderr)
            return 1
    wall = time.monotonic() - start

    per_module, undetected = summarise(modules)
    total = sum(sum(c.values()) for c in per_module.values())
    killed = sum(c[s] for c in per_module.values() for s in DETECTED)
    Path(args.out).write_text(
        json.dumps(
            {"tool": "mutmut", "modules": cfg.only_mutate, "killed": killed, "total": total},
            indent=2,
        )
        + "\n"
    )

    print(f"\n{'module':<12}{'total':>7}{'killed':>8}{'%':>7}  other")
    for module, c in per_module.items():
        n = sum(c.values())
        k = sum(c[s] for s in DETECTED)
        other = ", ".join(f"{s} {v}" for s, v in sorted(c.items()) if s != "killed")
        print(f"{module:<12}{n:>7}{k:>8}{100 * k / max(n, 1):>6.1f}%  {other}")
    print(f"{'all':<12}{total:>7}{killed:>8}{100 * killed / max(total, 1):>6.1f}%")
    print(f"wall time {wall:.0f} s; wrote {args.out}")
    lines = [f"{status}\t{name}" for name, status in undetected]
    Path("mutants/undetected.txt").write_text("\n".join(lines) + "\n" if lines else "")
    print(f"{len(undetected)} undetected (mutants/undetected.txt; `mutmut show NAME` for a diff)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
