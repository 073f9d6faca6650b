"""ModelManager in-process against the emulator, over real sockets (no kernel, no browser)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import _support
import pytest

from pieces_widgets import ModelManager
from pieces_widgets._connection import Supervisor
from pieces_widgets.emulator import Emulator
from pieces_widgets.errors import ModelNotFound, PiecesAPIError
from pieces_widgets.widget import ActionError

WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


send = _support.send


def model_id(mm: ModelManager, name: str) -> str:
    return next(row["id"] for row in mm.models if row["name"] == name)


def row(mm: ModelManager, mid: str) -> dict:
    return next(r for r in mm.models if r["id"] == mid)


def posts(emu: Emulator, suffix: str) -> int:
    return sum(1 for method, path in emu.requests if method == "POST" and path.endswith(suffix))


@pytest.fixture
def mm(emulator):
    manager = ModelManager(emulator.url, poll_interval=None)
    yield manager
    manager.close()


def test_constructor_returns_with_the_snapshot(mm, emulator):
    frame = mm.to_dataframe()
    assert len(frame) == len(mm.models) == 27
    assert mm.connection == "connected"
    assert mm.server["url"] == emulator.url
    assert mm.server["emulated"] is True
    assert mm.server["version"] == "12.3.4"
    assert mm.last_refresh > time.time() - 60
    states = {r["state"] for r in mm.models}
    assert {"cloud", "available", "downloaded", "loaded"} <= states


def test_unreachable_then_recovers_by_itself():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    mm = ModelManager(url, poll_interval=None)
    try:
        assert time.monotonic() - started < 10
        assert mm.connection == "unreachable"
        assert url in mm.server["tried"]
        assert mm.server["message"]
        frame = mm.to_dataframe()
        assert frame.empty and "downloaded" in frame.columns
        assert "unreachable" in repr(mm)
        with Emulator(port=port, download_seconds=0.5):
            eventually(lambda: mm.connection == "connected", what="reconnect")
            assert len(mm.to_dataframe()) == 27
    finally:
        mm.close()


def test_retry_reconnects_at_once(monkeypatch):
    """Retry connects now, not at the next backoff step (here a minute away, so the automatic
    reconnect cannot be what connects it)."""
    monkeypatch.setattr(Supervisor, "backoff_first", 60.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mm = ModelManager(f"http://127.0.0.1:{port}", poll_interval=None)
    try:
        assert mm.connection == "unreachable"
        due = eventually(lambda: mm.server.get("retry_at"), timeout=5, what="backoff scheduled")
        assert due - time.time() > 30  # the supervisor waits its (long) backoff
        with Emulator(port=port):
            send(mm, action="retry")
            eventually(lambda: mm.connection == "connected", timeout=10, what="retry")
            assert time.time() < due and len(mm.models) == 27
    finally:
        mm.close()


def test_download_twin_reports_progress_and_ends_downloaded(mm, emulator):
    mid = model_id(mm, "Llama 3.2 1B")
    seen = []
    handle = mm.download(mid).on_progress(seen.append)
    final = handle.wait(WAIT)
    assert final.status == "COMPLETED" and final.terminal
    pcts = [p.percentage for p in seen if p.percentage is not None]
    assert pcts == sorted(pcts) and pcts[-1] == 100
    assert row(mm, mid)["state"] == "downloaded"
    assert mm.to_dataframe().loc[mid, "downloaded"]
    assert mid not in mm.busy and mid not in mm.errors
    assert "Downloaded Llama 3.2 1B" in mm.notice["text"]
    assert handle.status == "done" and handle.duration > 0


def test_click_download_double_click_sends_one_request(mm, emulator):
    mid = model_id(mm, "Llama 3.2 1B")
    send(mm, action="download", id=mid)
    send(mm, action="download", id=mid)
    eventually(lambda: row(mm, mid)["state"] == "downloaded", what="download by click")
    assert posts(emulator, f"/model/{mid}/download") == 1


def test_progress_is_throttled_and_final_state_exact(emulator_factory):
    emu = emulator_factory(download_seconds=1.5, frame_interval=0.005, resume_downloads=False)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        mid = model_id(mm, "Llama 3.2 1B")
        frames, messages = [], []
        mm.observe(
            lambda c: messages.append((time.monotonic(), c["new"].get(mid))), names="progress"
        )
        mm.download(mid).on_progress(frames.append).wait(WAIT)
        assert len(frames) > 100  # the server sent far more frames than we forwarded
        running = [t for t, entry in messages if entry and not entry["terminal"]]
        span = max(running[-1] - running[0], 0.1)
        assert (len(running) - 1) / span <= 10.5, (len(running), span)
        shown = [entry["percentage"] for _, entry in messages if entry]
        assert shown == sorted(shown)  # never goes back
        final = [entry for _, entry in messages if entry and entry["terminal"]]
        assert final and final[-1]["percentage"] == 100 and final[-1]["status"] == "COMPLETED"
    finally:
        mm.close()


def test_cancel_mid_download_returns_row_to_available(emulator_factory):
    emu = emulator_factory(download_seconds=5)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        mid = model_id(mm, "Llama 3.2 1B")
        download = mm.download(mid)
        eventually(lambda: (mm.progress.get(mid) or {}).get("percentage") or 0 > 0, what="progress")
        send(mm, action="cancel", id=mid)
        final = download.wait(WAIT)
        assert final.status == "CANCELED"
        eventually(lambda: row(mm, mid)["state"] == "available", what="available after cancel")
        assert emu.model(mid)["downloading"] is False
    finally:
        mm.close()


def test_queue_limits_concurrent_downloads(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    mm = ModelManager(emu.url, poll_interval=None, max_downloads=1)
    try:
        first, second = model_id(mm, "Llama 3.2 1B"), model_id(mm, "Gemma 2 9B")
        h1, h2 = mm.download(first), mm.download(second)
        eventually(lambda: mm.busy.get(second) == "queued", timeout=5, what="second queued")
        assert posts(emu, f"/model/{second}/download") == 0
        h1.wait(WAIT)
        h2.wait(WAIT)
        assert row(mm, first)["state"] == row(mm, second)["state"] == "downloaded"
    finally:
        mm.close()


def test_cancel_a_queued_download_sends_nothing(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    mm = ModelManager(emu.url, poll_interval=None, max_downloads=1)
    try:
        first, second = model_id(mm, "Llama 3.2 1B"), model_id(mm, "Gemma 2 9B")
        h1, h2 = mm.download(first), mm.download(second)
        eventually(lambda: mm.busy.get(second) == "queued", timeout=5, what="queued")
        mm.cancel(second)
        h1.wait(WAIT)
        eventually(h2.done, timeout=5, what="queued download cancelled")
        assert h2.status == "cancelled"
        assert posts(emu, f"/model/{second}/download") == 0
        assert second not in mm.busy
    finally:
        mm.close()


def test_load_unload_unload_all_by_twin_and_click(mm, emulator):
    mid = model_id(mm, "Llama 3 8B")  # downloaded, not loaded
    mm.load(mid).wait(WAIT)
    assert row(mm, mid)["state"] == "loaded"
    send(mm, action="unload", id=mid)
    eventually(lambda: row(mm, mid)["state"] == "downloaded", what="unload by click")
    mm.load(mid).wait(WAIT)
    send(mm, action="unload-all")
    eventually(lambda: not any(r["loaded"] for r in mm.models), what="unload all")
    assert posts(emulator, "/models/unload") == 1


def test_delete_cache_by_click(mm):
    mid = model_id(mm, "Mistral 7B")
    send(mm, action="delete-cache", id=mid)
    eventually(lambda: row(mm, mid)["state"] == "available", what="cache deleted")


def test_create_update_delete_custom_model(mm, emulator):
    send(
        mm,
        action="create",
        fields={
            "name": "Class demo model",
            "unique": "demo:1b",
            "parameters": "1.5",
            "max_tokens": "4096",
            "cloud": False,
        },
    )
    eventually(lambda: any(r["name"] == "Class demo model" for r in mm.models), what="create")
    mid = model_id(mm, "Class demo model")
    assert row(mm, mid)["custom"] and row(mm, mid)["parameters"] == 1.5
    mm.update_model(mid, description="edited").wait(WAIT)
    assert row(mm, mid)["description"] == "edited"
    send(mm, action="update", id=mid, fields={"name": "Renamed demo"})
    eventually(lambda: row(mm, mid)["name"] == "Renamed demo", what="edit by click")
    mm.delete(mid).wait(WAIT)
    assert all(r["id"] != mid for r in mm.models)


def test_delete_refuses_non_custom_without_a_request(mm, emulator):
    mid = model_id(mm, "Llama 3 8B")
    handle = mm.delete(mid)
    with pytest.raises(ActionError, match="custom"):
        handle.wait(WAIT)
    assert "custom" in mm.errors[mid]
    assert posts(emulator, f"/models/{mid}/delete") == 0


def test_http_500_shows_on_that_row_and_retry_works(mm, emulator):
    emulator.faults.http_error("load", status=500, times=1, body="GPU on fire")
    mid = model_id(mm, "Llama 3 8B")
    other = model_id(mm, "Team Llama 3 8B (fine-tuned)")
    with pytest.raises(Exception, match="500"):
        mm.load(mid).wait(WAIT)
    assert "500" in mm.errors[mid] and "GPU on fire" in mm.errors[mid]
    assert "Traceback" not in mm.errors[mid]
    mm.load(other).wait(WAIT)  # the rest keeps working
    assert row(mm, other)["state"] == "loaded"
    mm.load(mid).wait(WAIT)  # retry works and clears the error
    assert row(mm, mid)["state"] == "loaded" and mid not in mm.errors


def test_vanished_model_410_removes_row_with_message(mm, emulator):
    """GET /model/{id} answers 410 for a removed id: Edit reads the model first."""
    mid = model_id(mm, "Team Llama 3 8B (fine-tuned)")  # custom, so Edit is offered
    emulator.remove_model(mid)
    handle = mm.update_model(mid, description="still there?")
    with pytest.raises(ModelNotFound) as err:
        handle.wait(WAIT)
    assert err.value.status == 410 and err.value.model_id == mid
    assert ("GET", f"/model/{mid}") in emulator.requests
    assert posts(emulator, f"/model/{mid}/update") == 0
    assert all(r["id"] != mid for r in mm.models)
    assert mid not in mm.errors  # the row is gone, the message stays in the notice
    assert mm.notice["level"] == "error"
    assert mm.notice["text"] == (
        "Edit failed: this model is no longer on the server (410). The list was refreshed."
    )


def test_vanished_model_load_shows_the_servers_500(mm, emulator):
    """POST .../load answers 500 "model was not found." for a removed id (not 410)."""
    mid = model_id(mm, "Llama 3 8B")
    emulator.remove_model(mid)
    with pytest.raises(PiecesAPIError) as err:
        mm.load(mid).wait(WAIT)
    assert type(err.value) is PiecesAPIError and err.value.status == 500
    assert all(r["id"] != mid for r in mm.models)
    assert mid not in mm.errors
    assert mm.notice["level"] == "error"
    assert mm.notice["text"] == "Load failed: the server answered 500: model was not found."


def test_handle_cancel_cancels_a_running_download_on_the_server(emulator_factory):
    """`h = mm.download(id); h.cancel()` stops the download on the server, as Cancel does."""
    emu = emulator_factory(download_seconds=5)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        mid = model_id(mm, "Llama 3.2 1B")
        handle = mm.download(mid)
        eventually(lambda: (mm.progress.get(mid) or {}).get("percentage") or 0, what="progress")
        assert emu.model(mid)["downloading"] is True
        assert handle.cancel() is True
        final = handle.wait(WAIT)
        assert final.status == "CANCELED" and final.terminal and handle.status == "done"
        assert emu.model(mid)["downloading"] is False
        assert posts(emu, f"/model/{mid}/download/cancel") == 1
        eventually(lambda: row(mm, mid)["state"] == "available", what="available after cancel")
        assert mid not in mm.errors and mid not in mm.busy
        assert mm.notice["text"] == "Download of Llama 3.2 1B cancelled."
        assert handle.cancel() is False  # already over
    finally:
        mm.close()


def test_handle_cancel_drops_a_queued_download_without_a_request(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    mm = ModelManager(emu.url, poll_interval=None, max_downloads=1)
    try:
        first, second = model_id(mm, "Llama 3.2 1B"), model_id(mm, "Gemma 2 9B")
        h1, h2 = mm.download(first), mm.download(second)
        eventually(lambda: mm.busy.get(second) == "queued", timeout=5, what="queued")
        assert h2.cancel() is True
        eventually(h2.done, timeout=5, what="queued download cancelled")
        assert h2.status == "cancelled"
        assert h1.wait(WAIT).status == "COMPLETED"
        assert posts(emu, f"/model/{second}/download") == 0
        assert posts(emu, f"/model/{second}/download/cancel") == 0
        assert second not in mm.busy
    finally:
        mm.close()


def test_failed_callback_is_caught_and_shown(mm):
    mid = model_id(mm, "Llama 3.2 1B")
    notices = []
    mm.observe(lambda change: notices.append(change["new"]), names="notice")

    def broken(progress):
        raise ValueError("my callback is broken")

    final = mm.download(mid).on_progress(broken).wait(WAIT)
    assert final.status == "COMPLETED"  # the download survived its callback
    shown = [n for n in notices if "my callback is broken" in n["text"]]
    assert shown and shown[0]["level"] == "error"


def test_injected_download_failure_shows_restart_hint(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    emu.faults.fail_download(at_percentage=50)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        mid = model_id(mm, "Llama 3.2 1B")
        with pytest.raises(ActionError, match="restart"):
            mm.download(mid).wait(WAIT)
        assert "restart from zero" in mm.errors[mid]
        assert row(mm, mid)["state"] == "available"
    finally:
        mm.close()


def test_download_started_elsewhere_shows_progress(emulator_factory):
    emu = emulator_factory(download_seconds=2.0)
    a = ModelManager(emu.url, poll_interval=0.3)
    b = ModelManager(emu.url, poll_interval=0.3)
    try:
        mid = model_id(a, "Llama 3.2 1B")
        a.download(mid)
        eventually(lambda: mid in b.progress, what="second widget sees the download")
        eventually(lambda: row(b, mid)["state"] == "downloaded", what="both converge")
        eventually(lambda: row(a, mid)["state"] == "downloaded", what="the first one too")
    finally:
        a.close()
        b.close()


def test_history_records_every_action(mm):
    mid = model_id(mm, "Llama 3 8B")
    mm.load(mid).wait(WAIT)
    with pytest.raises(ActionError):
        mm.delete(mid).wait(WAIT)
    hist = mm.history
    assert list(hist["action"]) == ["load", "delete"]
    assert list(hist["outcome"]) == ["done", "failed"]
    assert str(hist["time"].dt.tz) == "UTC"


def test_text_and_html_representations_escape_hostile_names(emulator_factory):
    emu = emulator_factory()
    hostile = dict(emu.model(next(iter(emu_ids(emu)))))
    hostile.update(id="hostile-1", name="<img src=x onerror=alert(1)>", custom=True)
    emu.add_model(hostile)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        bundle, _ = mm._repr_mimebundle_()
        assert "28 models" in bundle["text/plain"]
        assert "<img" not in bundle["text/html"]
        assert "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]
        assert "application/vnd.jupyter.widget-view+json" in bundle
    finally:
        mm.close()


def emu_ids(emu: Emulator) -> list[str]:
    import httpx

    return [m["id"] for m in httpx.get(f"{emu.url}/models").json()["iterable"]]


def test_filters_as_python_arguments(mm):
    assert len(mm.to_dataframe(filter="cloud")) == 13
    assert set(mm.to_dataframe(filter="loaded")["loaded"]) == {True}
    assert list(mm.to_dataframe(search="gemma")["name"]) == ["Gemma 2 9B", "Code Gemma 1.1 7B"]
    with pytest.raises(ValueError, match="unknown filter"):
        mm.to_dataframe(filter="nope")


def test_kernel_mode_awaits_and_refuses_blocking_wait(emulator):
    async def in_a_running_loop():
        mm = ModelManager(emulator.url, poll_interval=None)
        try:
            mid = model_id(mm, "Llama 3.2 1B")
            handle = mm.download(mid)
            with pytest.raises(RuntimeError, match="await"):
                handle.wait(1)
            final = await handle
            assert final.status == "COMPLETED"
            assert row(mm, mid)["state"] == "downloaded"
        finally:
            mm.close()

    asyncio.run(in_a_running_loop())
