"""watch_download over a real progress websocket: lifecycle, cancel, failure, dropped sockets,
stalls, restarts, and the "never wait forever on an idle socket" rule."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest

from pieces_widgets._watch import _decode_frame
from pieces_widgets.client import AsyncPiecesClient, PiecesClient
from pieces_widgets.errors import ModelNotFound, PiecesUnavailable
from pieces_widgets.models import Model
from pieces_widgets.progress import DownloadProgress, ProgressTracker


@pytest.fixture
def client(emulator) -> Iterator[PiecesClient]:
    with PiecesClient(emulator.url, timeout=5.0) as c:
        yield c


def pick(client: PiecesClient, state: str) -> Model:
    return next(m for m in client.list_models() if m.state == state and not m.custom)


def ws_connects(emulator, model_id: str) -> int:
    path = f"/model/{model_id}/download/progress"
    return sum(1 for method, p in emulator.requests if method == "WS" and p == path)


def assert_monotonic(items: list[DownloadProgress]) -> None:
    pcts = [p.percentage for p in items]
    assert pcts == sorted(pcts), pcts


def test_full_download(client, emulator):
    local = pick(client, "available")
    start = time.perf_counter()
    items = list(client.watch_download(local.id, start=True))
    assert time.perf_counter() - start < 5
    assert_monotonic(items)
    last = items[-1]
    assert last.terminal and last.status == "COMPLETED" and last.percentage == 100
    assert last.bytes_total == local.bytes and last.bytes_done == local.bytes
    assert not any(p.terminal for p in items[:-1])
    assert any(p.speed and p.speed > 0 for p in items) and any(p.eta for p in items)
    assert {p.model_id for p in items} == {local.id}
    # REST agrees once the iterator ended (final reconcile)
    assert client.get_model(local).state == "downloaded"
    # socket first, then REST
    order = [r for r in emulator.requests if local.id in r[1]]
    assert order[0][0] == "WS" and order[1] == ("POST", f"/model/{local.id}/download")


def test_watch_after_explicit_download(client):
    local = pick(client, "available")
    client.download(local)
    items = list(client.watch_download(local))
    assert items[-1].status == "COMPLETED"


def test_already_downloaded_yields_one_terminal_at_once(client):
    done = pick(client, "downloaded")
    start = time.perf_counter()
    items = list(client.watch_download(done.id))
    assert time.perf_counter() - start < 1.0
    assert len(items) == 1
    assert items[0].status == "COMPLETED" and items[0].terminal and items[0].percentage == 100


def test_never_started_yields_canceled_at_once(client):
    idle = pick(client, "available")
    start = time.perf_counter()
    items = list(client.watch_download(idle.id))
    assert time.perf_counter() - start < 1.0
    assert [(p.status, p.terminal) for p in items] == [("CANCELED", True)]


def test_cancel_mid_download(client, emulator):
    local = pick(client, "available")
    items: list[DownloadProgress] = []
    canceller = threading.Thread(target=client.cancel_download, args=(local.id,))
    for p in client.watch_download(local.id, start=True):
        items.append(p)
        if p.percentage >= 30 and not canceller.is_alive() and canceller.ident is None:
            canceller.start()  # cancel from elsewhere while we keep watching
    canceller.join()
    assert items[-1].status == "CANCELED" and items[-1].terminal
    assert items[-1].percentage < 100
    assert_monotonic(items)
    assert client.get_model(local).state == "available"


def test_failure_frame_ends_the_watch(client, emulator):
    emulator.faults.fail_download(at_percentage=50)
    local = pick(client, "available")
    items = list(client.watch_download(local.id, start=True))
    assert items[-1].status == "FAILED" and items[-1].terminal
    assert max(p.percentage for p in items) < 50
    assert client.get_model(local).state == "available"


def test_dropped_socket_reconnects_and_stays_monotonic(client, emulator):
    emulator.faults.drop_socket_after(4)
    local = pick(client, "available")
    items = list(client.watch_download(local.id, start=True, backoff=0.05))
    assert items[-1].status == "COMPLETED" and items[-1].percentage == 100
    assert_monotonic(items)
    assert ws_connects(emulator, local.id) >= 3
    gets = [r for r in emulator.requests if r == ("GET", f"/model/{local.id}")]
    assert len(gets) >= 2  # a reconcile after each reconnect, and the final one


def test_stall_is_flagged_then_clears(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    emu.faults.stall(1.2, at_percentage=40)
    with PiecesClient(emu.url) as c:
        local = pick(c, "available")
        items = list(c.watch_download(local.id, start=True, stall_after=0.4, poll_interval=0.1))
    stalled = [i for i, p in enumerate(items) if p.stalled]
    assert stalled, "a stall was expected"
    assert items[stalled[0]].percentage >= 40 and items[stalled[0]].status == "IN-PROGRESS"
    assert len(stalled) == 1  # reported once, not on every wake-up
    assert not items[stalled[0] + 1].stalled  # cleared by the next frame
    assert items[-1].status == "COMPLETED"
    assert_monotonic(items)


def test_server_restart_mid_download_ends_from_rest(emulator_factory):
    emu = emulator_factory(download_seconds=2.0)
    with PiecesClient(emu.url) as c:
        local = pick(c, "available")
        items = []
        for p in c.watch_download(local.id, start=True, backoff=0.1):
            items.append(p)
            if len(items) == 5:
                threading.Thread(target=lambda: (emu.stop(), emu.start())).start()
        # the restarted server forgot the download: REST says not downloading, not on disk
        assert items[-1].terminal and items[-1].status == "CANCELED"
        assert_monotonic(items)


def test_server_gone_raises_unavailable_after_retries(emulator_factory):
    emu = emulator_factory(download_seconds=3.0)
    with PiecesClient(emu.url) as c:
        local = pick(c, "available")
        start = time.perf_counter()
        with pytest.raises(PiecesUnavailable, match="gave up after 3"):
            for i, _p in enumerate(
                c.watch_download(local.id, start=True, backoff=0.05, max_reconnects=3)
            ):
                if i == 3:
                    threading.Thread(target=emu.stop).start()
        assert time.perf_counter() - start < 5


def test_no_reconnect_mode(client, emulator):
    emulator.faults.drop_socket_after(3)
    local = pick(client, "available")
    with pytest.raises(PiecesUnavailable, match="closed mid-download"):
        list(client.watch_download(local.id, start=True, reconnect=False))


def test_unknown_model(client):
    with pytest.raises(ModelNotFound):
        list(client.watch_download("no/such"))


def test_breaking_out_early_closes_cleanly(client, emulator):
    local = pick(client, "available")
    gen = client.watch_download(local.id, start=True)
    got = [next(gen) for _ in range(3)]
    gen.close()
    assert len(got) == 3
    # the client remains usable, and a new watch still completes
    assert list(client.watch_download(local.id))[-1].terminal


def test_rest_check_ends_a_watch_whose_terminal_frame_never_comes(emulator_factory):
    emu = emulator_factory(download_seconds=1.0)
    emu.faults.stall(4.0, at_percentage=30)  # frames stop for 4 s
    with PiecesClient(emu.url) as c:
        local = pick(c, "available")
        start = time.perf_counter()
        items = []
        for p in c.watch_download(local.id, start=True, stall_after=0.3, poll_interval=0.1):
            items.append(p)
            if p.stalled:  # meanwhile the server finished without telling the socket
                emu.add_model({**emu.model(local.id), "downloading": False, "downloaded": True})
        elapsed = time.perf_counter() - start
    assert items[-1].terminal and items[-1].status == "COMPLETED"
    assert elapsed < 3.0, elapsed  # well before the stall ends


# ----------------------------------------------------------------- the watcher's own machinery


def test_fast_frames_with_a_short_poll_interval_never_look_idle(emulator_factory):
    """One wake-up timer per poll_interval (not one per frame) must still see every frame."""
    emu = emulator_factory(download_seconds=1.0)
    with PiecesClient(emu.url) as c:
        local = pick(c, "available")
        items = list(c.watch_download(local.id, start=True, poll_interval=0.01, stall_after=None))
    assert items[-1].status == "COMPLETED" and items[-1].percentage == 100
    assert len(items) > 20 and not any(p.stalled for p in items)
    assert_monotonic(items)


def test_cancelling_the_consumer_is_not_mistaken_for_an_idle_wake_up(emulator_factory):
    emu = emulator_factory(download_seconds=30.0)

    async def main() -> str:
        async with AsyncPiecesClient(emu.url) as c:
            local = next(m for m in await c.list_models() if m.state == "available")
            seen = asyncio.Event()

            async def consume() -> None:
                async for _ in c.watch_download(local.id, start=True, poll_interval=0.05):
                    seen.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(seen.wait(), 10)
            await asyncio.sleep(0.2)  # several idle wake-ups may have fired meanwhile
            task.cancel()
            try:
                await asyncio.wait_for(task, 5)
            except asyncio.CancelledError:
                return "cancelled"
            return "finished"

    assert asyncio.run(main()) == "cancelled"


def test_a_progress_keeps_its_values_when_read_after_the_tracker_moved_on():
    """Speed and ETA are derived when first read: the tracker's later frames must not leak in."""
    clock = [100.0]
    early, late = (ProgressTracker("m", 10**9, 10.0, clock=lambda: clock[0]) for _ in range(2))
    read_at_once, read_later = [], []
    for i in range(40):
        frame = {"status": "IN-PROGRESS", "percentage": i * (1 + i % 3) / 4}
        p = early.update(frame)
        read_at_once.append((p.bytes_done, p.speed, p.eta, p.stalled))
        read_later.append(late.update(frame))
        clock[0] += 0.25 + (i % 5) / 10
    assert [(p.bytes_done, p.speed, p.eta, p.stalled) for p in read_later] == read_at_once
    assert read_later[-1] == early.last and hash(read_later[-1]) == hash(early.last)
    with pytest.raises(AttributeError):
        read_later[-1].speed = 0.0  # type: ignore[misc]
    assert DownloadProgress(**read_later[-1].to_dict()) == read_later[-1]


@pytest.mark.parametrize(
    "message",
    [
        '{"status":"IN-PROGRESS","percentage":12.5}',
        ' {"status": "COMPLETED"} \n',
        b'{"status":"IN-PROGRESS","percentage":1}',
        '{"a":1}{"b":2}',
        '{"a":1} x',
        "[1, 2]",
        "12",
        "",
        "{",
        b"\xff",
        '{"percentage": NaN}',
    ],
)
def test_frame_decoding_agrees_with_json_loads(message, caplog):
    try:
        expected = json.loads(message)
    except ValueError:
        expected = None
    if not isinstance(expected, dict):
        expected = None
    got = _decode_frame(message, "m")
    assert got == expected or (got is not None and json.dumps(got) == json.dumps(expected))
    assert ("not a JSON object" in caplog.text) is (expected is None)


def test_watcher_start_hands_over_the_post_answer_and_can_skip_the_end_get(emulator):
    """The widget's way: socket, POST (its answer replaces the first GET), frames, no final GET
    (the widget re-reads the catalogue itself); the frames are the same as with the GETs."""
    from pieces_widgets._watch import DownloadWatcher

    async def run() -> tuple[list[Model], list[DownloadProgress], str]:
        async with AsyncPiecesClient(emulator.url, timeout=5.0) as api:
            mid = next(m.id for m in await api.list_models() if m.state == "available")
            answers: list[Model] = []
            items = []
            watcher = DownloadWatcher(
                api, mid, start=True, on_start=answers.append, reconcile_end=False
            )
            async for p in watcher.stream():
                assert answers, "the POST answer comes before any frame"
                items.append(p)
            return answers, items, mid

    answers, items, mid = asyncio.run(run())
    assert len(answers) == 1 and answers[0].id == mid and answers[0].downloading
    assert items[-1].status == "COMPLETED" and items[-1].percentage == 100
    assert items[-1].bytes_total == answers[0].bytes and not any(p.terminal for p in items[:-1])
    assert_monotonic(items)
    order = [r for r in emulator.requests if mid in r[1]]
    assert order[0][0] == "WS" and order[1] == ("POST", f"/model/{mid}/download")
    assert ("GET", f"/model/{mid}") not in order  # neither before the frames nor after
