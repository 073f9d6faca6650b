"""The CLI flags for the endpoints around the model API, as a real process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_emulator_cli import Cli, free_port
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"
FIXTURE = Path(__file__).parent / "fixtures" / "models_snapshot.json"


@pytest.fixture
def run() -> Iterator[type[Cli]]:
    started: list[Cli] = []

    class Tracked(Cli):
        def __init__(self, *args: str) -> None:
            super().__init__("--port", str(free_port()), "--quiet", *args)
            started.append(self)

    yield Tracked
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def test_device_file_and_catalogue_scores(run, tmp_path: Path):
    device = {"name": "box", "hardware": {"ram": {"memory": 32768}}, "dependencies": {"vulkan": 1}}
    (tmp_path / "device.json").write_text(json.dumps(device))
    models = json.loads(FIXTURE.read_text())["iterable"][14:16]
    models[1]["score"] = {"manual": 1, "automatic": 5, "reuse": 2}
    (tmp_path / "catalog.json").write_text(json.dumps({"iterable": models}))
    c = run("--device", str(tmp_path / "device.json"), "--catalog", str(tmp_path / "catalog.json"))
    c.ready()
    assert httpx.get(f"{c.url}/os/device/information").json() == device
    assert httpx.get(f"{c.url}/model/{LLAMA_8B}").json()["score"]["reuse"] == 2
    r = httpx.post(f"{c.url}/model/{LLAMA_8B}/scores/increment", json={"model": {"reuse": True}})
    assert r.status_code == 204
    score = httpx.get(f"{c.url}/model/{LLAMA_8B}").json()["score"]
    assert score == {"manual": 1, "automatic": 5, "reuse": 3}
    assert c.stop() == 0


def test_default_device_is_in_bytes(run):
    c = run()
    c.ready()
    assert httpx.get(f"{c.url}/os/device/information").json()["hardware"]["ram"]["memory"] == (
        16 << 30
    )
    assert "installation" in httpx.get(f"{c.url}/ollama/status").json()  # installed by default
    assert c.stop() == 0


@pytest.mark.parametrize(
    "args",
    [("--device", "/no/such/device.json"), ("--ollama", "maybe"), ("--device", "BAD")],
)
def test_bad_device_or_ollama_is_a_usage_error(run, tmp_path: Path, args):
    if args[1] == "BAD":
        (tmp_path / "bad.json").write_text("[1, 2]")
        args = ("--device", str(tmp_path / "bad.json"))
    c = run(*args)
    assert c.proc.wait(timeout=15) == 2
    assert c.proc.stderr is not None and "error" in c.proc.stderr.read()


def test_ollama_missing_then_install_with_a_failure_first(run):
    c = run("--ollama", "missing", "--runtime-seconds", "0.3", "--fail-runtime-at", "50")
    c.ready()
    r = httpx.post(f"{c.url}/model/{LLAMA_1B}/download")
    assert r.status_code == 500 and "Ollama" in r.text
    with connect(f"{c.url.replace('http', 'ws')}/ollama/status/stream", proxy=None) as ws:
        ws.recv(timeout=5)
        httpx.post(f"{c.url}/ollama/install")
        statuses = []
        while not statuses or statuses[-1] in ("INITIALIZED", "IN-PROGRESS"):
            statuses.append(json.loads(ws.recv(timeout=5))["installing"]["status"])
    assert statuses[-1] == "FAILED"
    assert "installation" not in httpx.get(f"{c.url}/ollama/status").json()
    assert c.stop() == 0


def test_update_required_and_cancel_flag(run):
    c = run("--ollama", "update-required", "--runtime-seconds", "0.3", "--cancel-runtime-at", "20")
    c.ready()
    body = httpx.get(f"{c.url}/ollama/status").json()
    assert body["updateRequired"]["version"] != body["installation"]["version"]
    dep = httpx.post(f"{c.url}/ollama/update").json()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = httpx.get(f"{c.url}/ollama/update/{dep['id']}").json()
        if got["status"] not in ("INITIALIZED", "IN-PROGRESS"):
            break
        time.sleep(0.05)
    assert got["status"] == "CANCELED"
    assert "updateRequired" in httpx.get(f"{c.url}/ollama/status").json()
    assert c.stop() == 0


def test_identifiers_refused_and_dropped(run):
    refused = run("--fail", "identifiers=404")
    refused.ready()
    ws_url = f"{refused.url.replace('http', 'ws')}/models/stream/identifiers"
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url, proxy=None, open_timeout=5)
    assert info.value.response.status_code == 404
    assert refused.stop() == 0

    dropped = run("--drop-identifiers-after", "2")
    dropped.ready()
    ws_url = f"{dropped.url.replace('http', 'ws')}/models/stream/identifiers"
    with connect(ws_url, proxy=None, open_timeout=5) as ws:
        assert len(json.loads(ws.recv(timeout=5))["iterable"]) == 27
        httpx.post(f"{dropped.url}/model/{LLAMA_8B}/load")
        assert json.loads(ws.recv(timeout=5))["iterable"] == [
            {"model": {"id": LLAMA_8B}, "deleted": False}
        ]
        with pytest.raises(ConnectionClosedError):
            ws.recv(timeout=5)
    assert dropped.stop() == 0
