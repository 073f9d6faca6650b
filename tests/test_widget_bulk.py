"""Several models at once, over the emulator's real sockets: every per-model twin takes a list of
ids and returns ONE handle whose result is id -> outcome; one failure does not stop the others;
downloads share the queue; commands with `ids` and `unload_first` reach the same twins."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

import _support
import pytest

from pieces_widgets import ModelManager
from pieces_widgets.emulator import load_catalog
from pieces_widgets.errors import PiecesAPIError
from pieces_widgets.handles import ActionHandle
from pieces_widgets.widget import ActionError

GIB = 1 << 30
WAIT = 30


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


send = _support.send


def ids(mm: ModelManager, *names: str) -> list[str]:
    rows = {r["name"]: r["id"] for r in mm.models}
    return [rows[n] for n in names]


def row(mm: ModelManager, mid: str) -> dict:
    return next(r for r in mm.models if r["id"] == mid)


def notice_with(mm: ModelManager, text: str) -> dict:
    return eventually(lambda: text in mm.notice.get("text", "") and mm.notice, what=text)


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(
        download_seconds=1.0, device={"hardware": {"ram": {"memory": 16 * GIB}}}
    )


@pytest.fixture
def mm(emu):
    manager = ModelManager(emu.url, poll_interval=None)
    yield manager
    manager.close()


DOWNLOADED = ("Llama 3 8B", "Mistral 7B", "Qwen 2.5 Coder 7B")


def test_bulk_delete_cache_one_handle_one_notice(mm):
    targets = ids(mm, *DOWNLOADED)
    handle = mm.delete_cache([*targets, targets[0]])  # an id twice acts once
    assert isinstance(handle, ActionHandle) and handle.model_ids == tuple(targets)
    assert "3 models" in repr(handle)
    result = handle.wait(WAIT)
    assert list(result) == targets and all(v is None for v in result.values())
    assert handle.status == "done"
    assert not any(row(mm, t)["downloaded"] for t in targets)
    freed = 4692669824 + 4144753664 + 4457200640
    assert mm.notice["text"] == f"Deleted the cache of 3 models ({freed / 1e9:.2f} GB freed)."
    assert mm.notice["level"] == "info"
    assert mm.history["action"].tolist()[-3:] == ["delete_cache"] * 3


def test_one_model_of_a_batch_fails_the_others_go_on(mm, emu):
    targets = ids(mm, *DOWNLOADED)
    emu.faults.http_error("delete_cache", status=500, times=1, body="disk on fire")
    result = mm.delete_cache(targets).wait(WAIT)
    failed = {i: r for i, r in result.items() if isinstance(r, Exception)}
    assert len(failed) == 1, result
    [(bad, exc)] = failed.items()
    assert isinstance(exc, PiecesAPIError) and exc.status == 500 and "disk on fire" in exc.text
    for t in targets:  # the others went on: their files are gone; the failed one still has them
        assert row(mm, t)["downloaded"] is (t == bad)
    assert "disk on fire" in mm.errors[bad]  # the row says why
    text = notice_with(mm, "1 failed")["text"]
    assert text.startswith("Deleted the cache of 2 models (")
    assert f"1 failed: {row(mm, bad)['name']}: Delete cache failed: the server answered 500" in text
    assert mm.notice["level"] == "error"


def test_bulk_download_goes_through_the_queue(emu):
    mm = ModelManager(emu.url, poll_interval=None, max_downloads=1)
    try:
        targets = ids(mm, "Llama 3.2 1B", "Granite Code 3B")
        handle = mm.download(targets)
        eventually(  # one slot: the second waits in the queue while the first runs
            lambda: row(mm, targets[0])["downloading"] and mm.busy.get(targets[1]) == "queued",
            what="first running, second queued",
        )
        result = handle.wait(WAIT)
        assert set(result) == set(targets)
        assert all(r.status == "COMPLETED" for r in result.values())
        assert all(row(mm, t)["downloaded"] for t in targets)
        assert notice_with(mm, "Downloaded 2 models")["text"] == (
            "Downloaded 2 models (2.80 GB downloaded)."
        )
    finally:
        mm.close()


def test_bulk_cancel_calls_off_every_download(mm):
    targets = ids(mm, "Llama 3.2 1B", "Granite Code 3B")
    handle = mm.download(targets)
    eventually(lambda: all(row(mm, t)["downloading"] for t in targets), what="both running")
    assert handle.cancel() is True
    result = handle.wait(WAIT)
    assert [r.status for r in result.values()] == ["CANCELED", "CANCELED"]
    assert not any(row(mm, t)["downloaded"] for t in targets)
    assert notice_with(mm, "cancelled")["text"] == "Downloaded 0 models; 2 cancelled."


def test_download_with_unload_first_and_bulk_load_commands(big_emu):
    mm = ModelManager(big_emu.url, poll_interval=None)
    try:
        gemma, llama = ids(mm, "Gemma 2 9B", "Llama 3.2 3B")
        send(mm, action="unload", ids=[llama])  # free the RAM, then take it again in bulk
        eventually(lambda: not row(mm, llama)["loaded"], what="unloaded")
        send(mm, action="load", ids=[llama])
        eventually(lambda: row(mm, llama)["loaded"], what="loaded again")
        assert notice_with(mm, "Loaded 1 model")["text"] == "Loaded 1 model (3.22 GB RAM)."
        eventually(lambda: row(mm, gemma)["fit"] == "fits", what="gemma fits")
        send(mm, action="download", id=gemma, unload_first=True)  # nothing in its way
        eventually(lambda: row(mm, gemma)["downloaded"], what="downloaded")
        assert row(mm, llama)["loaded"]  # nothing was unloaded: the fit named nobody
    finally:
        mm.close()


def test_bulk_commands_reach_the_twins(mm):
    targets = ids(mm, *DOWNLOADED)
    send(mm, action="delete-cache", ids=targets[:2])
    eventually(lambda: not any(row(mm, t)["downloaded"] for t in targets[:2]), what="deleted")
    notice_with(mm, "Deleted the cache of 2 models")
    loaded = ids(mm, "Llama 3.2 3B", "Potion Base 8M (Embeddings)")
    send(mm, action="unload", ids=loaded)
    eventually(lambda: not any(row(mm, t)["loaded"] for t in loaded), what="unloaded")
    assert notice_with(mm, "Unloaded 2 models")["text"] == "Unloaded 2 models (3.29 GB RAM freed)."
    send(mm, action="unload", ids="not a list")
    assert "needs `ids` as a list" in notice_with(mm, "Could not run")["text"]


def test_an_empty_list_is_an_empty_result(mm):
    assert mm.unload([]).wait(WAIT) == {}


@pytest.fixture
def big_emu(emulator_factory):
    catalog = load_catalog(None)
    for entry in catalog:
        if entry["name"] == "Phi-4 14B":  # 12 GiB: fits 16 GiB x 0.8 only alone
            entry["downloaded"] = True
    return emulator_factory(
        download_seconds=1.0, device={"hardware": {"ram": {"memory": 16 * GIB}}}, catalog=catalog
    )


def test_load_with_unload_first_unloads_what_the_fit_names(big_emu):
    mm = ModelManager(big_emu.url, poll_interval=None)
    try:
        phi, llama = ids(mm, "Phi-4 14B", "Llama 3.2 3B")
        eventually(lambda: row(mm, phi)["fit"] == "unload", what="the unload fit")
        assert row(mm, phi)["fit_unload"] == [llama]
        send(mm, action="load", id=phi, unload_first=True)
        eventually(lambda: row(mm, phi)["loaded"], what="phi loaded")
        assert not row(mm, llama)["loaded"]  # unloaded first
        assert row(mm, ids(mm, "Potion Base 8M (Embeddings)")[0])["loaded"]  # not in the way
        assert [p for m, p in big_emu.requests if m == "POST" and "load" in p][-2:] == [
            f"/model/{llama}/unload",
            f"/model/{phi}/load",
        ]
    finally:
        mm.close()


def test_unload_first_that_fails_does_not_act(big_emu):
    mm = ModelManager(big_emu.url, poll_interval=None)
    try:
        phi = ids(mm, "Phi-4 14B")[0]
        eventually(lambda: row(mm, phi)["fit"] == "unload", what="the unload fit")
        big_emu.faults.http_error("unload", status=500, times=1, body="busy")
        handle = mm.load(phi, unload_first=True)
        with pytest.raises(ActionError, match=r"could not unload Llama 3\.2 3B first"):
            handle.wait(WAIT)
        assert not row(mm, phi)["loaded"]
        assert "could not unload Llama 3.2 3B first" in mm.errors[phi]
    finally:
        mm.close()


def test_cancel_while_unloading_first_drops_the_download(emu):
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        phi, llama = ids(mm, "Phi-4 14B", "Llama 3.2 3B")
        eventually(lambda: row(mm, phi)["fit"] == "unload", what="the unload fit")
        emu.faults.latency(1.5, route="unload")
        handle = mm.download(phi, unload_first=True)
        eventually(lambda: mm.busy.get(llama) == "unload", what="unloading first")
        assert mm.busy.get(phi) == "queued"  # queued while the way is cleared
        mm.cancel(phi).wait(WAIT)
        with pytest.raises(CancelledError):
            handle.wait(WAIT)
        time.sleep(2.0)  # the unload lands; the dropped download must not start after it
        assert not any(
            m == "POST" and p.endswith(f"/model/{phi}/download") for m, p in emu.requests
        )
        assert not row(mm, phi)["downloading"] and not row(mm, phi)["downloaded"]
    finally:
        mm.close()
