"""Bundle: the shipped `widget.js` + `widget.css`, gzipped at level 9 (1 KB = 1,000 bytes).

Each file is compressed on its own (the browser fetches them separately; anywidget inlines the
CSS), and the two compressed sizes are added. Deterministic: one run is exact.

    python -m benchmarks.bench_bundle
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from benchmarks.bench_support import ROOT, figure

FILES = ("pieces_widgets/static/widget.js", "pieces_widgets/static/widget.css")
# The budget was 20 KB for the first landing's table, toolbar and forms (17.1 KB then). Issue 11
# added five parts users asked for (fit cell and confirmations, budget bars, selection and the bulk
# bar, the Free space panel, the runtime badge): +6.9 KB gzipped, about a third of it their visible
# and screen-reader text. Minification was pushed first (esbuild, property mangling: -0.8 KB); no
# dead code or CSS was left. The budget for this feature set is 28 KB.
TARGET_KB = 28.0


def run(files: tuple[str, ...] = FILES, root: Path = ROOT) -> list[dict[str, Any]]:
    """Measure; return the figure dicts (see `bench_support.figure`)."""
    raw = gz = 0
    parts = []
    for name in files:
        data = (root / name).read_bytes()
        size = len(gzip.compress(data, compresslevel=9, mtime=0))
        raw += len(data)
        gz += size
        parts.append(f"{Path(name).name} {len(data):,} B -> {size:,} B")
    kb = gz / 1000
    return [
        figure(
            "bundle",
            "bundle: widget.js + widget.css, gzipped",
            round(kb, 2),
            "KB",
            f"<= {TARGET_KB:g} KB",
            kb <= TARGET_KB,
            "gzip level 9 of each shipped file, sizes added (1 KB = 1,000 B); reference = the "
            f"uncompressed total: {'; '.join(parts)}",
            reference=round(raw / 1000, 2),
            ratio=round(gz / raw, 3),
            reference_unit="KB raw",
        )
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
