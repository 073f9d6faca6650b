"""Kernel responsiveness: a trivial cell's round trip while 8 downloads stream, over idle.

A REAL ipykernel (jupyter_client `start_new_kernel`, this virtualenv's Python) holds one
`ModelManager(url, max_downloads=8)` created in an earlier cell, so its downloads run as tasks on
the kernel's own event loop and its comm messages go out on the kernel's IOPub socket, exactly as in
a notebook. The emulator streams from a separate process at 250 frames/s per download. A round
trip is `execute("1")` sent on the shell channel until its `execute_reply` arrives.

Rounds alternate: a batch of idle round trips, then the same number, at the same pace, while 8
downloads stream (checked: all 8 still running when the batch ends), then the downloads finish
(checked: all COMPLETED and `downloaded`). Medians over all rounds; ratio = busy / idle.

    python -m benchmarks.bench_kernel [--rounds N] [--per-round N]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks.bench_support import (
    EmulatorProcess,
    figure,
    median,
    percentile,
    process_cpu_seconds,
    spread,
)

ROUNDS = 5
PER_ROUND = 6
SPACING = 0.25
SECONDS = 4.0
DOWNLOADS = 8


class Kernel:
    """A started ipykernel and a blocking client."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", startup_timeout=60)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    @property
    def pid(self) -> int:
        provisioner = self.km.provisioner
        return int(getattr(provisioner, "pid", None) or provisioner.process.pid)

    def execute(self, code: str, expressions: dict[str, str] | None = None) -> tuple[float, Any]:
        """Run `code`; return (round trip seconds, reply content)."""
        t = time.perf_counter()
        msg_id = self.kc.execute(code, user_expressions=expressions or {})
        while True:
            reply = self.kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - t
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"kernel error: {content.get('ename')}: {content.get('evalue')}")
        return elapsed, content

    def value(self, expression: str) -> Any:
        _, content = self.execute("", {"v": expression})
        result = content["user_expressions"]["v"]
        if result.get("status") != "ok":
            raise RuntimeError(f"{expression}: {result.get('ename')}: {result.get('evalue')}")
        return eval(result["data"]["text/plain"])  # a repr of plain literals, from our own kernel

    def drain(self) -> int:
        """Read what IOPub holds (status, comm messages), so nothing piles up."""
        from queue import Empty

        n = 0
        while True:
            try:
                self.kc.iopub_channel.get_msg(timeout=0)
            except Empty:
                return n
            n += 1


def _batch(kernel: Kernel, n: int, spacing: float) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        elapsed, _ = kernel.execute("1")
        out.append(elapsed)
        time.sleep(max(0.0, spacing - (time.perf_counter() - t0)))
    kernel.drain()
    return out


def run(
    rounds: int = ROUNDS,
    per_round: int = PER_ROUND,
    seconds: float = SECONDS,
    downloads: int = DOWNLOADS,
) -> list[dict[str, Any]]:
    """Measure; return the figure dicts (see `bench_support.figure`)."""
    per_round = max(per_round, -(-15 // rounds))  # at least 15 round trips each in total
    idle: list[float] = []
    busy: list[float] = []
    valid = exact = 0
    retried: list[str] = []
    cpu_shares: list[float] = []
    round_ratios: list[float] = []  # busy/idle median per round: the spread within this run
    with EmulatorProcess(models=max(60, rounds * downloads * 3), download_seconds=seconds) as emu:
        kernel = Kernel()
        try:
            kernel.execute(
                "import sys\n"
                "from pieces_widgets import ModelManager\n"
                f"mm = ModelManager({emu.url!r}, max_downloads={downloads})\n"
            )
            python = kernel.value("sys.executable")
            on_kernel_loop = kernel.value("mm._runner.kernel")
            rows = kernel.value("len(mm.models)")
            _batch(kernel, 3, SPACING)  # warm-up, not counted
            while valid < rounds:
                idle_batch = _batch(kernel, per_round, SPACING)
                ids = emu.fresh_local_ids(downloads)
                cpu0, t0 = process_cpu_seconds(kernel.pid), time.monotonic()
                kernel.execute(f"hs = [mm.download(i) for i in {ids!r}]")
                time.sleep(SPACING)
                batch = _batch(kernel, per_round, SPACING)
                running = kernel.value("sum(not h.done() for h in hs)")
                deadline = time.monotonic() + seconds * 6 + 30
                while kernel.value("all(h.done() for h in hs)") is not True:
                    if time.monotonic() > deadline:
                        raise RuntimeError("downloads did not finish")
                    time.sleep(0.2)
                share = (process_cpu_seconds(kernel.pid) - cpu0) / (time.monotonic() - t0)
                ok = kernel.value(
                    "all(h.status == 'done' and h.result().status == 'COMPLETED' for h in hs) "
                    "and all(r['state'] == 'downloaded' for r in mm.models "
                    f"if r['id'] in {ids!r})"
                )
                kernel.drain()
                if running != downloads or not ok:
                    # e.g. a download failed (its handle's error says why): repeat the round.
                    errors = kernel.value("[str(h.exception()) for h in hs if h.exception()]")
                    retried.append(
                        errors[0].splitlines()[0]
                        if errors
                        else f"only {running} of {downloads} still running after the batch"
                    )
                    if len(retried) > 3:
                        raise RuntimeError(f"rounds kept failing: {retried}")
                    continue
                valid += 1
                exact += 1
                idle += idle_batch
                busy += batch
                round_ratios.append(median(batch) / median(idle_batch))
                cpu_shares.append(share)
        finally:
            kernel.close()
    if not busy:
        raise RuntimeError("no busy batch ran while all downloads were streaming")
    med_idle, med_busy = median(idle) * 1000, median(busy) * 1000
    ratio = med_busy / med_idle
    return [
        figure(
            "kernel_rtt",
            "kernel responsiveness: trivial cell round trip while 8 downloads stream / idle",
            round(med_busy, 2),
            "ms",
            "busy/idle <= 1.5",
            ratio <= 1.5 and valid == rounds and exact == rounds,
            f"real ipykernel ({python}), jupyter_client BlockingKernelClient; ModelManager("
            f"max_downloads={downloads}) created in an earlier cell, on the kernel's loop: "
            f"{on_kernel_loop}, {rows} rows; emulator in its own process, {downloads} downloads "
            f"of {seconds:g} s at 250 frames/s each. execute('1') until execute_reply, one every "
            f"{SPACING:g} s; {rounds} rounds of {per_round} idle then {per_round} busy "
            f"(a round counts when all {downloads} were still running at the busy batch's end "
            f"and all ended COMPLETED and downloaded; {len(retried)} round(s) repeated"
            f"{': ' + str(retried) if retried else ''}); medians of {len(busy)} busy and "
            f"{len(idle)} idle round trips; p90 busy {percentile(busy, 90) * 1000:.2f} ms, idle "
            f"{percentile(idle, 90) * 1000:.2f} ms; busy/idle per round "
            f"{', '.join(f'{x:.2f}' for x in round_ratios)}. Kernel process CPU during the "
            f"downloads (info, real comm over ZMQ): median {median(cpu_shares) * 100:.0f} % of "
            "one core.",
            reference=round(med_idle, 2),
            ratio=round(ratio, 2),
            reference_unit="ms idle",
            kernel_cpu_percent=round(median(cpu_shares) * 100, 1),
            spread=spread(round_ratios, "round (busy/idle)"),
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--per-round", type=int, default=PER_ROUND)
    args = parser.parse_args()
    figures = run(args.rounds, args.per_round)
    print(json.dumps(figures, indent=2))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
