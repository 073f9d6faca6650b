"""The client around the model API, over real sockets: device information, score increments, the
local runtime (Ollama) and the pushed catalogue (`watch_models`), with their faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from pieces_widgets._models_stream import parse_identifiers
from pieces_widgets._wire_os import is_loopback
from pieces_widgets.client import (
    AsyncPiecesClient,
    ModelsChange,
    PiecesClient,
    PiecesStreamUnsupported,
)
from pieces_widgets.errors import ModelNotFound, PiecesAPIError, PiecesError, PiecesUnavailable
from pieces_widgets.runtime import parse_deployment, parse_runtime_status

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, not downloaded
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # local, downloaded
CUSTOM = "3ffcfcf5-1c40-5abc-aabc-aa4856d9d001"
GIB = 2**30


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(download_seconds=0.3, frame_interval=0.03, resume_downloads=False)


@pytest.fixture
def client(emu) -> Iterator[PiecesClient]:
    with PiecesClient(emu.url, timeout=5.0) as c:
        yield c


# --------------------------------------------------------------------------- device information


def test_device_info_reads_the_default_machine_in_bytes(client):
    info = client.device_info()
    assert info.ram == 16 * GIB and info.ram_raw == 16 * GIB and info.ram_unit == "bytes"
    assert len(info.gpus) == 1 and info.gpus[0].llm is True and info.gpus[0].memory == 8 * GIB
    assert info.name and not info.unified


def test_device_info_unit_decided_by_magnitude_and_malformed_fields_ignored(client, emu):
    emu.device = {"hardware": {"ram": {"memory": 32}, "gpus": [{"memory": 8, "shared_memory": 1}]}}
    info = client.device_info()
    assert (info.ram, info.ram_raw, info.ram_unit) == (32 * GIB, 32, "GB")
    assert info.gpus[0].memory == 8 * GIB and info.gpus[0].shared_memory is None
    assert any("shared_memory" in w for w in info.warnings)
    emu.device = {"hardware": {"ram": {"memory": "lots"}}}
    info = client.device_info()
    assert info.ram is None and info.ram_raw is None and info.warnings
    emu.device = {"hardware": ["not", "an", "object"]}
    assert client.device_info().ram is None


def test_device_info_errors_are_ours(client, emu):
    emu.faults.http_error("device", status=404, times=1, body="Not Found")
    with pytest.raises(PiecesAPIError) as info:
        client.device_info()
    assert info.value.status == 404 and info.value.path == "/os/device/information"


def test_loopback_urls():
    assert is_loopback("http://127.0.0.1:1000") and is_loopback("http://localhost:1")
    assert is_loopback("http://[::1]:39300") and is_loopback("http://127.5.0.1")
    assert not is_loopback("http://192.168.1.4:1000") and not is_loopback("http://pieces.example")
    assert not is_loopback(None) and not is_loopback("")


# --------------------------------------------------------------------------- usage


def test_increment_score_counts_reuse(client, emu):
    assert "score" not in emu.model(LLAMA_8B)
    assert client.increment_score(LLAMA_8B) is None
    client.increment_score(LLAMA_8B, kind="reuse")
    score = emu.model(LLAMA_8B)["score"]
    assert score["reuse"] == 2 and score["manual"] == 0
    assert ("POST", f"/model/{LLAMA_8B}/scores/increment") in emu.requests
    client.increment_score(LLAMA_8B, kind="searched")
    assert emu.model(LLAMA_8B)["score"]["searched"] == 1
    with pytest.raises(ValueError):
        client.increment_score(LLAMA_8B, kind="manual")
    with pytest.raises(PiecesAPIError) as info:
        client.increment_score("no-such-model")
    assert info.value.status == 500


def test_increment_score_refused(client, emu):
    emu.faults.http_error("score", status=500, times=1)
    with pytest.raises(PiecesAPIError):
        client.increment_score(LLAMA_8B)
    client.increment_score(LLAMA_8B)
    assert emu.model(LLAMA_8B)["score"]["reuse"] == 1


# --------------------------------------------------------------------------- the local runtime


def test_runtime_states(emulator_factory):
    for state, version in (
        ("installed", "0.6.5"),
        ("missing", None),
        ("update-required", "0.3.14"),
    ):
        emu = emulator_factory(ollama=state)
        with PiecesClient(emu.url) as c:
            status = c.runtime_status()
        assert status.state == state and status.version == version
        assert status.percentage is None and status.error is None and status.inference is True


def test_install_runtime_progresses_until_installed(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=0.5, frame_interval=0.05)
    with PiecesClient(emu.url) as c:
        dep = c.install_runtime()
        assert dep.status == "INITIALIZED" and dep.running and dep.version == "0.6.5" and dep.id
        seen = []
        deadline = time.monotonic() + 10
        while (status := c.runtime_status()).state == "installing":
            seen.append(status.percentage)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert status.state == "installed" and status.version == "0.6.5"
        assert seen and seen == sorted(seen)
        assert c.install_runtime().status == "COMPLETED"  # nothing to do: the installation


def test_update_runtime(emulator_factory):
    emu = emulator_factory(ollama="update-required", runtime_seconds=0.3, frame_interval=0.05)
    with PiecesClient(emu.url) as c:
        assert c.update_runtime().running
        deadline = time.monotonic() + 10
        while c.runtime_status().state == "updating":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.runtime_status().state == "installed"
        assert c.runtime_status().version == "0.6.5"


def test_failed_and_cancelled_installs_are_reported(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=0.4, frame_interval=0.05)
    emu.faults.fail_runtime(50, status="CANCELED")
    with PiecesClient(emu.url) as c:
        c.install_runtime()
        deadline = time.monotonic() + 10
        while (status := c.runtime_status()).state == "installing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert status.state == "missing" and status.installing.status == "CANCELED"
        assert status.error and "cancelled" in status.error


def test_runtime_status_refused_by_an_older_server(client, emu):
    emu.faults.http_error("ollama_status", status=404, times=1, body="Not Found")
    with pytest.raises(PiecesAPIError) as info:
        client.runtime_status()
    assert info.value.status == 404


def test_runtime_parser_is_tolerant():
    assert parse_runtime_status(["x"]).state == "missing"
    odd = parse_runtime_status(
        {
            "installation": {"version": 3, "status": "completed", "percentage": 500},
            "installing": "soon",
            "recommendation": {"inference": "yes"},
        }
    )
    assert odd.state == "installed" and odd.version is None and odd.installing is None
    assert odd.installation.status == "COMPLETED" and odd.installation.percentage is None
    assert odd.inference is None and len(odd.warnings) >= 3
    reset = parse_runtime_status({"installation": {"version": "1", "status": "RESET"}})
    assert reset.state == "missing"
    running = parse_runtime_status(
        {"installing": {"version": "1", "status": "IN-PROGRESS", "percentage": 40}}
    )
    assert running.state == "installing" and running.percentage == 40
    failed = parse_runtime_status(
        {"installing": {"version": "1", "status": "FAILED", "percentage": 40}}
    )
    assert failed.state == "missing" and failed.error == "The runtime install failed at 40 %."
    assert parse_deployment(None).version is None


# --------------------------------------------------------------------------- watch_models


def test_watch_models_catalogue_then_changes_and_deletions(client, emu):
    it = client.watch_models()
    try:
        first = next(it)
        assert first.kind == "catalogue" and first.full and first.deleted == ()
        assert list(first.ids) == [m["id"] for m in emu.models()]
        client.load(LLAMA_8B)
        assert next(it) == ModelsChange("changed", (LLAMA_8B,), ())
        emu.add_model({**emu.model(CUSTOM), "id": "elsewhere", "unique": "elsewhere"})
        assert next(it) == ModelsChange("changed", ("elsewhere",), ())
        emu.remove_model("elsewhere")
        assert next(it) == ModelsChange("changed", (), ("elsewhere",))
    finally:
        it.close()
    assert ("WS", "/models/stream/identifiers") in emu.requests


def test_watch_models_async_twin(emu):
    async def main() -> list[ModelsChange]:
        events = []
        async with AsyncPiecesClient(emu.url) as c:
            stream = c.watch_models()
            events.append(await anext(stream))
            await c.unload(LLAMA_8B)
            await c.load(LLAMA_8B)
            events.append(await anext(stream))
            await stream.aclose()
        return events

    first, change = asyncio.run(asyncio.wait_for(main(), 20))
    assert first.kind == "catalogue" and len(first.ids) == 27
    assert change.kind == "changed" and change.ids == (LLAMA_8B,)


def test_watch_models_refused_upgrade_raises_stream_unsupported(client, emu):
    emu.faults.http_error("identifiers", status=404, body="Not Found")
    with pytest.raises(PiecesStreamUnsupported) as info:
        next(client.watch_models())
    assert info.value.status == 404 and info.value.text == "Not Found"
    assert isinstance(info.value, PiecesError)


def test_watch_models_reconnects_after_a_drop_and_asks_for_a_full_reread(client, emu):
    emu.faults.drop_socket_after(2, route="identifiers")
    it = client.watch_models(backoff=0.05)
    try:
        assert next(it).kind == "catalogue"
        client.load(LLAMA_8B)
        assert next(it) == ModelsChange("changed", (LLAMA_8B,), ())
        # the socket is dropped now; a change made meanwhile is never sent as a change...
        emu.remove_model(CUSTOM)
        resync = next(it)
        # ...so the reconnect says: re-read everything (and the catalogue shows it is gone)
        assert resync.kind == "resync" and resync.full and CUSTOM not in resync.ids
        assert len(resync.ids) == 26
        client.unload(LLAMA_8B)
        assert next(it) == ModelsChange("changed", (LLAMA_8B,), ())
    finally:
        it.close()
    ws = [r for r in emu.requests if r == ("WS", "/models/stream/identifiers")]
    assert len(ws) >= 2


def test_watch_models_gives_up_when_the_server_is_gone(emu):
    with PiecesClient(emu.url) as c:
        it = c.watch_models(max_reconnects=2, backoff=0.05)
        assert next(it).kind == "catalogue"
        emu.stop()
        started = time.monotonic()
        with pytest.raises(PiecesUnavailable) as info:
            next(it)
        assert "gave up after 2 tries" in str(info.value)
        assert time.monotonic() - started < 5


def test_watch_models_without_reconnect_raises_on_a_drop(client, emu):
    emu.faults.drop_socket_after(1, route="identifiers")
    it = client.watch_models(reconnect=False)
    assert next(it).kind == "catalogue"
    with httpx.Client() as http:
        http.post(f"{emu.url}/model/{LLAMA_8B}/unload")
    with pytest.raises(PiecesUnavailable):
        next(it)


def test_identifier_frames_are_read_tolerantly(caplog):
    assert parse_identifiers("not json") is None
    assert parse_identifiers('{"nothing": 1}') is None
    frame = (
        '{"iterable": [{"model": {"id": "a"}}, {"model": {"id": 3}}, "x", {"asset": {"id": "b"}},'
        ' {"model": {"id": "c"}, "deleted": true}, {"model": {"id": "a"}, "deleted": true}]}'
    )
    assert parse_identifiers(frame) == ([], ["c", "a"])
    assert parse_identifiers('{"iterable": []}') == ([], [])


def test_get_model_of_a_deleted_id_is_model_not_found(client, emu):
    emu.remove_model(CUSTOM)
    with pytest.raises(ModelNotFound):
        client.get_model(CUSTOM)


def test_watch_models_times_out_when_no_catalogue_comes():
    """A server that accepts the upgrade but never sends the first frame is a down stream."""
    from websockets.asyncio.server import serve

    from pieces_widgets.errors import PiecesTimeout

    async def main() -> None:
        async def silent(ws) -> None:
            await ws.wait_closed()  # sends nothing until the client gives up

        async with serve(silent, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with AsyncPiecesClient(f"http://127.0.0.1:{port}", timeout=0.5) as c:
                started = time.monotonic()
                with pytest.raises(PiecesTimeout, match=r"no catalogue within 0\.5 s"):
                    await anext(c.watch_models())
                assert time.monotonic() - started < 3

    asyncio.run(asyncio.wait_for(main(), 20))
