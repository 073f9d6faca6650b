"""In-process lifecycle: start/stop/restart on the same port, shutdown semantics, running loops."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
GEMMA_9B = "acfc0a3b-2b06-5167-8376-3fd958ae7dda"


def get(emu: Emulator, path: str) -> httpx.Response:
    with httpx.Client(base_url=emu.url, timeout=5) as c:
        return c.get(path)


def post(emu: Emulator, path: str) -> httpx.Response:
    with httpx.Client(base_url=emu.url, timeout=5) as c:
        return c.post(path)


def port_is_free(port: int) -> bool:
    """Another server could listen here (SO_REUSEADDR, as servers do, ignores TIME_WAIT)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
        return True


def test_context_manager_picks_a_port_before_returning():
    emu = Emulator()
    assert emu.port == 0 and not emu.running
    with emu as started:
        assert started is emu and emu.running
        assert emu.port > 0 and emu.url == f"http://127.0.0.1:{emu.port}"
        assert get(emu, "/.well-known/health").status_code == 200
    assert not emu.running
    with pytest.raises(httpx.ConnectError):
        get(emu, "/.well-known/health")


def test_stop_frees_the_port_and_start_rebinds_it_with_state_kept(progress_socket):
    emu = Emulator(download_seconds=0.3, resume_downloads=False)
    emu.start()
    try:
        port = emu.port
        sock = progress_socket(emu, LLAMA_1B)
        post(emu, f"/model/{LLAMA_1B}/download")
        sock.until("COMPLETED")
        post(emu, f"/model/{LLAMA_1B}/load")
        emu.stop()
        assert port_is_free(port)
        emu.start()
        assert emu.port == port
        m = get(emu, f"/model/{LLAMA_1B}").json()
        assert (m["downloaded"], m["loaded"]) == (True, True)
        for _ in range(3):  # quick kill/restart cycles
            emu.stop()
            emu.start()
        assert get(emu, "/.well-known/version").text == "12.3.4"
    finally:
        emu.stop()


def test_stop_mid_download_ends_it_like_a_dying_server(progress_socket):
    emu = Emulator(download_seconds=5, resume_downloads=False)
    emu.start()
    try:
        sock = progress_socket(emu, LLAMA_1B)
        post(emu, f"/model/{LLAMA_1B}/download")
        sock.until("IN-PROGRESS")
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < 2
        closed = sock.closed_within(5)
        assert closed.rcvd is not None and closed.rcvd.code == 1000
        assert emu.model(LLAMA_1B)["downloading"] is False
        emu.start()
        m = get(emu, f"/model/{LLAMA_1B}").json()
        assert (m["downloading"], m["downloaded"]) == (False, False)
        progress = get(emu, f"/model/{LLAMA_1B}/download/progress").json()
        assert progress["status"] == "UNKNOWN"  # in-memory progress died with the process
        post(emu, f"/model/{LLAMA_1B}/download")  # and a new download works
        assert get(emu, f"/model/{LLAMA_1B}").json()["downloading"] is True
    finally:
        emu.stop()


def test_stop_is_idempotent_and_safe_before_start():
    emu = Emulator()
    emu.stop()
    emu.start()
    emu.start()  # already running: no-op
    emu.stop()
    emu.stop()


def test_start_on_a_busy_port_raises():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        emu = Emulator(port=holder.getsockname()[1])
        with pytest.raises(OSError):
            emu.start()
        assert not emu.running


def test_python_api_works_while_stopped_and_running():
    emu = Emulator()
    emu.add_model({**emu.model(LLAMA_1B), "id": "offline-added"})
    with emu:
        assert get(emu, "/model/offline-added").status_code == 200
        emu.remove_model("offline-added")
        assert get(emu, "/model/offline-added").status_code == 410
    assert len(emu.models()) == 27


def test_works_inside_a_running_event_loop():
    """What a Jupyter kernel looks like: the caller's thread already runs a loop."""

    async def notebook_cell() -> tuple[int, bool]:
        emu = Emulator(download_seconds=0.2, resume_downloads=False)
        emu.start()
        try:
            async with httpx.AsyncClient(base_url=emu.url) as c:
                r = await c.post(f"/model/{LLAMA_1B}/download")
                assert r.json()["downloading"] is True
                await asyncio.sleep(0.5)
                downloaded = emu.model(LLAMA_1B)["downloaded"]
                return (await c.get("/models")).status_code, downloaded
        finally:
            emu.stop()

    assert asyncio.run(notebook_cell()) == (200, True)


def test_many_emulators_side_by_side():
    emus = [Emulator().start() for _ in range(3)]
    try:
        assert len({e.port for e in emus}) == 3
        post(emus[0], f"/model/{LLAMA_1B}/download")
        assert emus[1].model(LLAMA_1B)["downloading"] is False  # state is per instance
    finally:
        for e in emus:
            e.stop()


def test_concurrent_clients_from_threads(emulator: Emulator):
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            with httpx.Client(base_url=emulator.url) as c:
                for _ in range(20):
                    assert c.get("/models").status_code == 200
                    assert c.post(f"/model/{GEMMA_9B}/unload").status_code == 200
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_stop_cuts_requests_still_in_flight():
    emu = Emulator().start()
    emu.faults.latency(5)
    outcome: list[object] = []

    def slow_request() -> None:
        try:
            outcome.append(httpx.get(f"{emu.url}/models", timeout=10).status_code)
        except httpx.HTTPError as e:
            outcome.append(e)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    emu.stop()
    thread.join()
    assert time.monotonic() - started < 3
    assert isinstance(outcome[0], httpx.RemoteProtocolError)  # cut, as by a killed process
