"""Progress fan-out: 8 concurrent downloads at >= 200 frames/s each through ONE ModelManager.

The emulator runs in a separate process (its CPU is not ours). In this process: one
`ModelManager(url, max_downloads=8, poll_interval=None)` whose comm is a `RecordingComm`, so every
state message ipywidgets would send is counted (and JSON-serialized, as the kernel would). Per run:
8 downloads start at once; we wait for all 8 handles (each includes its terminal frame and the
follow-up refresh), then read:

- messages/s: every comm message from the first `download()` call to the last handle done,
  divided by that wall time (also: steady state between the first and last second of streaming,
  and the busiest 1 s window);
- frames/s: IN-PROGRESS frames the client handed to each handle's progress callback, per
  download, over the time between its first and last such frame (the slowest download counts);
- kernel CPU: `time.process_time()` (all threads of this process: client, widget, comm
  serialization) over the same wall time, as a share of one core; the target is a ratio to the
  floor measured in the same run, interleaved (a bare `websockets` client reading the same
  sockets with `json.loads` and nothing else): at most 1.3x;
- final state: every row `downloaded`, every handle COMPLETED at 100 %, the last progress each id
  got over the comm COMPLETED at 100 %, percentages sent never going back, and the emulator agrees.

    python -m benchmarks.bench_fanout [--runs N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import defaultdict
from typing import Any

from benchmarks.bench_support import (
    EmulatorProcess,
    RecordingComm,
    figure,
    median,
    process_cpu_seconds,
    spread,
)

RUNS = 5
SECONDS = 6.0
DOWNLOADS = 8
FRAME_INTERVAL = 0.004


def _one_run(emu: EmulatorProcess, seconds: float, downloads: int) -> dict[str, Any]:
    import httpx

    from pieces_widgets import ModelManager

    mm = ModelManager(emu.url, max_downloads=downloads, poll_interval=None)
    try:
        if mm._runner.kernel:  # e.g. inside sync playwright, whose loop looks like a kernel
            raise RuntimeError("run the fan-out benchmark from a thread with no running loop")
        comm = RecordingComm()
        mm.comm = comm
        ids = emu.fresh_local_ids(downloads)
        frames: dict[str, list[float]] = defaultdict(list)
        lock = threading.Lock()

        def recorder(model_id: str) -> Any:
            def on_progress(p: Any) -> None:
                if p.status == "IN-PROGRESS":
                    with lock:
                        frames[model_id].append(time.monotonic())

            return on_progress

        emu_cpu0 = process_cpu_seconds(emu.pid)
        t0, c0 = time.monotonic(), time.process_time()
        handles = [mm.download(i).on_progress(recorder(i)) for i in ids]
        finals, failure = [], ""
        for h in handles:
            try:
                finals.append(h.wait(seconds * 6 + 30))
            except Exception as exc:  # reported; the caller repeats the run
                failure = failure or f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        if failure:
            return {"failed": failure}
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        emu_cpu = process_cpu_seconds(emu.pid) - emu_cpu0

        msgs = [(t, data, size) for t, data, size, _ in comm.messages if t >= t0]
        # Frame rate per download, from what the client handed over.
        rates = {
            i: (len(ts) - 1) / (ts[-1] - ts[0]) if len(ts) > 1 and ts[-1] > ts[0] else 0.0
            for i, ts in frames.items()
        }
        total_frames = sum(len(ts) for ts in frames.values())
        # Steady state: from 1 s after the last download's first frame to 1 s before the first
        # download's last frame (all 8 streaming, no start/finish bookkeeping).
        s0 = max(ts[0] for ts in frames.values()) + 1.0
        s1 = min(ts[-1] for ts in frames.values()) - 1.0
        steady = sum(1 for t, _, _ in msgs if s0 <= t <= s1) / (s1 - s0) if s1 > s0 else None
        # Busiest 1 s window (sliding, starting at each message).
        times = [t for t, _, _ in msgs]
        peak = max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)
        # Final state, as the frontend would have it.
        last_sent: dict[str, dict[str, Any]] = {}
        went_back = 0
        for _, data, _ in msgs:
            prog = (data.get("state") or {}).get("progress")
            if not isinstance(prog, dict):
                continue
            for mid, entry in prog.items():
                old = last_sent.get(mid)
                pct, before = entry.get("percentage"), (old or {}).get("percentage")
                if (
                    old is not None
                    and not entry.get("terminal")
                    and pct is not None
                    and before is not None
                    and pct < before
                ):
                    went_back += 1
                last_sent[mid] = entry
        rows = {r["id"]: r for r in mm.models}
        server = {m["id"]: m for m in httpx.get(emu.url + "/models", timeout=10).json()["iterable"]}
        exact = (
            all(rows[i]["state"] == "downloaded" for i in ids)
            and all(f.status == "COMPLETED" and f.percentage == 100 for f in finals)
            and all(
                last_sent.get(i, {}).get("status") == "COMPLETED"
                and last_sent.get(i, {}).get("percentage") == 100
                for i in ids
            )
            and went_back == 0
            and all(server[i]["downloaded"] and not server[i]["downloading"] for i in ids)
            and not any(i in mm.busy or i in mm.errors for i in ids)
        )
        kinds: dict[str, int] = defaultdict(int)
        for _, data, _ in msgs:
            for key in data.get("state") or {}:
                kinds[key] += 1
        return {
            "wall": wall,
            "messages": len(msgs),
            "rate": len(msgs) / wall,
            "steady": steady,
            "peak": peak,
            "bytes_per_s": sum(size for _, _, size in msgs) / wall,
            "cpu": cpu / wall,
            "emu_cpu": emu_cpu / wall,
            "min_fps": min(rates.values()) if len(rates) == len(ids) else 0.0,
            "frames": total_frames,
            "exact": exact,
            "went_back": went_back,
            "kinds": dict(kinds),
        }
    finally:
        mm.close()


def _bare_run(emu: EmulatorProcess, downloads: int) -> dict[str, Any]:
    """The floor: bare `websockets` + `json.loads` on the same sockets, nothing else."""
    import asyncio
    from urllib.parse import quote

    import httpx
    import websockets

    ids = emu.fresh_local_ids(downloads)
    ws_base = "ws" + emu.url[4:]

    async def main() -> tuple[int, float, float]:
        async with httpx.AsyncClient(timeout=10) as http:
            socks = [
                await websockets.connect(f"{ws_base}/model/{quote(i, safe='')}/download/progress")
                for i in ids
            ]
            t0, c0 = time.monotonic(), time.process_time()
            for i in ids:
                (
                    await http.post(f"{emu.url}/model/{quote(i, safe='')}/download")
                ).raise_for_status()
            count = 0

            async def read(ws: Any) -> None:
                nonlocal count
                async for message in ws:
                    frame = json.loads(message)
                    count += 1
                    if frame.get("status") in ("COMPLETED", "FAILED", "CANCELED", "RESET"):
                        break
                await ws.close()

            await asyncio.gather(*(read(ws) for ws in socks))
            return count, time.monotonic() - t0, time.process_time() - c0

    count, wall, cpu = asyncio.run(main())
    return {"frames": count, "wall": wall, "cpu": cpu / wall}


def run(
    runs: int = RUNS,
    seconds: float = SECONDS,
    downloads: int = DOWNLOADS,
    frame_interval: float = FRAME_INTERVAL,
    models: int = 120,
) -> list[dict[str, Any]]:
    """Measure; return the figure dicts (see `bench_support.figure`)."""
    results, bare, retried = [], [], []
    with EmulatorProcess(
        models=max(models, runs * downloads * 5), download_seconds=seconds,
        frame_interval=frame_interval,
    ) as emu:  # fmt: skip
        while len(results) < runs:  # ours and the bare floor alternate, order swapped each run
            r = len(results)
            if r % 2 and len(bare) <= r:
                bare.append(_bare_run(emu, downloads))
            result = _one_run(emu, seconds, downloads)
            if "failed" in result:  # e.g. a request lost on a stale keep-alive connection
                retried.append(result["failed"])
                if len(retried) > 3:
                    raise RuntimeError(f"downloads kept failing: {retried}")
                continue
            results.append(result)
            if not r % 2:
                bare.append(_bare_run(emu, downloads))
    bare_cpu = median([b["cpu"] for b in bare])
    frames_in = median([r["frames"] / r["wall"] for r in results])

    def med(key: str) -> float:
        return median([r[key] for r in results if r[key] is not None])

    rate, cpu, fps = med("rate"), med("cpu"), med("min_fps")
    pair_ratios = [r["cpu"] / b["cpu"] for r, b in zip(results, bare, strict=False) if b["cpu"]]
    cpu_ratio = cpu / bare_cpu
    ours_cpus = [r["cpu"] * 100 for r in results]
    floor_cpus = [b["cpu"] * 100 for b in bare]
    all_exact = all(r["exact"] for r in results)
    steady = [r["steady"] for r in results if r["steady"] is not None]
    kinds: dict[str, int] = defaultdict(int)
    for r in results:
        for k, v in r["kinds"].items():
            kinds[k] += v
    per_run_kinds = ", ".join(f"{k} {v / len(results):.0f}" for k, v in sorted(kinds.items()))
    setup = (
        f"{downloads} concurrent downloads of {seconds:g} s each, emulator (separate process) "
        f"frame_interval={frame_interval} s, one in-process ModelManager(max_downloads="
        f"{downloads}, poll_interval=None) with a recording comm; median of {len(results)} runs"
    )
    fps_ok = fps >= 200
    return [
        figure(
            "fanout_fps",
            f"progress fan-out: frames received per download ({downloads} concurrent)",
            round(fps, 1),
            "frames/s",
            ">= 200 (precondition)",
            fps_ok,
            f"{setup}. IN-PROGRESS frames the client handed to each handle's progress callback "
            f"over the time between that download's first and last frame; the slowest of the "
            f"{downloads} per run, median over runs (median total frames per run "
            f"{median([r['frames'] for r in results]):.0f}).",
        ),
        figure(
            "fanout_messages",
            "progress fan-out: widget state messages, all 8 downloads together",
            round(rate, 2),
            "msg/s",
            "<= 10",
            rate <= 10 and fps_ok,
            reference=round(frames_in, 1),
            ratio=round(rate / frames_in, 5),
            reference_unit="frames/s in",
            method=f"{setup}. Reference: progress frames/s the client received in total (one "
            f"message per frame without a throttle). Every comm message from the first "
            f"download() call until the last handle is done (terminal frame + follow-up "
            f"refresh), over that wall time "
            f"(median {med('wall'):.2f} s, {med('messages'):.0f} messages). Steady state "
            f"(all {downloads} streaming) median {median(steady) if steady else float('nan'):.2f}"
            f" msg/s; busiest 1 s window median {med('peak'):.0f} messages; "
            f"{med('bytes_per_s') / 1000:.1f} kB/s of JSON. Traits per run (a message can carry "
            f"several): {per_run_kinds}.",
        ),
        figure(
            "fanout_cpu",
            "progress fan-out: kernel-side CPU (client + widget + comm) over the bare "
            "websockets floor",
            round(cpu * 100, 1),
            "% of one core",
            "ours/floor <= 1.3",
            cpu_ratio <= 1.3 and fps_ok,
            reference=round(bare_cpu * 100, 1),
            ratio=round(cpu_ratio, 2),
            reference_unit="% (bare websockets floor)",
            method=f"{setup}. Reference: the floor, a bare `websockets` client reading the same "
            f"{downloads} progress sockets with json.loads and nothing else (same emulator, runs "
            f"interleaved, order swapped each run); ratio = median ours / median floor. "
            f"time.process_time() of this process (every thread: client, widget, JSON "
            f"serialization of each comm message) over wall time of the run; the emulator's own "
            f"CPU (not counted) was {med('emu_cpu') * 100:.0f} % of a core. Per-run ours/floor: "
            f"{', '.join(f'{x:.2f}' for x in pair_ratios)}; per-run ours: "
            f"{', '.join(f'{x:.0f}' for x in ours_cpus)} %, floor: "
            f"{', '.join(f'{x:.0f}' for x in floor_cpus)} %. (Issue 6's absolute target "
            f"was <= 15 % of a core; the floor alone is above it on this machine.)",
            spread=spread(pair_ratios, "run (ours/floor)"),
        ),
        figure(
            "fanout_exact",
            "progress fan-out: final state exact",
            sum(1 for r in results if r["exact"]),
            f"of {len(results)} runs",
            "all runs",
            all_exact,
            "every row 'downloaded' in the models trait, every handle COMPLETED at 100 %, the "
            "last progress entry each model got over the comm COMPLETED at 100 %, no sent "
            "percentage ever lower than the one before, no busy/error left, and GET /models "
            "agrees."
            + (
                f" {len(retried)} run(s) were repeated because a download failed: {retried}."
                if retried
                else " No download failed."
            ),
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    figures = run(args.runs, args.seconds)
    print(json.dumps(figures, indent=2))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
