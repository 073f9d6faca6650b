"""TraitBatcher on its own: batched, throttled trait writes on a real loop and a real widget."""

from __future__ import annotations

import asyncio
import itertools
import time
from types import SimpleNamespace

import ipywidgets
import traitlets

from pieces_widgets._staging import TraitBatcher
from pieces_widgets.runner import Runner


class Traits(ipywidgets.DOMWidget):
    progress = traitlets.Dict().tag(sync=True)
    notice = traitlets.Dict().tag(sync=True)
    busy = traitlets.Dict().tag(sync=True)


def frame(pct: float, status: str = "IN-PROGRESS") -> SimpleNamespace:
    return SimpleNamespace(
        status=status, percentage=pct, bytes_done=int(pct * 10), bytes_total=1000, speed=5.0,
        eta=1.0, stalled=False, terminal=status in ("COMPLETED", "FAILED", "CANCELED"),
    )  # fmt: skip


def test_direct_mode_writes_at_once_then_batches():
    widget = Traits()
    batch = TraitBatcher(widget, Runner.for_caller(), 0.2)
    batch.stage("busy", {"m": "load"})
    assert widget.busy == {"m": "load"}  # the constructor's writes are immediate
    batch.direct = False
    batch.stage("busy", {"m": "unload"})
    assert batch.get("busy") == {"m": "unload"}  # what the frontend will see after the flush
    deadline = time.monotonic() + 5
    while widget.busy != {"m": "unload"} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert widget.busy == {"m": "unload"}  # the flush ran on the loop by itself


def test_flushes_are_throttled_and_only_the_newest_value_goes_out():
    widget = Traits()
    runner = Runner.for_caller()
    batch = TraitBatcher(widget, runner, 0.2)
    batch.direct = False
    sent: list[tuple[float, dict]] = []
    widget.observe(lambda c: sent.append((time.monotonic(), c["new"])), names="notice")

    async def burst() -> float:
        started = time.monotonic()
        for i in range(60):  # 60 writes over about 0.6 s
            batch.stage("notice", {"seq": i})
            await asyncio.sleep(0.01)
        await batch.synced()
        return time.monotonic() - started

    took = asyncio.run_coroutine_threadsafe(burst(), runner.loop).result(10)
    assert sent[-1][1] == {"seq": 59}  # nothing lost: the newest value arrived
    assert 2 <= len(sent) <= took / 0.2 + 2, (len(sent), took)  # one flush per 0.2 s, not 60
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
    assert all(gap >= 0.15 for gap in gaps), gaps


def test_progress_keeps_the_newest_frame_and_never_goes_back():
    widget = Traits()
    runner = Runner.for_caller()
    batch = TraitBatcher(widget, runner, 0.05)
    batch.direct = False

    async def frames() -> None:
        batch.push_progress("a", frame(10))
        batch.push_progress("a", frame(40))
        batch.push_progress("b", frame(5))
        await batch.synced()
        assert widget.progress["a"]["percentage"] == 40
        batch.push_progress("a", frame(30))  # late, out of order: not shown as going back
        await batch.synced()
        assert widget.progress["a"]["percentage"] == 40
        batch.push_progress("a", frame(100, "COMPLETED"))
        batch.keep_progress({"a"})  # b's download is over
        await batch.synced()

    asyncio.run_coroutine_threadsafe(frames(), runner.loop).result(10)
    assert set(widget.progress) == {"a"}
    assert widget.progress["a"]["status"] == "COMPLETED" and widget.progress["a"]["terminal"]


def test_synced_returns_at_once_when_nothing_is_staged():
    widget = Traits()
    runner = Runner.for_caller()
    batch = TraitBatcher(widget, runner, 5.0)  # a flush would take seconds
    batch.direct = False
    started = time.monotonic()
    asyncio.run_coroutine_threadsafe(batch.synced(), runner.loop).result(10)
    assert time.monotonic() - started < 1.0


def test_stage_lazy_builds_only_the_last_value_once():
    widget = Traits()
    runner = Runner.for_caller()
    batch = TraitBatcher(widget, runner, 0.05)
    built: list[int] = []

    def make(seq: int):
        def build() -> dict:
            built.append(seq)
            return {"seq": seq}

        return build

    batch.stage_lazy("notice", make(0))  # direct mode (the constructor): built at once
    assert built == [0] and widget.notice == {"seq": 0}
    batch.direct = False

    async def stagings() -> None:
        for seq in range(1, 6):  # five stagings before one flush
            batch.stage_lazy("notice", make(seq))
        assert built == [0]  # nothing built yet
        assert batch.get("notice") == {"seq": 5}  # a read builds the newest, once
        assert batch.get("notice") == {"seq": 5}
        batch.stage_lazy("notice", make(6))
        await batch.synced()

    asyncio.run_coroutine_threadsafe(stagings(), runner.loop).result(10)
    assert built == [0, 5, 6]  # 1-4 were superseded before anyone read them
    assert widget.notice == {"seq": 6}
