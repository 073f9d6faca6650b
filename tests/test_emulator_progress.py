"""The download-progress WebSocket (spec §5) and its agreement with REST, over real sockets."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from pieces_widgets.emulator import Emulator, synthetic_catalog

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
GEMMA_9B = "acfc0a3b-2b06-5167-8376-3fd958ae7dda"
PHI_4 = "005118ff-198b-5aa5-9ff9-0ecd029e9576"
PHI_3 = "eab61d38-935f-5ecf-a41e-909760d1a520"  # seeded as downloading
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # downloaded
TERMINAL = ("COMPLETED", "CANCELED", "FAILED", "RESET")


# One pooled client: `HTTP.get()` builds a client (and an SSL context) per call, ~50 ms.
HTTP = httpx.Client(timeout=5)


def flags(emu: Emulator, mid: str) -> tuple[bool, bool]:
    m = HTTP.get(f"{emu.url}/model/{mid}").json()
    return m["downloading"], m["downloaded"]


def snapshot_flags(emu: Emulator, mid: str) -> tuple[bool, bool]:
    m = next(m for m in HTTP.get(f"{emu.url}/models").json()["iterable"] if m["id"] == mid)
    return m["downloading"], m["downloaded"]


def post(emu: Emulator, path: str) -> httpx.Response:
    return HTTP.post(f"{emu.url}{path}")


@pytest.fixture
def emulator(emulator_factory) -> Emulator:
    """Shorter downloads than the shared fixture: 0.4 s, a frame every 20 ms."""
    return emulator_factory(download_seconds=0.4, frame_interval=0.02)


def test_success_sequence_and_rest_agree_at_every_frame(emulator_factory, progress_socket):
    # 100 ms between frames leaves room for two REST calls per frame on a loaded machine
    emulator = emulator_factory(download_seconds=1.0, frame_interval=0.1)
    sock = progress_socket(emulator, LLAMA_1B)
    r = post(emulator, f"/model/{LLAMA_1B}/download")
    assert r.status_code == 200 and r.json()["downloading"] is True
    frames = []
    while True:
        frame = sock.recv(timeout=5)
        assert frame is not None
        frames.append(frame)
        if frame["status"] == "IN-PROGRESS" and frame["percentage"] < 90:
            assert flags(emulator, LLAMA_1B) == (True, False)
            assert snapshot_flags(emulator, LLAMA_1B) == (True, False)
        if frame["status"] == "COMPLETED":
            assert flags(emulator, LLAMA_1B) == (False, True)
            assert snapshot_flags(emulator, LLAMA_1B) == (False, True)
            break
    statuses = [f["status"] for f in frames]
    assert statuses[0] == "INITIALIZED" and "percentage" not in frames[0]
    assert set(statuses[1:-1]) == {"IN-PROGRESS"}
    pcts = [f["percentage"] for f in frames[1:-1]]
    assert pcts[0] == 0 and pcts[-1] == 100 and pcts == sorted(pcts) and len(set(pcts)) == len(pcts)
    assert frames[-1] == {**frames[0], "status": "COMPLETED", "percentage": 100}
    assert all(
        f["schema"] == {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"} for f in frames
    )
    assert sock.recv(timeout=0.3) is None  # a terminal frame does not close the socket


def test_frames_are_text_and_deterministic(emulator_factory, progress_socket):
    runs = []
    for _ in range(2):
        emu = emulator_factory(download_seconds=0.3, frame_interval=0.03)
        sock = progress_socket(emu, LLAMA_1B)
        post(emu, f"/model/{LLAMA_1B}/download")
        raw = []
        while not raw or '"COMPLETED"' not in raw[-1]:
            message = sock.conn.recv(timeout=5)
            assert isinstance(message, str)  # text frames, not binary
            raw.append(message)
        runs.append(raw)
    assert runs[0] == runs[1]
    assert len(runs[0]) == 1 + 11 + 1  # INITIALIZED, 0..100 in 10 steps, COMPLETED


def test_cancel_emits_canceled_and_socket_survives_for_next_download(
    emulator: Emulator, progress_socket
):
    sock = progress_socket(emulator, LLAMA_1B)
    post(emulator, f"/model/{LLAMA_1B}/download")
    sock.until("IN-PROGRESS")
    sock.until("IN-PROGRESS")
    r = post(emulator, f"/model/{LLAMA_1B}/download/cancel")
    assert r.status_code == 200 and r.json()["downloading"] is False
    frames = sock.until(*TERMINAL)
    assert frames[-1]["status"] == "CANCELED" and "percentage" not in frames[-1]
    assert flags(emulator, LLAMA_1B) == (False, False)
    assert sock.recv(timeout=0.2) is None  # no stray frames from the cancelled task
    post(emulator, f"/model/{LLAMA_1B}/download")
    frames = sock.until(*TERMINAL)
    assert frames[0]["status"] == "INITIALIZED" and frames[-1]["status"] == "COMPLETED"


def test_several_sockets_each_get_every_frame(emulator: Emulator, progress_socket):
    socks = [progress_socket(emulator, LLAMA_1B) for _ in range(3)]
    post(emulator, f"/model/{LLAMA_1B}/download")
    runs = [s.until("COMPLETED") for s in socks]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0]["status"] == "INITIALIZED"


def test_socket_opened_mid_download_starts_with_current_progress(
    emulator: Emulator, progress_socket
):
    post(emulator, f"/model/{LLAMA_1B}/download")
    time.sleep(0.2)
    current = HTTP.get(f"{emulator.url}/model/{LLAMA_1B}/download/progress").json()
    sock = progress_socket(emulator, LLAMA_1B)
    frames = sock.until("COMPLETED")
    assert frames[0]["status"] == "IN-PROGRESS"
    assert 20 <= frames[0]["percentage"] <= 80
    assert frames[0]["percentage"] >= current["percentage"]
    pcts = [f["percentage"] for f in frames[:-1]]
    assert pcts == sorted(pcts) and len(set(pcts)) == len(pcts)  # no duplicate, no gap backwards


def test_idle_sockets_get_nothing(emulator: Emulator, progress_socket):
    idle = progress_socket(emulator, GEMMA_9B)
    busy = progress_socket(emulator, LLAMA_1B)
    cloud = progress_socket(emulator, "861c964a-0055-5270-ac1c-b2bf20fd0b71")
    post(emulator, f"/model/{LLAMA_1B}/download")
    busy.until("COMPLETED")
    assert idle.recv(timeout=0.1) is None and cloud.recv(timeout=0.1) is None


def test_concurrent_downloads_are_independent(emulator: Emulator, progress_socket):
    ids = [LLAMA_1B, GEMMA_9B, PHI_4]
    socks = {mid: progress_socket(emulator, mid) for mid in ids}
    for mid in ids:
        post(emulator, f"/model/{mid}/download")
    post(emulator, f"/model/{GEMMA_9B}/download/cancel")
    results = {mid: s.until(*TERMINAL) for mid, s in socks.items()}
    assert results[LLAMA_1B][-1]["status"] == results[PHI_4][-1]["status"] == "COMPLETED"
    assert results[GEMMA_9B][-1]["status"] == "CANCELED"
    assert flags(emulator, PHI_4) == (False, True) and flags(emulator, GEMMA_9B) == (False, False)


def test_second_download_call_starts_no_second_task(emulator: Emulator, progress_socket):
    sock = progress_socket(emulator, LLAMA_1B)
    first = post(emulator, f"/model/{LLAMA_1B}/download").json()
    sock.until("IN-PROGRESS")
    again = post(emulator, f"/model/{LLAMA_1B}/download").json()
    assert again == first
    frames = sock.until("COMPLETED")
    assert [f["status"] for f in frames].count("INITIALIZED") == 0
    pcts = [f["percentage"] for f in frames if f["status"] == "IN-PROGRESS"]
    assert pcts == sorted(pcts) and len(set(pcts)) == len(pcts)
    assert post(emulator, f"/model/{LLAMA_1B}/download").json()["downloaded"] is True
    assert sock.recv(timeout=0.2) is None  # downloading a downloaded model emits nothing


def test_unknown_id_is_refused_with_410_text(emulator: Emulator):
    with pytest.raises(InvalidStatus) as info:
        connect(f"{emulator.ws_url}/model/nope/download/progress", proxy=None, legacy=True)
    response = info.value.response
    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-pieces-emulator"].startswith("pieces-widgets/")
    assert response.body == b"model was not found."


def test_accepted_upgrade_carries_the_emulator_header(emulator: Emulator, progress_socket):
    sock = progress_socket(emulator, LLAMA_1B)
    assert sock.conn.response.headers["x-pieces-emulator"].startswith("pieces-widgets/")
    assert ("WS", f"/model/{LLAMA_1B}/download/progress") in emulator.requests


def test_plain_get_on_progress_path(emulator: Emulator, progress_socket):
    url = f"{emulator.url}/model/{LLAMA_1B}/download/progress"
    r = HTTP.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["status"] == "UNKNOWN"
    sock = progress_socket(emulator, LLAMA_1B)
    post(emulator, f"/model/{LLAMA_1B}/download")
    sock.until("IN-PROGRESS")
    assert HTTP.get(url).json()["status"] == "IN-PROGRESS"
    sock.until("COMPLETED")
    assert HTTP.get(url).json() == {
        "schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"},
        "status": "COMPLETED",
        "percentage": 100,
    }
    assert HTTP.get(f"{emulator.url}/model/nope/download/progress").status_code == 410


def test_delete_cache_emits_reset(emulator: Emulator, progress_socket):
    done = progress_socket(emulator, LLAMA_8B)
    assert post(emulator, f"/models/{LLAMA_8B}/delete/cache").status_code == 200
    assert done.recv()["status"] == "RESET"
    assert flags(emulator, LLAMA_8B) == (False, False)
    running = progress_socket(emulator, LLAMA_1B)
    post(emulator, f"/model/{LLAMA_1B}/download")
    running.until("IN-PROGRESS")
    post(emulator, f"/models/{LLAMA_1B}/delete/cache")
    assert running.until(*TERMINAL)[-1]["status"] == "RESET"
    assert flags(emulator, LLAMA_1B) == (False, False)
    assert running.recv(timeout=0.2) is None


def test_seeded_download_resumes_on_start(emulator_factory, progress_socket):
    emu = emulator_factory(download_seconds=0.5)
    assert flags(emu, PHI_3) == (True, False)
    sock = progress_socket(emu, PHI_3)
    assert sock.until("COMPLETED")[-1]["percentage"] == 100
    assert flags(emu, PHI_3) == (False, True)
    frozen = emulator_factory(resume_downloads=False)
    assert flags(frozen, PHI_3) == (False, False)


def test_download_time_follows_size_and_speed(emulator_factory, progress_socket):
    size = 775946240  # Llama 3.2 1B in the fixture
    emu = emulator_factory(download_speed=size / 0.5, frame_interval=0.02)
    sock = progress_socket(emu, LLAMA_1B)
    post(emu, f"/model/{LLAMA_1B}/download")
    sock.until("INITIALIZED")
    started = time.monotonic()
    frames = sock.until("COMPLETED")
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0
    assert len(frames) == 26 + 1  # 0 % plus 25 steps, then COMPLETED


def test_removing_a_model_closes_its_sockets(emulator: Emulator, progress_socket):
    sock = progress_socket(emulator, LLAMA_1B)
    emulator.remove_model(LLAMA_1B)
    closed = sock.closed_within(5)
    assert closed.rcvd is not None and closed.rcvd.code == 1000


def test_client_disconnect_mid_download_is_harmless(emulator: Emulator, progress_socket):
    sock = progress_socket(emulator, LLAMA_1B)
    post(emulator, f"/model/{LLAMA_1B}/download")
    sock.until("IN-PROGRESS")
    sock.close()
    watcher = progress_socket(emulator, LLAMA_1B)
    assert watcher.until("COMPLETED")[-1]["status"] == "COMPLETED"


def test_high_frame_rate_across_eight_downloads(emulator_factory, progress_socket):
    catalog = synthetic_catalog(200)
    ids = [
        m["id"] for m in catalog if not m["cloud"] and not m["downloaded"] and not m["downloading"]
    ][:8]
    emu = emulator_factory(
        catalog=catalog, download_seconds=0.5, frame_interval=0.004, resume_downloads=False
    )
    socks = [progress_socket(emu, mid) for mid in ids]
    results: dict[str, list] = {}

    def drain(mid, sock):
        results[mid] = sock.until("COMPLETED", timeout=20)

    threads = [threading.Thread(target=drain, args=pair) for pair in zip(ids, socks, strict=True)]
    started = time.monotonic()
    for mid in ids:
        post(emu, f"/model/{mid}/download")
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert all(len(results[mid]) == 1 + 126 + 1 for mid in ids)
    # 8 x 128 frames in about 0.5 s; generous bound for a loaded CI machine
    assert elapsed < 3.0, elapsed
