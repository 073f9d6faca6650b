"""`make demo`: JupyterLab on the quickstart notebook, on Pieces OS if one runs, else the emulator.

Usage: python -m pieces_widgets.demo [--emulator] [--port 8888] [-- extra jupyter lab args]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

from .discovery import discover
from .errors import PiecesUnavailable

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def free_port_in(ports: range) -> int:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
    """The emulator in its own process on the first free Pieces OS port, like the real server."""
    port = free_port_in(range(39300, 39334))
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pieces_widgets.emulator", "--port", str(port), "--quiet"]
    cmd += ["--download-speed", "150000000"]  # a 2 GB model takes ~13 s: long enough to watch
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            discover(url)
            return proc, url
        except PiecesUnavailable:
            if proc.poll() is not None:
                raise RuntimeError("the emulator exited at start-up") from None
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the emulator did not answer within 20 s")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # stop the emulator on `kill` too, not only Ctrl-C
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--emulator", action="store_true", help="use the emulator even if Pieces OS runs"
    )
    parser.add_argument("--port", type=int, default=8888, help="JupyterLab port (default 8888)")
    args, extra = parser.parse_known_args(argv)

    emulator = None
    url = None
    if not args.emulator:
        try:
            url = discover()
            print(f"Found Pieces OS at {url}")
        except PiecesUnavailable:
            print("No Pieces OS found on 39300-39333, 1000 or 5323: starting the bundled emulator.")
    if url is None:
        emulator, url = start_emulator()
        print(f"Emulator running at {url} (the widget shows an 'emulated' badge)")

    env = dict(os.environ, PIECES_OS_URL=url)
    cmd = [sys.executable, "-m", "jupyterlab", str(NOTEBOOK), "--ip=127.0.0.1"]
    cmd.append(f"--port={args.port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    cmd += [a for a in extra if a != "--"]
    print("Starting JupyterLab; open the URL it prints (Ctrl-C stops everything).")
    try:
        return subprocess.call(cmd, env=env, cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
