"""The Ollama runtime: `/ollama/*`, its status stream, progress over time, and what it gates."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, not downloaded
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # local, downloaded
GPT35 = "a85e1883-862a-5bb1-9a37-b5186d8bc0ed"  # cloud


def status(emu: Emulator) -> dict[str, Any]:
    r = httpx.get(f"{emu.url}/ollama/status")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()


def status_socket(emu: Emulator) -> ClientConnection:
    return connect(f"{emu.ws_url}/ollama/status/stream", proxy=None, open_timeout=5, legacy=True)


def frames_until_done(conn: ClientConnection, key: str) -> list[dict[str, Any]]:
    """Status frames until `key` (installing/updating) is finished or gone."""
    frames: list[dict[str, Any]] = []
    while True:
        frames.append(json.loads(conn.recv(timeout=5)))
        dep = frames[-1].get(key)
        if dep is None or dep["status"] not in ("INITIALIZED", "IN-PROGRESS"):
            return frames


def test_installed_by_default(emulator):
    body = status(emulator)
    assert set(body) == {"installation", "recommendation"}
    inst = body["installation"]
    assert inst["status"] == "COMPLETED" and inst["version"] and inst["id"]
    assert body["recommendation"] == {"inference": True}
    installs = httpx.get(f"{emulator.url}/ollama/installs").json()
    assert installs == {"iterable": [inst]}
    assert httpx.get(f"{emulator.url}/ollama/updates").json() == {"iterable": []}
    assert httpx.post(f"{emulator.url}/ollama/install").json() == inst  # nothing to do
    assert httpx.post(f"{emulator.url}/ollama/update").json() == inst  # no update required
    assert emulator.ollama == "installed"


def test_missing_refuses_local_downloads_and_loads_with_a_clear_text(emulator_factory):
    emu = emulator_factory(ollama="missing", resume_downloads=False)
    assert status(emu) == {"recommendation": {"inference": True}}
    r = httpx.post(f"{emu.url}/model/{LLAMA_1B}/download")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/plain")
    assert "Ollama" in r.text and "not installed" in r.text
    assert emu.model(LLAMA_1B)["downloading"] is False
    r = httpx.post(f"{emu.url}/model/{LLAMA_8B}/load")
    assert r.status_code == 500 and "not installed" in r.text
    cloud = httpx.post(f"{emu.url}/model/{GPT35}/download")  # unchanged cloud behaviour
    assert cloud.status_code == 500 and cloud.text == "cloud models cannot be downloaded."
    done = httpx.post(f"{emu.url}/model/{LLAMA_8B}/download")  # already downloaded: as before
    assert done.status_code == 200 and done.json()["downloaded"] is True
    assert httpx.post(f"{emu.url}/ollama/update").status_code == 500
    assert httpx.post(f"{emu.url}/ollama/uninstall").status_code == 500


def test_install_progresses_over_time_on_the_stream_and_by_polling(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=1.5, frame_interval=0.05)
    with status_socket(emu) as conn:
        assert json.loads(conn.recv(timeout=5)) == {"recommendation": {"inference": True}}
        started = time.monotonic()
        r = httpx.post(f"{emu.url}/ollama/install")
        dep = r.json()
        assert r.status_code == 200 and dep["status"] == "INITIALIZED" and dep["percentage"] == 0
        assert httpx.post(f"{emu.url}/ollama/install").json()["id"] == dep["id"]  # same one
        assert emu.ollama == "installing"
        mid = status(emu)["installing"]
        while mid["percentage"] == 0 and time.monotonic() - started < 1.0:
            time.sleep(0.05)
            mid = status(emu)["installing"]
        assert mid["status"] == "IN-PROGRESS" and 0 < mid["percentage"] < 100  # polling sees it
        frames = frames_until_done(conn, "installing")
        elapsed = time.monotonic() - started
    pcts = [f["installing"]["percentage"] for f in frames if "installing" in f]
    assert pcts == sorted(pcts) and len(pcts) >= 8 and pcts[-1] == 100
    last = frames[-1]
    assert "installing" not in last and last["installation"]["status"] == "COMPLETED"
    assert last["installation"]["id"] == dep["id"] and last["installation"]["percentage"] == 100
    assert 1.4 <= elapsed < 6
    got = httpx.get(f"{emu.url}/ollama/install/{dep['id']}").json()
    assert got["status"] == "COMPLETED"
    assert httpx.post(f"{emu.url}/model/{LLAMA_1B}/download").json()["downloading"] is True


def test_cancel_and_unknown_deployments(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=5)
    dep = httpx.post(f"{emu.url}/ollama/install").json()
    r = httpx.post(f"{emu.url}/ollama/install/{dep['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "CANCELED"
    assert "percentage" not in r.json()
    assert emu.ollama == "missing"
    body = status(emu)
    assert "installation" not in body and body["installing"]["status"] == "CANCELED"
    assert httpx.post(f"{emu.url}/model/{LLAMA_1B}/download").status_code == 500
    again = httpx.post(f"{emu.url}/ollama/install/{dep['id']}/cancel")
    assert again.json()["status"] == "CANCELED"  # finished: unchanged
    missing = httpx.get(f"{emu.url}/ollama/install/nope")
    assert missing.status_code == 410 and missing.text == "deployment was not found."
    assert httpx.post(f"{emu.url}/ollama/install/nope/cancel").status_code == 500
    assert httpx.get(f"{emu.url}/ollama/update/{dep['id']}").status_code == 410  # an install


@pytest.mark.parametrize("end", ["FAILED", "CANCELED"])
def test_injected_failure_or_cancel_then_retry(emulator_factory, end):
    emu = emulator_factory(ollama="missing", runtime_seconds=0.4, frame_interval=0.04)
    emu.faults.fail_runtime(50, status=end)
    with status_socket(emu) as conn:
        conn.recv(timeout=5)
        first = httpx.post(f"{emu.url}/ollama/install").json()
        frames = frames_until_done(conn, "installing")
    assert frames[-1]["installing"]["status"] == end and "installation" not in frames[-1]
    assert max(f["installing"].get("percentage", 0) for f in frames) < 50
    assert status(emu)["installing"] == frames[-1]["installing"]
    assert emu.ollama == "missing"
    emu.faults.clear()
    retry = httpx.post(f"{emu.url}/ollama/install").json()
    assert retry["id"] != first["id"]
    deadline = time.monotonic() + 5
    while emu.ollama != "installed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.ollama == "installed" and "installing" not in status(emu)
    history = httpx.get(f"{emu.url}/ollama/installs").json()["iterable"]
    assert [d["status"] for d in history] == [end, "COMPLETED"]


def test_update_required_then_update(emulator_factory):
    emu = emulator_factory(ollama="update-required", runtime_seconds=0.3, frame_interval=0.03)
    body = status(emu)
    old, wanted = body["installation"], body["updateRequired"]
    assert old["version"] != wanted["version"] and wanted["userManaged"] is False
    assert emu.ollama == "update-required"
    assert httpx.post(f"{emu.url}/model/{LLAMA_8B}/load").status_code == 200  # old one runs
    assert httpx.post(f"{emu.url}/ollama/update", content=b"[1]").status_code == 500
    with status_socket(emu) as conn:
        conn.recv(timeout=5)
        dep = httpx.post(f"{emu.url}/ollama/update", json={"version": "x"}).json()
        assert dep["status"] == "INITIALIZED" and dep["version"] == wanted["version"]
        assert emu.ollama == "updating"
        frames = frames_until_done(conn, "updating")
    last = frames[-1]
    assert "updating" not in last and "updateRequired" not in last
    assert last["installation"]["version"] == wanted["version"]
    assert httpx.get(f"{emu.url}/ollama/update/{dep['id']}").json()["status"] == "COMPLETED"
    assert [d["id"] for d in httpx.get(f"{emu.url}/ollama/updates").json()["iterable"]] == [
        dep["id"]
    ]
    cancel = httpx.post(f"{emu.url}/ollama/update/{dep['id']}/cancel")
    assert cancel.json()["status"] == "COMPLETED"


def test_uninstall_unloads_and_gates(emulator):
    loaded = [m["id"] for m in emulator.models() if m.get("loaded")]
    assert loaded
    r = httpx.post(f"{emulator.url}/ollama/uninstall")
    assert r.status_code == 200 and r.json()["status"] == "RESET"
    assert emulator.ollama == "missing"
    assert not any(emulator.model(mid)["loaded"] for mid in loaded)
    assert httpx.post(f"{emulator.url}/ollama/uninstall").status_code == 500
    emulator.set_ollama("installed")
    assert status(emulator)["installation"]["status"] == "COMPLETED"
    with pytest.raises(ValueError):
        emulator.set_ollama("installing")
    with pytest.raises(ValueError, match="ollama must be one of"):
        Emulator(ollama="bogus")


def test_status_stream_faults_and_plain_get(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=1, frame_interval=0.05)
    assert httpx.get(f"{emu.url}/ollama/status/stream").json() == status(emu)
    emu.faults.http_error("ollama_status_stream", status=404, times=1)
    with pytest.raises(InvalidStatus) as info:
        status_socket(emu)
    assert info.value.response.status_code == 404
    emu.faults.drop_socket_after(3, route="ollama_status_stream")
    with status_socket(emu) as conn:
        httpx.post(f"{emu.url}/ollama/install")
        for _ in range(3):
            conn.recv(timeout=5)
        with pytest.raises(ConnectionClosedError):
            conn.recv(timeout=5)
    emu.faults.http_error("ollama_install", status=503, times=1)
    assert httpx.post(f"{emu.url}/ollama/install").status_code == 503


def test_stop_mid_install_forgets_it(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=5)
    httpx.post(f"{emu.url}/ollama/install")
    assert emu.ollama == "installing"
    emu.stop()
    emu.start()
    assert emu.ollama == "missing" and "installing" not in status(emu)
    assert httpx.get(f"{emu.url}/ollama/installs").json()["iterable"][0]["status"] == "FAILED"
