"""Shared pieces of the benchmarks (not a benchmark itself).

- `EmulatorProcess`: the emulator in a SEPARATE process (so its CPU never counts as ours), built on
  `pieces_widgets.emulator.Emulator` with `resume_downloads=False`; optionally it records when each
  progress frame left the emulator (`time.time()` at `_emit`, i.e. when the frame is queued to the
  sockets) so the latency benchmark can compare clocks. Run as a script it is that process:
  `python benchmarks/bench_support.py emulator --models N --download-seconds S ...`.
- `RecordingComm`: stands in for the widget's comm; every `send` is one message ipywidgets would put
  on the wire, serialized with `json.dumps` like the kernel's session does.
- `StaticServer`: serves the repository (and a few in-memory routes) on 127.0.0.1 for Chromium.
- `browser()`: the system Chromium via Python playwright (never `playwright install`).
- `figure()`, `median()`, `percentile()`, `spread()`.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


# ---------------------------------------------------------------------------------- numbers
def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def spread(values: list[float], per: str, digits: int = 2) -> dict[str, Any]:
    """Min / median / max of per-round (or per-run) values, kept in the figure as ``spread``.

    Why: on a shared machine a single median hides how much a load-sensitive figure moves; the
    report and the README show this range next to the median.
    """
    return {
        "per": per,
        "n": len(values),
        "min": round(min(values), digits),
        "median": round(median(values), digits),
        "max": round(max(values), digits),
    }


def figure(
    fid: str,
    name: str,
    value: float,
    unit: str,
    target: str,
    ok: bool,
    method: str,
    reference: float | None = None,
    ratio: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One result row: ``{name, value, unit, target, ok, reference, ratio, method}`` (+ extras).

    `fid` is a stable id (``fanout_cpu``...) kept as the extra key ``id``.
    """
    return {
        "id": fid,
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "ok": bool(ok),
        "reference": reference,
        "ratio": ratio,
        "method": method,
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# ---------------------------------------------------------------------------------- emulator
class EmulatorProcess:
    """`Emulator(catalog=synthetic_catalog(models), ...)` in a child process, on 127.0.0.1."""

    def __init__(
        self,
        models: int = 100,
        download_seconds: float = 5.0,
        frame_interval: float = 0.004,
        stamps: bool = False,
    ) -> None:
        self.args = [
            sys.executable, str(Path(__file__).resolve()), "emulator",
            "--models", str(models), "--download-seconds", str(download_seconds),
            "--frame-interval", str(frame_interval),
        ] + (["--stamps"] if stamps else [])  # fmt: skip
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._used: set[str] = set()

    def __enter__(self) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"emulator process did not start: {line!r}")
        self.url = line.split()[1]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _ask(self, command: str) -> str:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stamps(self) -> list[tuple[str, str, float | None, float]]:
        """Frames that left the emulator since the last call: (model_id, status, %, unix time)."""
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        try:
            reply = self._ask(f"dump {path}")
            if reply != "ok":
                raise RuntimeError(f"emulator dump failed: {reply!r}")
            return [tuple(x) for x in json.loads(Path(path).read_text())]
        finally:
            os.unlink(path)

    def fresh_local_ids(self, k: int) -> list[str]:
        """`k` local models that are neither on disk nor downloading and were not handed out yet."""
        import httpx

        body = httpx.get(self.url + "/models", timeout=10).json()
        ids = [
            m["id"]
            for m in body["iterable"]
            if not m.get("cloud")
            and not m.get("downloaded")
            and not m.get("downloading")
            and m["id"] not in self._used
        ]
        if len(ids) < k:
            raise RuntimeError(f"only {len(ids)} fresh local models left, need {k}")
        chosen = ids[:k]
        self._used.update(chosen)
        return chosen

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.write("quit\n")
            proc.stdin.flush()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()


def _serve_emulator(argv: list[str]) -> int:
    """The child process: start the emulator, print READY <url>, obey stdin commands."""
    import argparse

    from pieces_widgets.emulator import Emulator, synthetic_catalog

    p = argparse.ArgumentParser()
    p.add_argument("--models", type=int, default=100)
    p.add_argument("--download-seconds", type=float, default=5.0)
    p.add_argument("--frame-interval", type=float, default=0.004)
    p.add_argument("--stamps", action="store_true")
    args = p.parse_args(argv)
    emu = Emulator(
        catalog=synthetic_catalog(args.models),
        download_seconds=args.download_seconds,
        frame_interval=args.frame_interval,
        resume_downloads=False,
    )
    stamps: list[tuple[str, str, float]] = []
    if args.stamps:
        state = emu._state
        emit = state._emit

        def stamped_emit(model_id: str, text: str) -> None:
            stamps.append((model_id, text, time.time()))
            emit(model_id, text)

        state._emit = stamped_emit
    emu.start()
    print(f"READY {emu.url}", flush=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "quit":
                break
            if command == "dump":
                rows = []
                taken, stamps[:] = list(stamps), []
                for model_id, text, t in taken:
                    frame = json.loads(text)
                    rows.append((model_id, frame.get("status"), frame.get("percentage"), t))
                Path(arg).write_text(json.dumps(rows))
                print("ok", flush=True)
            else:
                print(f"unknown command {command!r}", flush=True)
    finally:
        emu.stop()
    return 0


# ---------------------------------------------------------------------------------- comm
class RecordingComm:
    """A comm for a widget outside a kernel: records what ipywidgets would send.

    `ModelManager.comm = RecordingComm()`: ipywidgets then calls `send(data=..., buffers=...)` once
    per state message (a trait change, or one batch under `hold_sync`). Each message is serialized
    with `json.dumps` (the kernel session's cost) and kept with its time; `listener`, if set, gets
    the JSON text (the latency bridge relays it to a browser).
    """

    def __init__(self, listener: Callable[[str], None] | None = None) -> None:
        self.comm_id = "bench-" + os.urandom(6).hex()
        # (time.monotonic(), message, JSON size in bytes, time.time())
        self.messages: list[tuple[float, dict[str, Any], int, float]] = []
        self.listener = listener
        self._lock = threading.Lock()

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self.messages.append((time.monotonic(), data, len(text), time.time()))
        if self.listener is not None:
            self.listener(text)

    def on_msg(self, callback: Any) -> None:
        self._on_msg = callback

    def on_close(self, callback: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


# ---------------------------------------------------------------------------------- browser
class _Handler(http.server.SimpleHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            super().do_GET()
            return
        ctype, body = route
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StaticServer:
    """The repository root over HTTP on 127.0.0.1, plus in-memory routes (`add_json`)."""

    def __init__(self) -> None:
        handler = type("Handler", (_Handler,), {"routes": {}})
        self._routes: dict[str, tuple[str, bytes]] = handler.routes
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(ROOT))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add_json(self, path: str, value: Any) -> None:
        self._routes[path] = ("application/json", json.dumps(value).encode())

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A fresh headless Chromium context (temporary profile); yields the playwright context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "chromium"
    except (OSError, subprocess.SubprocessError):
        return "chromium (version unknown)"


if __name__ == "__main__":
    if sys.argv[1:2] == ["emulator"]:
        raise SystemExit(_serve_emulator(sys.argv[2:]))
    raise SystemExit("usage: bench_support.py emulator [--models N] [--download-seconds S] ...")
