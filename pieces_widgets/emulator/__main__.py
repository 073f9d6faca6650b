"""`python -m pieces_widgets.emulator`: run the emulator in the foreground until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence

from .catalog import synthetic_catalog
from .faults import parse_fail_spec
from .server import Emulator, is_loopback

PORT_RANGE = range(39300, 39334)  # where the SDK and CLI look for Pieces OS (spec §6)


def first_free_port(host: str) -> int | None:
    for port in PORT_RANGE:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    return None


def _stall(text: str) -> tuple[float, float]:
    seconds, sep, pct = text.partition("@")
    if not sep:
        raise argparse.ArgumentTypeError("expected SECONDS@PERCENT, e.g. 2@40")
    return float(seconds), float(pct)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pieces_widgets.emulator",
        description=(
            "Emulate the Pieces OS model API (REST + download-progress WebSocket), the device "
            "information, model score increments, the /models/stream/identifiers WebSocket and "
            "the Ollama runtime endpoints (/ollama/*)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: first free in 39300-39333)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--catalog", metavar="FILE", help='JSON like a GET /models body {"iterable": [...]}'
    )
    src.add_argument("--models", type=int, metavar="N", help="serve N synthetic models instead")
    p.add_argument("--download-seconds", type=float, metavar="S", help="fixed time per download")
    p.add_argument("--download-speed", type=float, metavar="BPS", help="bytes/s (default 1e8)")
    p.add_argument(
        "--frame-interval", type=float, default=0.05, metavar="S", help="seconds between frames"
    )
    p.add_argument("--server-version", default="12.3.4", help="GET /.well-known/version answer")
    p.add_argument(
        "--device",
        metavar="FILE",
        help="JSON body for GET /os/device/information, served verbatim (default: a 16 GiB "
        "machine with an 8 GiB LLM-capable GPU, memory stated in bytes)",
    )
    p.add_argument(
        "--ollama",
        choices=("installed", "missing", "update-required"),
        default="installed",
        help="initial state of the local runtime; while missing, local downloads and loads "
        "answer 500 with a text body (default installed)",
    )
    p.add_argument(
        "--runtime-seconds",
        type=float,
        default=2.0,
        metavar="S",
        help="duration of an Ollama install or update (default 2)",
    )
    p.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="ROUTE=STATUS[xN|@P]",
        help="inject an HTTP error: always, N times (x3) or with probability P (@0.5); repeatable",
    )
    p.add_argument("--latency", type=float, metavar="S", help="add S seconds to every request")
    p.add_argument(
        "--drop-socket-after", type=int, metavar="N", help="drop progress sockets after N frames"
    )
    p.add_argument(
        "--stall", type=_stall, metavar="S@PCT", help="pause downloads S seconds at PCT %%"
    )
    p.add_argument("--fail-download-at", type=float, metavar="PCT", help="FAILED at PCT %%")
    p.add_argument(
        "--fail-runtime-at",
        type=float,
        metavar="PCT",
        help="Ollama install/update FAILED at PCT %%",
    )
    p.add_argument(
        "--cancel-runtime-at",
        type=float,
        metavar="PCT",
        help="Ollama install/update CANCELED (as if elsewhere) at PCT %%",
    )
    p.add_argument(
        "--drop-identifiers-after",
        type=int,
        metavar="N",
        help="drop /models/stream/identifiers sockets after N frames (refuse the stream with "
        "--fail identifiers=404, like an older Pieces OS)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults and --models")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.allow_remote and not is_loopback(args.host):
        print(
            f"error: refusing to listen on non-loopback host {args.host!r}: the emulator "
            "has no auth. Pass --allow-remote if you really want that.",
            file=sys.stderr,
        )
        return 2
    try:
        fail_specs = [parse_fail_spec(s) for s in args.fail]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else first_free_port(args.host)
    if port is None:
        print("error: no free port in 39300-39333; pass --port", file=sys.stderr)
        return 1

    def log(line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    kwargs = {"download_speed": args.download_speed} if args.download_speed else {}
    try:
        emu = Emulator(
            catalog=synthetic_catalog(args.models, seed=args.seed) if args.models else args.catalog,
            download_seconds=args.download_seconds,
            frame_interval=args.frame_interval,
            host=args.host,
            port=port,
            version=args.server_version,
            seed=args.seed,
            allow_remote=True,
            log=None if args.quiet else log,
            device=args.device,
            ollama=args.ollama,
            runtime_seconds=args.runtime_seconds,
            **kwargs,
        )
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for route, status, times, prob in fail_specs:
        emu.faults.http_error(route, status=status, times=times, probability=prob)
    if args.latency:
        emu.faults.latency(args.latency)
    if args.drop_socket_after is not None:
        emu.faults.drop_socket_after(args.drop_socket_after)
    if args.stall:
        emu.faults.stall(args.stall[0], at_percentage=args.stall[1])
    if args.fail_download_at is not None:
        emu.faults.fail_download(args.fail_download_at)
    if args.fail_runtime_at is not None:
        emu.faults.fail_runtime(args.fail_runtime_at)
    if args.cancel_runtime_at is not None:
        emu.faults.fail_runtime(args.cancel_runtime_at, status="CANCELED")
    if args.drop_identifiers_after is not None:
        emu.faults.drop_socket_after(args.drop_identifiers_after, route="identifiers")

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        emu.start()
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{port}: {e}", file=sys.stderr)
        return 1
    n = len(emu.store)
    print(f"Pieces OS emulator ({n} models) listening on {emu.url}  (Ctrl-C to stop)", flush=True)
    while not stop.wait(0.5):
        pass
    emu.stop()
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
