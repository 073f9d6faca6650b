"""The CLI as a real process: readiness line, request log, flags, loopback guard, signals."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"
URL_LINE = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cli:
    """A running `python -m pieces_widgets.emulator` with its stdout lines in a queue."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pieces_widgets.emulator", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 15) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in {timeout} s") from None
            found = re.search(pattern, line)
            if found:
                return found

    def ready(self) -> str:
        self.url = self.wait_for(URL_LINE).group(1)
        return self.url

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=10)


@pytest.fixture
def cli() -> Iterator[type[Cli]]:
    started: list[Cli] = []

    class Tracked(Cli):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def test_serves_logs_and_exits_0_on_sigint(cli):
    port = free_port()
    c = cli("--port", str(port), "--download-seconds", "0.3")
    assert c.ready() == f"http://127.0.0.1:{port}"
    r = httpx.get(f"{c.url}/models")
    assert r.status_code == 200 and len(r.json()["iterable"]) == 27
    c.wait_for(r"GET /models -> 200")
    httpx.get(f"{c.url}/model/a%2Fb")
    c.wait_for(r"GET /model/a%2Fb -> 410")
    assert c.stop(signal.SIGINT) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{c.url}/models")


def test_sigterm_mid_download_exits_0(cli):
    c = cli("--port", str(free_port()), "--download-seconds", "5", "--quiet")
    c.ready()
    with connect(
        f"{c.url.replace('http', 'ws')}/model/{LLAMA_1B}/download/progress", proxy=None
    ) as ws:
        httpx.post(f"{c.url}/model/{LLAMA_1B}/download")
        assert json.loads(ws.recv(timeout=5))["status"] == "INITIALIZED"
        assert c.stop(signal.SIGTERM) == 0


def test_refuses_non_loopback_host_without_flag(cli):
    c = cli("--host", "0.0.0.0", "--port", str(free_port()))
    assert c.proc.wait(timeout=15) == 2
    assert c.proc.stderr is not None and "--allow-remote" in c.proc.stderr.read()


def test_bad_fail_spec_is_a_usage_error(cli):
    c = cli("--fail", "load=abc")
    assert c.proc.wait(timeout=15) == 2
    assert c.proc.stderr is not None and "ROUTE=STATUS" in c.proc.stderr.read()


def test_default_port_is_in_the_pieces_range(cli):
    c = cli("--quiet")
    c.ready()
    assert 39300 <= int(c.url.rsplit(":", 1)[1]) <= 39333
    assert httpx.head(f"{c.url}/.well-known/health").status_code == 200
    assert c.stop() == 0


def test_synthetic_catalogue_and_fault_flags(cli):
    c = cli(
        "--port",
        str(free_port()),
        "--models",
        "300",
        "--server-version",
        "12.0.0",
        "--fail",
        "load=503x1",
        "--fail-download-at",
        "50",
        "--download-seconds",
        "0.4",
        "--frame-interval",
        "0.02",
        "--quiet",
    )
    c.ready()
    models = httpx.get(f"{c.url}/models").json()["iterable"]
    assert len(models) == 300
    assert httpx.get(f"{c.url}/.well-known/version").text == "12.0.0"
    loadable = next(m["id"] for m in models if m["downloaded"])
    assert httpx.post(f"{c.url}/model/{loadable}/load").status_code == 503
    assert httpx.post(f"{c.url}/model/{loadable}/load").status_code == 200
    target = next(m["id"] for m in models if not m["cloud"] and not m["downloaded"])
    with connect(
        f"{c.url.replace('http', 'ws')}/model/{target}/download/progress", proxy=None
    ) as ws:
        httpx.post(f"{c.url}/model/{target}/download")
        statuses = []
        while not statuses or statuses[-1] not in ("FAILED", "COMPLETED"):
            statuses.append(json.loads(ws.recv(timeout=5))["status"])
    assert statuses[-1] == "FAILED"
    assert c.stop() == 0


def test_catalog_file_stall_drop_and_latency_flags(cli, tmp_path: Path):
    fixture = json.loads((Path(__file__).parent / "fixtures" / "models_snapshot.json").read_text())
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"iterable": fixture["iterable"][14:16]}))
    c = cli(
        "--port",
        str(free_port()),
        "--catalog",
        str(path),
        "--latency",
        "0.2",
        "--stall",
        "0.5@50",
        "--drop-socket-after",
        "2",
        "--download-seconds",
        "0.3",
        "--quiet",
    )
    c.ready()
    started = time.monotonic()
    models = httpx.get(f"{c.url}/models").json()["iterable"]
    assert time.monotonic() - started >= 0.2
    assert [m["id"] for m in models] == [LLAMA_1B, LLAMA_8B]
    with connect(
        f"{c.url.replace('http', 'ws')}/model/{LLAMA_1B}/download/progress", proxy=None
    ) as ws:
        started = time.monotonic()
        httpx.post(f"{c.url}/model/{LLAMA_1B}/download")
        ws.recv(timeout=5)
        ws.recv(timeout=5)
        with pytest.raises(Exception, match="no close frame"):
            ws.recv(timeout=5)
    deadline = time.monotonic() + 10
    while not httpx.get(f"{c.url}/model/{LLAMA_1B}").json()["downloaded"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert time.monotonic() - started >= 0.3 + 0.5  # the stall held the download back
    assert c.stop() == 0
