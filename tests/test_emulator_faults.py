"""Fault injection from Python: HTTP errors, latency, dropped sockets, stalls, failed downloads."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
GEMMA_9B = "acfc0a3b-2b06-5167-8376-3fd958ae7dda"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # downloaded


@pytest.fixture
def emu(emulator_factory) -> Emulator:
    return emulator_factory(download_seconds=0.5, frame_interval=0.025, resume_downloads=False)


@pytest.fixture
def http(emu: Emulator):
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        yield client


def test_http_error_always_then_clear(emu: Emulator, http: httpx.Client):
    emu.faults.http_error("load")
    for _ in range(3):
        r = http.post(f"/model/{LLAMA_8B}/load")
        assert r.status_code == 500 and r.text == "Internal Server Error"
        assert r.headers["content-type"].startswith("text/plain")
        assert r.headers["x-pieces-emulator"].startswith("pieces-widgets/")
    assert http.post(f"/model/{LLAMA_8B}/unload").status_code == 200  # other routes unaffected
    assert http.get(f"/model/{LLAMA_8B}").json()["loaded"] is False  # the failed loads did nothing
    emu.faults.clear()
    assert http.post(f"/model/{LLAMA_8B}/load").status_code == 200


def test_http_error_n_times_with_custom_status_and_body(emu: Emulator, http: httpx.Client):
    emu.faults.http_error("snapshot", status=503, times=2, body="warming up")
    answers = [http.get("/models") for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].text == "warming up"


def test_http_error_probability_is_seeded(emulator_factory):
    def pattern(seed: int) -> list[int]:
        emu = emulator_factory(seed=seed)
        emu.faults.http_error("get", status=500, probability=0.5)
        with httpx.Client(base_url=emu.url) as c:
            return [c.get(f"/model/{LLAMA_1B}").status_code for _ in range(60)]

    first, again, other = pattern(7), pattern(7), pattern(8)
    assert first == again and first != other
    assert 15 <= first.count(500) <= 45 and set(first) == {200, 500}


def test_http_error_on_health_version_and_progress(emu: Emulator, http: httpx.Client):
    emu.faults.http_error("health", status=503)
    emu.faults.http_error("version", status=500, times=1)
    emu.faults.http_error("progress", status=502, times=2)
    assert http.head("/.well-known/health").status_code == 503
    assert http.get("/.well-known/version").status_code == 500
    assert http.get("/.well-known/version").text == "12.3.4"
    assert http.get(f"/model/{LLAMA_1B}/download/progress").status_code == 502
    with pytest.raises(InvalidStatus) as info:
        connect(f"{emu.ws_url}/model/{LLAMA_1B}/download/progress", proxy=None, legacy=True)
    assert info.value.response.status_code == 502
    connect(f"{emu.ws_url}/model/{LLAMA_1B}/download/progress", proxy=None, legacy=True).close()


def test_unknown_route_name_is_rejected(emu: Emulator):
    with pytest.raises(ValueError, match="unknown route"):
        emu.faults.http_error("lod")
    with pytest.raises(ValueError, match="unknown route"):
        emu.faults.latency(1, route="nope")


def test_latency_per_route_and_global(emu: Emulator, http: httpx.Client):
    emu.faults.latency(0.3, route="snapshot")
    started = time.monotonic()
    http.get("/models")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    http.get(f"/model/{LLAMA_1B}")
    assert time.monotonic() - started < 0.25
    emu.faults.clear()
    emu.faults.latency(0.2)
    started = time.monotonic()
    http.head("/.well-known/health")
    assert time.monotonic() - started >= 0.2


def test_drop_socket_after_n_frames_download_continues(
    emu: Emulator, http: httpx.Client, progress_socket
):
    emu.faults.drop_socket_after(3, model_id=LLAMA_1B)
    dropped = progress_socket(emu, LLAMA_1B)
    spared = progress_socket(emu, GEMMA_9B)
    http.post(f"/model/{LLAMA_1B}/download")
    http.post(f"/model/{GEMMA_9B}/download")
    frames = [dropped.recv(timeout=5) for _ in range(3)]
    assert [f["status"] for f in frames] == ["INITIALIZED", "IN-PROGRESS", "IN-PROGRESS"]
    closed = dropped.closed_within(5)
    assert closed.rcvd is None  # abrupt: no close frame, like a network cut
    assert spared.until("COMPLETED")[-1]["status"] == "COMPLETED"
    deadline = time.monotonic() + 5
    while not http.get(f"/model/{LLAMA_1B}").json()["downloaded"]:
        assert time.monotonic() < deadline, "the download did not survive the dropped socket"
        time.sleep(0.05)


def test_drop_counts_the_catch_up_frame(emu: Emulator, http: httpx.Client, progress_socket):
    emu.faults.drop_socket_after(1)
    http.post(f"/model/{LLAMA_1B}/download")
    time.sleep(0.2)
    late = progress_socket(emu, LLAMA_1B)
    assert late.recv()["status"] == "IN-PROGRESS"
    assert late.closed_within(5).rcvd is None


def test_stall_pauses_frames_and_progress(emu: Emulator, http: httpx.Client, progress_socket):
    emu.faults.stall(0.6, at_percentage=40)
    sock = progress_socket(emu, LLAMA_1B)
    started = time.monotonic()
    http.post(f"/model/{LLAMA_1B}/download")
    stamped = []
    while not stamped or stamped[-1][1]["status"] != "COMPLETED":
        frame = sock.recv(timeout=5)
        stamped.append((time.monotonic(), frame))
        first_at_40 = frame.get("percentage", 0) >= 40 and not any(
            f.get("percentage", 0) >= 40 for _, f in stamped[:-1]
        )
        if first_at_40:
            time.sleep(0.2)  # mid-stall: REST still downloading, progress frozen
            assert http.get(f"/model/{LLAMA_1B}").json()["downloading"] is True
            assert http.get(f"/model/{LLAMA_1B}/download/progress").json() == frame
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(stamped)]
    assert max(gaps) >= 0.5
    worst = gaps.index(max(gaps))
    assert stamped[worst][1]["percentage"] >= 40 > stamped[worst - 1][1]["percentage"]
    assert time.monotonic() - started >= 0.5 + 0.6


def test_cancel_during_stall_is_immediate(emu: Emulator, http: httpx.Client, progress_socket):
    emu.faults.stall(5, at_percentage=10)
    sock = progress_socket(emu, LLAMA_1B)
    http.post(f"/model/{LLAMA_1B}/download")
    while sock.recv().get("percentage", -1) < 10:
        pass
    started = time.monotonic()
    assert http.post(f"/model/{LLAMA_1B}/download/cancel").json()["downloading"] is False
    assert sock.recv()["status"] == "CANCELED"
    assert time.monotonic() - started < 1


def test_fail_download_at_percentage(emu: Emulator, http: httpx.Client, progress_socket):
    emu.faults.fail_download(at_percentage=50, model_id=LLAMA_1B)
    failing = progress_socket(emu, LLAMA_1B)
    other = progress_socket(emu, GEMMA_9B)
    http.post(f"/model/{LLAMA_1B}/download")
    http.post(f"/model/{GEMMA_9B}/download")
    frames = failing.until("FAILED", "COMPLETED")
    assert frames[-1]["status"] == "FAILED" and "percentage" not in frames[-1]
    pcts = [f["percentage"] for f in frames if f["status"] == "IN-PROGRESS"]
    assert max(pcts) < 50 and max(pcts) >= 40
    m = http.get(f"/model/{LLAMA_1B}").json()
    assert (m["downloading"], m["downloaded"]) == (False, False)
    assert failing.recv(timeout=0.2) is None  # the socket stays open after FAILED
    assert other.until("COMPLETED", "FAILED")[-1]["status"] == "COMPLETED"
    assert http.get(f"/model/{LLAMA_1B}/download/progress").json()["status"] == "FAILED"
    emu.faults.clear()
    http.post(f"/model/{LLAMA_1B}/download")  # a retry after clear() succeeds
    assert failing.until("COMPLETED", "FAILED")[-1]["status"] == "COMPLETED"
