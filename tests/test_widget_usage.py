"""Loading from the widget counts one use of the model (`reuse`), as Pieces' own clients do; a
refused or slow count never turns a done load into a failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import _support
import pytest

from pieces_widgets import ModelManager
from pieces_widgets.emulator import Emulator

LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # local, downloaded
LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, not downloaded
WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


send = _support.send

INCREMENT = ("POST", f"/model/{LLAMA_8B}/scores/increment")


def reuse(emu: Emulator, model_id: str) -> int:
    return (emu.model(model_id).get("score") or {}).get("reuse", 0)


def used(mm: ModelManager, model_id: str) -> str:
    return str(mm.to_dataframe()["used"][model_id])


@pytest.fixture
def emu(emulator_factory) -> Emulator:
    return emulator_factory(resume_downloads=False)


@pytest.fixture
def mm(emu) -> Iterator[ModelManager]:
    manager = ModelManager(emu.url, poll_interval=None)
    yield manager
    manager.close()


def test_a_load_counts_one_reuse_and_the_used_column_follows(mm, emu):
    assert used(mm, LLAMA_8B) == "<NA>"
    mm.load(LLAMA_8B).wait(WAIT)
    eventually(lambda: reuse(emu, LLAMA_8B) == 1, what="reuse counted")
    assert emu.requests.count(INCREMENT) == 1
    eventually(lambda: used(mm, LLAMA_8B) == "1", what="used column")  # pushed by the server
    mm.unload(LLAMA_8B).wait(WAIT)
    send(mm, action="load", id=LLAMA_8B)  # the Load button does the same
    eventually(lambda: reuse(emu, LLAMA_8B) == 2, what="second reuse")
    eventually(lambda: used(mm, LLAMA_8B) == "2", what="used column again")


def test_only_a_successful_load_counts(mm, emu):
    with pytest.raises(Exception):  # noqa: B017 - the server refuses loading a model not downloaded
        mm.load(LLAMA_1B).wait(WAIT)
    time.sleep(0.3)
    assert not [r for r in emu.requests if r[1].endswith("/scores/increment")]
    mm.unload(LLAMA_8B).wait(WAIT)
    time.sleep(0.3)
    assert not [r for r in emu.requests if r[1].endswith("/scores/increment")]


def test_a_refused_count_is_ignored_and_the_load_is_done(mm, emu, caplog):
    emu.faults.http_error("score", status=500, body="no scores today")
    notices: list[dict[str, Any]] = []
    mm.observe(lambda change: notices.append(dict(change["new"])), names="notice")
    with caplog.at_level(logging.DEBUG, logger="pieces_widgets"):
        handle = mm.load(LLAMA_8B)
        handle.wait(WAIT)
        eventually(lambda: INCREMENT in emu.requests, what="count asked")
        eventually(lambda: "no scores today" in caplog.text, what="logged")
    assert handle.status == "done" and emu.model(LLAMA_8B)["loaded"] is True
    record = next(r for r in caplog.records if "no scores today" in r.getMessage())
    assert record.levelno == logging.DEBUG
    assert "score" not in emu.model(LLAMA_8B)
    assert mm.errors == {} and not [n for n in notices if n.get("level") == "error"]
    assert list(mm.history["outcome"]) == ["done"]


def test_a_slow_count_never_delays_the_load(emulator_factory):
    emu = emulator_factory(resume_downloads=False)
    emu.faults.latency(3.0, route="score")
    mm = ModelManager(emu.url, poll_interval=None, timeout=1.0)
    try:
        started = time.monotonic()
        mm.load(LLAMA_8B).wait(WAIT)
        assert time.monotonic() - started < 1.0  # not waiting for the count (which times out)
        assert emu.model(LLAMA_8B)["loaded"] is True
        eventually(lambda: INCREMENT in emu.requests, what="count asked")
        time.sleep(1.3)  # the count timed out meanwhile: still nothing to see
        assert mm.errors == {} and list(mm.history["outcome"]) == ["done"]
    finally:
        mm.close()
