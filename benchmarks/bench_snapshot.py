"""`list_models` on a 1,000-model catalogue vs a bare httpx call and the official SDK.

One emulator, one process, the three clients interleaved run by run (rotating which goes first)
so drift in machine load hits all of them alike; each is warmed up first and we compare medians.
Targets (issues 3 and 10): ours / bare <= 1.3 (polling, and cold: every model parsed), SDK / ours
>= 2.5. The cold client decodes through `pieces_widgets.models.loads` (msgspec when installed);
a fifth contender, the same cold client forced to the stdlib `json` fallback, shows the figure
without msgspec, interleaved with the rest.

    python benchmarks/bench_snapshot.py [--runs N] [--models N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.bench_support import spread

N_MODELS = 1000
RUNS = 61  # cheap (a few seconds); many runs because one call is ~10 ms on a shared machine
WARMUP = 3


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _decoder(models: Any, call: Callable[[], Any]) -> str:
    """Which decoder `call` really used: wraps `models._decode` for one call and counts."""
    models.loads(b"0")  # resolve the lazy lookup
    decode = models._decode
    if decode is None:
        return "json (msgspec not installed)"
    used = []

    def counting(body: Any) -> Any:
        used.append(1)
        return decode(body)

    models._decode = counting
    try:
        call()
    finally:
        models._decode = decode
    if not used:
        return "json (the client does not decode through pieces_widgets.models.loads)"
    from importlib.metadata import version

    return f"msgspec {version('msgspec')} via pieces_widgets.models.loads (checked in this run)"


def run(runs: int = RUNS, n_models: int = N_MODELS) -> list[dict[str, Any]]:
    """Measure; return figure dicts ``{name, value, unit, target, ok, reference, ratio, method}``.

    ``ours`` is a long-lived `PiecesClient` polling an unchanged catalogue (the widget's case:
    unchanged models are reused after a C-level dict comparison); ``ours, cold`` parses every
    model every time (``reuse_models=False``); ``cold, json`` is that client with the JSON
    decoder forced to the stdlib fallback.
    """
    import httpx
    from pieces_os_client.api.models_api import ModelsApi
    from pieces_os_client.api_client import ApiClient
    from pieces_os_client.configuration import Configuration

    from pieces_widgets import models
    from pieces_widgets.client import PiecesClient
    from pieces_widgets.emulator import Emulator, synthetic_catalog

    runs = max(runs, 5)
    with Emulator(catalog=synthetic_catalog(n_models)) as emu:
        url = emu.url
        bare_http = httpx.Client()
        ours = PiecesClient(url)
        cold = PiecesClient(url, reuse_models=False)
        sdk = ModelsApi(ApiClient(Configuration(host=url)))

        def bare() -> Any:
            return json.loads(bare_http.get(url + "/models").content)

        def our_call() -> Any:
            return ours.list_models()

        def cold_call() -> Any:
            return cold.list_models()

        def cold_json() -> Any:
            models.loads(b"0")
            decode, models._decode = models._decode, None
            try:
                return cold.list_models()
            finally:
                models._decode = decode

        def sdk_call() -> Any:
            return sdk.models_snapshot()

        contenders = {
            "ours": our_call,
            "cold": cold_call,
            "cold_json": cold_json,
            "bare": bare,
            "sdk": sdk_call,
        }
        try:
            counts = {
                "ours": len(our_call()),
                "cold": len(cold_call()),
                "cold_json": len(cold_json()),
                "bare": len(bare()["iterable"]),
                "sdk": len(sdk_call().iterable),
            }
            assert set(counts.values()) == {n_models}, counts
            decoder = _decoder(models, cold_call)
            for _ in range(WARMUP):
                for fn in contenders.values():
                    fn()
            times: dict[str, list[float]] = {k: [] for k in contenders}
            names = list(contenders)
            for i in range(runs):
                k = i % len(names)
                order = names[k:] + names[:k]
                for name in order:
                    times[name].append(_time(contenders[name]))
        finally:
            ours.close()
            cold.close()
            bare_http.close()

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    method = (
        f"median of {runs} interleaved runs each (after {WARMUP} warm-ups), one in-process "
        f"Emulator(catalog=synthetic_catalog({n_models})), keep-alive connections; "
        "bare = httpx.Client().get + json.loads; sdk = pieces-os-client 5.0.1 "
        "ModelsApi(ApiClient(Configuration(host=url))).models_snapshot(); our body decoder: "
        f"{decoder}"
    )
    vs_bare = med["ours"] / med["bare"]
    vs_sdk = med["sdk"] / med["ours"]
    cold_vs_bare = med["cold"] / med["bare"]
    json_vs_bare = med["cold_json"] / med["bare"]
    # Per-run ratios (each run measures all contenders back to back): how stable the medians are.
    spreads = {
        k: spread([a / b for a, b in zip(times[k], times["bare"], strict=True)],
                  "interleaved run (ours/bare)", 3)
        for k in ("ours", "cold", "cold_json")
    }  # fmt: skip
    return [
        {
            "id": "snapshot_vs_bare",
            "name": f"list_models, {n_models} models, vs bare httpx + json.loads",
            "value": round(med["ours"], 2),
            "unit": "ms",
            "target": "ours/bare <= 1.3",
            "ok": vs_bare <= 1.3,
            "reference": round(med["bare"], 2),
            "ratio": round(vs_bare, 3),
            "method": method,
            "spread": spreads["ours"],
        },
        {
            "id": "snapshot_vs_sdk",
            "name": f"list_models, {n_models} models, vs official SDK models_snapshot()",
            "value": round(med["ours"], 2),
            "unit": "ms",
            "target": "sdk/ours >= 2.5",
            "ok": vs_sdk >= 2.5,
            "reference": round(med["sdk"], 2),
            "ratio": round(vs_sdk, 2),
            "method": method,
        },
        {
            "id": "snapshot_cold",
            "name": f"list_models cold (no reuse), {n_models} models, vs bare",
            "value": round(med["cold"], 2),
            "unit": "ms",
            "target": "ours/bare <= 1.3",
            "ok": cold_vs_bare <= 1.3,
            "reference": round(med["bare"], 2),
            "ratio": round(cold_vs_bare, 3),
            "method": method,
            "spread": spreads["cold"],
        },
        {
            "id": "snapshot_cold_json",
            "name": f"list_models cold, {n_models} models, stdlib json decoder (no msgspec), "
            "vs bare",
            "value": round(med["cold_json"], 2),
            "unit": "ms",
            "target": "info (<= 1.3)",
            "ok": json_vs_bare <= 1.3,
            "reference": round(med["bare"], 2),
            "ratio": round(json_vs_bare, 3),
            "method": f"{method}. The cold client with `pieces_widgets.models._decode = None` "
            "around each call, i.e. what an install without msgspec gets.",
            "spread": spreads["cold_json"],
            "info": True,
        },
    ]


def _table(figures: list[dict[str, Any]]) -> str:
    lines = [f"{'figure':82} {'ours':>9} {'ref':>9} {'ratio':>7}  target            ok"]
    for f in figures:
        lines.append(
            f"{f['name']:82} {f['value']:>7.2f}{f['unit']} {f['reference']:>7.2f}{f['unit']} "
            f"{f['ratio']:>7.3f}  {f['target']:17} {'yes' if f['ok'] else 'NO'}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--models", type=int, default=N_MODELS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = run(args.runs, args.models)
    print(json.dumps(figures, indent=2) if args.json else _table(figures))
    print(figures[0]["method"])
    for f in figures:
        if "spread" in f:
            print(f"{f['id']}: per-run ratio {f['spread']}")
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
