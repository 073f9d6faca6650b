"""WS `/models/stream/identifiers`: the whole catalogue first, then every change, any cause."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # downloaded
CUSTOM = "3ffcfcf5-1c40-5abc-aabc-aa4856d9d001"


class IdsSocket:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def frame(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(self.conn.recv(timeout=timeout))

    def items(self, timeout: float = 5.0) -> list[tuple[str, bool]]:
        return [(i["model"]["id"], i["deleted"]) for i in self.frame(timeout)["iterable"]]

    def quiet(self, seconds: float = 0.3) -> bool:
        """True if no frame arrives within `seconds`."""
        try:
            self.conn.recv(timeout=seconds)
        except TimeoutError:
            return True
        return False


def ids_url(emu: Emulator) -> str:
    return f"{emu.ws_url}/models/stream/identifiers"


@pytest.fixture
def ids_socket() -> Iterator[Callable[[Emulator], IdsSocket]]:
    opened: list[IdsSocket] = []

    def open_socket(emu: Emulator) -> IdsSocket:
        conn = connect(ids_url(emu), proxy=None, compression=None, open_timeout=5, legacy=True)
        opened.append(IdsSocket(conn))
        return opened[-1]

    yield open_socket
    for sock in opened:
        sock.conn.close()


@pytest.fixture
def emu(emulator_factory) -> Emulator:
    return emulator_factory(download_seconds=0.3, frame_interval=0.03, resume_downloads=False)


def test_first_frame_is_the_whole_catalogue_in_server_order(emu, ids_socket):
    first = ids_socket(emu).frame()
    assert list(first) == ["iterable"]
    assert [i["model"]["id"] for i in first["iterable"]] == [m["id"] for m in emu.models()]
    assert all(
        i == {"model": {"id": i["model"]["id"]}, "deleted": False} for i in first["iterable"]
    )
    assert len(first["iterable"]) == 27


def test_rest_changes_push_ids_and_one_frame_per_command(emu, ids_socket):
    sock = ids_socket(emu)
    sock.frame()
    assert sock.quiet(0.2)  # nothing changed, nothing sent
    assert httpx.post(f"{emu.url}/model/{LLAMA_8B}/load").status_code == 200
    assert sock.items() == [(LLAMA_8B, False)]
    assert httpx.get(f"{emu.url}/model/{LLAMA_8B}").json()["loaded"] is True
    httpx.post(f"{emu.url}/model/{LLAMA_8B}/load")  # already loaded: no change, no frame
    assert sock.quiet(0.2)
    loaded = {m["id"] for m in emu.models() if m.get("loaded")}
    assert len(loaded) >= 2
    assert httpx.post(f"{emu.url}/models/unload").status_code == 204
    assert {mid for mid, _ in sock.items()} == loaded  # several ids, one frame
    assert sock.quiet(0.2)


def test_download_start_and_end_are_changes_progress_is_not(emu, ids_socket):
    sock = ids_socket(emu)
    sock.frame()
    httpx.post(f"{emu.url}/model/{LLAMA_1B}/download")
    assert sock.items() == [(LLAMA_1B, False)]
    assert emu.model(LLAMA_1B)["downloading"] is True
    assert sock.items(timeout=5) == [(LLAMA_1B, False)]  # completed, after 10 progress frames
    assert emu.model(LLAMA_1B)["downloaded"] is True
    assert sock.quiet(0.3)
    httpx.post(f"{emu.url}/models/{LLAMA_1B}/delete/cache")
    assert sock.items() == [(LLAMA_1B, False)]


def test_changes_made_elsewhere_and_deletions(emu, ids_socket):
    sock = ids_socket(emu)
    sock.frame()
    emu.add_model({**emu.model(CUSTOM), "id": "elsewhere", "unique": "elsewhere"})
    assert sock.items() == [("elsewhere", False)]
    emu.remove_model("elsewhere")
    assert sock.items() == [("elsewhere", True)]
    assert httpx.post(f"{emu.url}/models/{CUSTOM}/delete").status_code == 204
    assert sock.items() == [(CUSTOM, True)]
    httpx.post(f"{emu.url}/model/{LLAMA_8B}/scores/increment", json={"model": {"reuse": True}})
    assert sock.items() == [(LLAMA_8B, False)]
    created = httpx.post(
        f"{emu.url}/models/create",
        json={
            "name": "Pushed",
            "version": "1",
            "type": "BALANCED",
            "usage": "CODE",
            "cloud": False,
            "created": {"value": "2025-01-01T00:00:00Z"},
        },
    ).json()
    assert sock.items() == [(created["id"], False)]


def test_every_socket_gets_frames_and_a_late_one_starts_from_now(emu, ids_socket):
    a = ids_socket(emu)
    a.frame()
    emu.remove_model(LLAMA_1B)
    b = ids_socket(emu)
    first_b = [mid for mid, _ in b.items()]
    assert LLAMA_1B not in first_b and len(first_b) == 26
    assert a.items() == [(LLAMA_1B, True)]
    httpx.post(f"{emu.url}/model/{LLAMA_8B}/load")
    assert a.items() == b.items() == [(LLAMA_8B, False)]


def test_plain_get_is_405_and_stop_closes_with_1000(emu, ids_socket):
    assert httpx.get(f"{emu.url}/models/stream/identifiers").status_code == 405
    sock = ids_socket(emu)
    sock.frame()
    emu.stop()
    with pytest.raises(ConnectionClosed) as info:
        sock.conn.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1000


def test_refused_upgrade_like_an_older_pieces_os(emu):
    emu.faults.http_error("identifiers", status=404, times=1, body="Not Found")
    with pytest.raises(InvalidStatus) as info:
        connect(ids_url(emu), proxy=None, open_timeout=5)
    assert info.value.response.status_code == 404
    assert info.value.response.body == b"Not Found"
    with connect(ids_url(emu), proxy=None, open_timeout=5) as conn:  # once only
        assert json.loads(conn.recv(timeout=5))["iterable"]
    assert ("WS", "/models/stream/identifiers") in emu.requests


def test_drop_after_n_frames_is_abrupt_and_route_specific(emu, ids_socket):
    emu.faults.drop_socket_after(1)  # a progress-socket rule: the identifiers stream ignores it
    sock = ids_socket(emu)
    sock.frame()
    httpx.post(f"{emu.url}/model/{LLAMA_8B}/load")
    assert sock.items() == [(LLAMA_8B, False)]
    emu.faults.clear()
    emu.faults.drop_socket_after(2, route="identifiers")
    dropped = ids_socket(emu)
    dropped.frame()
    httpx.post(f"{emu.url}/model/{LLAMA_8B}/unload")
    assert dropped.items() == [(LLAMA_8B, False)]
    started = time.monotonic()
    with pytest.raises(ConnectionClosedError) as info:
        dropped.conn.recv(timeout=5)
    assert info.value.rcvd is None and time.monotonic() - started < 2  # no close frame
    with pytest.raises(ValueError):
        emu.faults.drop_socket_after(1, route="snapshot")
