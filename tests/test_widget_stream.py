"""The pushed catalogue: ModelManager follows /models/stream/identifiers over real sockets, polls
only while the stream is refused or down, and gets the machine's device information on connect."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import _support
import httpx
import pytest

from pieces_widgets import ModelManager
from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, not downloaded
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # local, downloaded
CUSTOM = "3ffcfcf5-1c40-5abc-aabc-aa4856d9d001"
WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


IDS_WS = ("WS", "/models/stream/identifiers")


def row(mm: ModelManager, mid: str) -> dict[str, Any] | None:
    return next((r for r in mm.models if r["id"] == mid), None)


def snapshots(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r == ("GET", "/models"))


class Notices:
    def __init__(self, mm: ModelManager) -> None:
        self.seen: list[dict[str, Any]] = []
        mm.observe(lambda change: self.seen.append(dict(change["new"])), names="notice")


@pytest.fixture
def managers() -> Iterator[Callable[..., ModelManager]]:
    made: list[ModelManager] = []

    def make(url: str, **kwargs: Any) -> ModelManager:
        kwargs.setdefault("poll_interval", None)
        made.append(ModelManager(url, **kwargs))
        return made[-1]

    yield make
    for mm in made:
        mm.close()


@pytest.fixture
def emu(emulator_factory) -> Emulator:
    return emulator_factory(download_seconds=0.5, frame_interval=0.03, resume_downloads=False)


@pytest.fixture
def http(emu) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, trust_env=False) as client:  # a second client, warm
        client.get("/.well-known/health")
        yield client


def pushed(mm: ModelManager) -> None:
    eventually(lambda: mm.server.get("stream") == "pushed", what="the stream is followed")


def test_changes_made_elsewhere_show_within_one_second_with_polling_off(managers, emu, http):
    mm = managers(emu.url)
    pushed(mm)
    assert "pushed" in mm.server["stream_message"]
    assert row(mm, LLAMA_8B)["state"] == "downloaded"
    assert not mm.to_dataframe().loc[LLAMA_8B, "loaded"]  # (pandas imported before timing)
    started = time.monotonic()
    assert http.post(f"/model/{LLAMA_8B}/load").status_code == 200
    eventually(lambda: row(mm, LLAMA_8B)["state"] == "loaded", timeout=1.0, what="pushed load")
    assert mm.to_dataframe().loc[LLAMA_8B, "loaded"]
    assert time.monotonic() - started < 1.0
    # a new model, created by another client
    started = time.monotonic()
    emu.add_model({**emu.model(CUSTOM), "id": "elsewhere", "unique": "elsewhere", "name": "Far"})
    eventually(lambda: row(mm, "elsewhere"), timeout=1.0, what="pushed new model")
    assert "elsewhere" in mm.to_dataframe().index
    # a deletion; a selected model leaves the selection too
    mm.selection = ["elsewhere", CUSTOM]
    eventually(lambda: mm.selection == ["elsewhere", CUSTOM], what="selection set")
    started = time.monotonic()
    emu.remove_model("elsewhere")
    eventually(lambda: row(mm, "elsewhere") is None, timeout=1.0, what="pushed deletion")
    assert time.monotonic() - started < 1.0
    assert "elsewhere" not in mm.to_dataframe().index
    eventually(lambda: mm.selection == [CUSTOM], timeout=1.0, what="selection pruned")
    # the score counted elsewhere shows as `used`
    http.post(f"/model/{CUSTOM}/scores/increment", json={"model": {"reuse": True}})
    eventually(lambda: str(mm.to_dataframe()["used"][CUSTOM]) == "1", timeout=1.0, what="used")


def test_no_polling_while_changes_are_pushed(managers, emu):
    mm = managers(emu.url, poll_interval=0.2)
    pushed(mm)
    time.sleep(0.3)  # the catalogue's re-read is done
    before = snapshots(emu)
    time.sleep(1.2)
    assert snapshots(emu) == before, "polled although the stream pushes changes"
    assert mm.connection == "connected"


def test_stream_refused_falls_back_to_polling_and_says_so(managers, emu, http):
    emu.faults.http_error("identifiers", status=404, body="Not Found")
    mm = managers(emu.url, poll_interval=0.3)
    eventually(lambda: mm.server.get("stream") == "polling", what="polling fallback")
    message = mm.server["stream_message"]
    assert "does not push changes" in message and "404" in message
    assert "polling every 0.3 s" in message
    before = snapshots(emu)
    http.post(f"/model/{LLAMA_8B}/load")
    eventually(lambda: row(mm, LLAMA_8B)["state"] == "loaded", timeout=3, what="polled change")
    eventually(lambda: snapshots(emu) >= before + 2, timeout=3, what="polling goes on")
    assert mm.connection == "connected" and mm.server.get("stream") == "polling"


def test_stream_refused_with_polling_off_says_how_to_update(managers, emu):
    emu.faults.http_error("identifiers", status=404, body="Not Found")
    mm = managers(emu.url)
    eventually(lambda: mm.server.get("stream") == "polling", what="polling fallback")
    assert "poll_interval=None" in mm.server["stream_message"]


def test_stream_drop_reconnects_silently_and_misses_nothing(managers, emu, http):
    emu.faults.drop_socket_after(2, route="identifiers")  # every socket: catalogue + one change
    mm = managers(emu.url)
    notices = Notices(mm)
    pushed(mm)
    http.post(f"/model/{LLAMA_8B}/load")  # the second frame; then the socket is dropped
    eventually(lambda: row(mm, LLAMA_8B)["state"] == "loaded", timeout=1.0, what="change")
    emu.remove_model(CUSTOM)  # while the socket is down or just back: never sent as a change
    http.post(f"/model/{LLAMA_8B}/unload")
    eventually(lambda: row(mm, CUSTOM) is None, timeout=5, what="the re-read after reconnect")
    eventually(lambda: row(mm, LLAMA_8B)["state"] == "downloaded", timeout=5, what="unload")
    assert sum(1 for r in emu.requests if r == IDS_WS) >= 2
    eventually(lambda: mm.server.get("stream") == "pushed", what="pushed again")
    assert not [n for n in notices.seen if n.get("level") == "error"], notices.seen
    assert mm.connection == "connected" and mm.errors == {}


def test_server_gone_with_polling_off_is_noticed_and_the_stream_comes_back(managers):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    first = Emulator(port=port, resume_downloads=False).start()
    try:
        mm = managers(first.url)
        pushed(mm)
    finally:
        first.stop()
    eventually(lambda: mm.connection == "unreachable", timeout=10, what="the loss is seen")
    assert mm.server.get("stream") != "pushed"
    with Emulator(port=port, resume_downloads=False):
        eventually(lambda: mm.connection == "connected", timeout=WAIT, what="reconnect")
        pushed(mm)


# --------------------------------------------------------------------------- device information


class Recording(ModelManager):
    """Records the Supervisor's hand-over of the device information (the hook HPb's fit uses)."""

    def _device_changed(self) -> None:
        self.device_calls = getattr(self, "device_calls", 0) + 1
        super()._device_changed()


def test_device_information_is_handed_to_the_manager_on_connect(emu):
    mm = Recording(emu.url, poll_interval=None)
    try:
        eventually(lambda: getattr(mm, "device_calls", 0) >= 1, what="device handed over")
        assert mm._device is not None and mm._device.ram == 16 * 2**30
        assert ("GET", "/os/device/information") in emu.requests
    finally:
        mm.close()


@pytest.mark.parametrize(
    ("fault", "device"),
    [
        ("missing", None),
        ("malformed", {"hardware": {"ram": {"memory": "sixteen"}, "gpus": "none"}}),
        ("unexpected unit", {"hardware": {"ram": {"memory": 3}}}),
    ],
)
def test_device_information_missing_or_malformed_leaves_the_fit_to_local_figures(
    emulator_factory, fault, device
):
    emu = emulator_factory(resume_downloads=False)
    if fault == "missing":
        emu.faults.http_error("device", status=404, body="Not Found")
    else:
        emu.device = device
    mm = Recording(emu.url, poll_interval=None)
    try:
        eventually(lambda: getattr(mm, "device_calls", 0) >= 1, what="device handed over")
        assert mm.connection == "connected" and len(mm.models) == 27
        if fault == "missing":
            assert mm._device is None
        else:
            assert mm._device.ram is None and mm._device.warnings  # never a guessed figure
    finally:
        mm.close()


def test_an_action_rereads_only_its_model_while_changes_are_pushed(managers, emu):
    mm = managers(emu.url)
    pushed(mm)
    # the constructor's snapshot, then the stream's first frame (the whole catalogue) re-reads
    eventually(lambda: snapshots(emu) == 2, what="the stream's first re-read")
    before, model_gets = snapshots(emu), len(emu.requests)
    mm.load(LLAMA_8B).wait(WAIT)
    assert row(mm, LLAMA_8B)["state"] == "loaded"  # settled when the handle ends
    assert snapshots(emu) == before  # no full snapshot: the stream brings any other change
    after = emu.requests[model_gets:]
    assert ("GET", f"/model/{LLAMA_8B}") in after


def test_an_action_rereads_everything_when_changes_are_not_pushed(managers, emu):
    emu.faults.http_error("identifiers", status=404, body="Not Found")
    mm = managers(emu.url)
    eventually(lambda: mm.server.get("stream") == "polling", what="polling fallback")
    before = snapshots(emu)
    mm.load(LLAMA_8B).wait(WAIT)
    assert row(mm, LLAMA_8B)["state"] == "loaded"
    assert snapshots(emu) == before + 1
