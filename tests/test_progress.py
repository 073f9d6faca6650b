"""ProgressTracker: bytes, speed, ETA, stall and terminal rules, with a fake clock."""

from __future__ import annotations

import math
import pickle

import pytest

from pieces_widgets.progress import (
    DownloadProgress,
    ProgressTracker,
    format_bytes,
    is_terminal,
)

GB = 1_000_000_000


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> float:
        self.t += dt
        return self.t


def frame(status="IN-PROGRESS", percentage=None):
    f = {"schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}, "status": status}
    if percentage is not None:
        f["percentage"] = percentage
    return f


def tracker(total=GB, stall_after=10.0, **kw):
    clock = FakeClock()
    return ProgressTracker("m1", total, stall_after, clock=clock, now=clock(), **kw), clock


def test_bytes_speed_and_eta_from_percentages():
    t, clock = tracker()
    t.update(frame("INITIALIZED"))
    for pct in range(0, 51, 5):  # 5 % per second = 50 MB/s
        p = t.update(frame(percentage=pct))
        clock.advance(1.0)
    assert p.percentage == 50.0
    assert p.bytes_done == GB // 2 and p.bytes_total == GB
    assert p.speed == pytest.approx(50e6, rel=0.01)
    assert p.eta == pytest.approx(10.0, rel=0.01)
    assert not p.stalled and not p.terminal
    assert p.model_id == "m1" and p.status == "IN-PROGRESS"


def test_no_speed_until_measurable_and_none_without_size():
    t, clock = tracker(total=None)
    p = t.update(frame(percentage=10))
    assert p.speed is None and p.eta is None and p.bytes_done is None
    clock.advance(1.0)
    p = t.update(frame(percentage=20))
    assert p.speed is None  # bytes/s needs a size
    assert p.eta == pytest.approx(8.0)  # but the ETA comes from the percent rate


def test_speed_decays_when_nothing_arrives():
    t, clock = tracker(window=5.0)
    for pct in range(0, 30, 5):
        t.update(frame(percentage=pct))
        clock.advance(1.0)
    before = t.tick().speed
    clock.advance(8.0)
    after = t.tick()
    assert before > 0 and after.speed == 0.0 and after.eta is None


def test_percentages_never_go_back_and_are_clamped():
    t, _ = tracker()
    assert t.update(frame(percentage=40)).percentage == 40
    assert t.update(frame(percentage=30)).percentage == 40
    assert t.update(frame(percentage=-5)).percentage == 40
    assert t.update(frame(percentage=250)).percentage == 100
    assert t.update(frame(percentage=10**400)).percentage == 100


@pytest.mark.parametrize("odd", [None, "50", True, float("nan"), [], {}])
def test_odd_percentages_are_ignored(odd):
    t, _ = tracker()
    t.update(frame(percentage=20))
    f = frame()
    f["percentage"] = odd
    p = t.update(f)
    assert p.percentage == 20 and p.status == "IN-PROGRESS"


@pytest.mark.parametrize("odd", [None, "text", 3, [1], {"status": 1}])
def test_non_dict_frames_change_nothing(odd):
    t, _ = tracker()
    t.update(frame(percentage=20))
    assert t.update(odd).percentage == 20


def test_missing_status_keeps_previous():
    t, _ = tracker()
    t.update(frame("INITIALIZED"))
    assert t.update({"percentage": 5}).status == "INITIALIZED"
    assert t.update({"status": None, "percentage": 6}).percentage == 6


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("COMPLETED", True),
        ("FAILED", True),
        ("CANCELED", True),
        ("CANCELLED", True),
        ("RESET", True),
        ("completed", True),
        ("UNKNOWN", False),
        ("INITIALIZED", False),
        ("IN-PROGRESS", False),
        ("PAUSED", False),
        (None, False),
    ],
)
def test_terminal_statuses(status, terminal):
    assert is_terminal(status) is terminal


def test_completed_is_100_percent_with_zero_eta():
    t, _ = tracker()
    t.update(frame(percentage=97))
    p = t.update(frame("COMPLETED"))
    assert p.terminal and p.completed and p.percentage == 100 and p.bytes_done == GB
    assert p.eta == 0.0 and p.speed is None and not p.stalled


def test_failed_and_canceled_keep_last_percentage():
    for status in ("FAILED", "CANCELED"):
        t, _ = tracker()
        t.update(frame(percentage=33))
        p = t.update(frame(status))
        assert p.terminal and not p.completed and p.percentage == 33 and p.eta is None


def test_unknown_status_is_kept_and_not_terminal():
    t, _ = tracker()
    p = t.update(frame("PAUSED", 40))
    assert p.status == "PAUSED" and not p.terminal and p.percentage == 40


def test_new_download_after_terminal_starts_from_zero():
    t, _ = tracker()
    t.update(frame(percentage=60))
    t.update(frame("CANCELED"))
    p = t.update(frame("INITIALIZED"))
    assert p.percentage == 0 and not p.terminal
    assert t.update(frame(percentage=5)).percentage == 5


def test_stall_flag_after_stall_after_seconds_without_change():
    t, clock = tracker(stall_after=3.0)
    t.update(frame(percentage=10))
    clock.advance(2.9)
    assert not t.tick().stalled
    clock.advance(0.2)
    assert t.tick().stalled
    # a repeated frame is no change
    assert t.update(frame(percentage=10)).stalled
    # progress clears it
    assert not t.update(frame(percentage=11)).stalled


def test_stall_counts_from_creation_when_no_frame_comes():
    t, clock = tracker(stall_after=5.0)
    clock.advance(5.0)
    p = t.tick()
    assert p.stalled and p.status == "UNKNOWN" and p.percentage == 0


def test_stall_disabled_and_never_when_terminal():
    t, clock = tracker(stall_after=None)
    clock.advance(1000)
    assert not t.tick().stalled
    t, clock = tracker(stall_after=1.0)
    t.update(frame("FAILED"))
    clock.advance(100)
    assert not t.tick().stalled


def test_status_change_counts_as_change():
    t, clock = tracker(stall_after=2.0)
    t.update(frame("INITIALIZED"))
    clock.advance(1.5)
    t.update(frame("IN-PROGRESS", 0))
    clock.advance(1.5)
    assert not t.tick().stalled


def test_set_total_and_finish():
    t, _ = tracker(total=None)
    t.update(frame(percentage=50))
    t.set_total(2 * GB)
    t.set_total(None)  # ignored
    p = t.finish("COMPLETED")
    assert p.bytes_total == 2 * GB and p.bytes_done == 2 * GB and p.terminal


def test_fixture_sequences():
    # the sequences of shared/fixtures/other_payloads.json "ws_download_progress"
    sequences = {
        "success": [("INITIALIZED", None), ("IN-PROGRESS", 0), ("IN-PROGRESS", 12.5),
                    ("IN-PROGRESS", 57.31), ("IN-PROGRESS", 100), ("COMPLETED", 100)],
        "cancelled": [("INITIALIZED", None), ("IN-PROGRESS", 8.2), ("CANCELED", None)],
        "failed": [("INITIALIZED", None), ("IN-PROGRESS", 33.0), ("FAILED", None)],
        "cache_deleted": [("RESET", None)],
    }  # fmt: skip
    for name, seq in sequences.items():
        t, clock = tracker()
        seen = []
        for status, pct in seq:
            seen.append(t.update(frame(status, pct)))
            clock.advance(0.1)
        pcts = [p.percentage for p in seen]
        assert pcts == sorted(pcts), name
        assert seen[-1].terminal and not any(p.terminal for p in seen[:-1]), name


def test_progress_dict_and_str():
    p = DownloadProgress("m", "IN-PROGRESS", 42.0, 420, 1000, 10.0, 58.0, True, False)
    d = p.to_dict()
    assert list(d) == [
        "model_id",
        "status",
        "percentage",
        "bytes_done",
        "bytes_total",
        "speed",
        "eta",
        "stalled",
        "terminal",
    ]
    assert "42%" in str(p) and "stalled" in str(p) and "ETA 58s" in str(p)


@pytest.mark.parametrize(
    ("n", "text"),
    [(None, ""), (0, "0 B"), (999, "999 B"), (30_408_704, "30.4 MB"), (4_920_739_840, "4.92 GB")],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text


# ----------------------------------------------------------------- exact maths and boundaries
# Times and percentages below are exact in binary floating point, so results are compared
# exactly (or to 1e-12): a 1 % error in the maths must fail.


def at(t: float = 0.0, **kw):
    """A tracker created at time `t` on a clock that stays there unless told."""
    clock = FakeClock(t)
    return ProgressTracker("m", kw.pop("total", 1000), clock=clock, now=t, **kw), clock


def test_speed_and_eta_are_exact():
    t, _ = at(min_span=0.5)
    t.update(frame(percentage=10), now=0.0)
    p = t.update(frame(percentage=30), now=2.0)  # 20 % in 2 s: 10 %/s of 1,000 bytes
    assert p.speed == pytest.approx(100.0, rel=1e-12)
    assert p.eta == pytest.approx(7.0, rel=1e-12)
    assert p.bytes_done == 300 and p.percentage == 30.0


def test_slow_downloads_still_get_an_eta():
    t, _ = at(min_span=0.5)
    t.update(frame(percentage=50), now=0.0)
    p = t.update(frame(percentage=51), now=2.0)  # 0.5 %/s
    assert p.eta == pytest.approx(98.0, rel=1e-12)
    assert p.speed == pytest.approx(5.0, rel=1e-12)


def test_min_span_is_inclusive():
    t, _ = at()  # default min_span 0.2
    t.update(frame(percentage=10), now=0.0)
    assert t.update(frame(percentage=20), now=0.125).speed is None
    assert t.tick(now=0.2).speed == pytest.approx(500.0, rel=1e-9)
    t, _ = at(min_span=0.5)
    t.update(frame(percentage=10), now=0.0)
    assert t.update(frame(percentage=20), now=0.25).speed is None
    assert t.tick(now=0.5).speed == pytest.approx(200.0, rel=1e-12)


def test_window_default_and_its_edge():
    """Samples older than the window (5 s by default) stop counting, at the edge included."""
    t, _ = at()
    t.update(frame(percentage=0), now=0.0)
    t.update(frame(percentage=10), now=1.0)
    t.update(frame(percentage=20), now=2.0)
    # at 6 s the sample of 1 s is exactly at the horizon: the one of 0 s is dropped
    assert t.tick(now=6.0).speed == pytest.approx((20 - 10) / 5.0 * 10, rel=1e-12)
    t, _ = at(window=10.0)
    t.update(frame(percentage=0), now=0.0)
    t.update(frame(percentage=10), now=1.0)
    t.update(frame(percentage=20), now=2.0)
    assert t.tick(now=6.0).speed == pytest.approx(20 / 6.0 * 10, rel=1e-12)


def test_infinite_eta_is_none():
    t, _ = at(window=1e308, min_span=0.5)
    t.update(frame(percentage=50.0), now=0.0)
    t.update(frame(percentage=math.nextafter(50.0, 100.0)), now=1.0)
    p = t.tick(now=1e300)  # a rate so small that the time left overflows
    assert p.eta is None and p.speed is not None and p.speed >= 0


def test_default_stall_after_is_ten_seconds():
    t, _ = at()
    t.update(frame(percentage=5), now=0.0)
    assert not t.tick(now=9.5).stalled
    assert t.tick(now=10.0).stalled


def test_zero_and_fractional_percentages_are_kept_as_sent():
    t, _ = at()
    assert t.update(frame(percentage=0), now=0.0).percentage == 0.0
    assert t.update(frame(percentage=0.5), now=1.0).percentage == 0.5
    assert t.update(frame(percentage=100.0), now=2.0).percentage == 100.0
    t, _ = at()
    assert t.update(frame(percentage=150.0), now=0.0).percentage == 100.0
    t, _ = at()
    assert t.update(frame(percentage=-0.5), now=0.0).percentage == 0.0
    t, _ = at()
    assert t.update(frame(percentage=101), now=0.0).percentage == 100.0


def test_a_start_status_mid_download_does_not_restart_it():
    t, _ = at()
    t.update(frame("IN-PROGRESS", 40), now=0.0)
    p = t.update(frame("INITIALIZED"), now=1.0)
    assert p.percentage == 40 and p.status == "INITIALIZED"
    t.update(frame("FAILED"), now=2.0)
    assert t.update(frame("IN_PROGRESS", 3), now=3.0).percentage == 3  # restarted
    t.update(frame("COMPLETED"), now=4.0)
    assert t.update(frame("PAUSED"), now=5.0).percentage == 100  # not a start: kept


def test_lowercase_completed_is_complete():
    t, _ = at()
    t.update(frame(percentage=20), now=0.0)
    p = t.update({"status": "completed"}, now=1.0)
    assert p.percentage == 100.0 and p.completed and p.terminal and p.eta == 0.0


def test_explicit_now_wins_over_the_clock():
    t, clock = at(stall_after=5.0)  # the clock stays at 0
    t.update(frame(percentage=10), now=50.0)
    assert t.tick(now=54.0).stalled is False
    assert t.tick(now=55.0).stalled is True
    clock.t = 60.0
    assert t.tick().stalled is True  # no `now`: the clock


def test_finish_passes_its_time_on():
    t, _ = at(stall_after=5.0)
    t.finish("PAUSED", now=10.0)
    assert t.tick(now=12.0).stalled is False and t.tick(now=15.0).stalled is True


def test_stall_clock_starts_at_the_first_call_when_not_given():
    clock = FakeClock(0.0)
    t = ProgressTracker("m", 1000, 10.0, clock=clock)  # no `now`: starts when first used
    clock.t = 100.0
    assert t.update("not a frame").stalled is False  # the first call starts the clock
    clock.t = 110.0
    assert t.tick().stalled is True
    clock = FakeClock(0.0)
    t = ProgressTracker("m", 1000, 10.0, clock=clock)
    clock.t = 100.0
    assert t.tick().stalled is False
    clock.t = 109.0
    assert t.tick().stalled is False
    clock.t = 110.0
    assert t.tick().stalled is True


def test_last_is_the_latest_report_or_a_fresh_one():
    t, _ = at()
    first = t.last
    assert isinstance(first, DownloadProgress) and first.status == "UNKNOWN"
    assert first.percentage == 0.0 and first.bytes_done == 0 and first.bytes_total == 1000
    p = t.update(frame(percentage=25), now=1.0)
    assert t.last is p and t.last.percentage == 25


@pytest.mark.parametrize(
    ("total", "kept"), [(1, 1), (0, None), (-5, None), (2.5, None), (None, None)]
)
def test_only_positive_integer_sizes_are_kept(total, kept):
    assert ProgressTracker("m", total).bytes_total == kept
    t = ProgressTracker("m", 10)
    t.set_total(total)
    assert t.bytes_total == (kept if kept is not None else 10)


@pytest.mark.parametrize(
    ("eta", "text"),
    [(59, "59s"), (59.4, "59s"), (60, "1m00s"), (125, "2m05s"), (3599, "59m59s"),
     (3600, "1h00m"), (3661, "1h01m"), (7322, "2h02m"), (86399, "23h59m")],
)  # fmt: skip
def test_eta_text(eta, text):
    p = DownloadProgress("m", "IN-PROGRESS", 50.0, None, None, None, eta, False, False)
    assert str(p) == f"IN-PROGRESS 50% ETA {text}"


def test_progress_text_parts():
    p = DownloadProgress("m", "IN-PROGRESS", 42.4, 424, 1000, 10.0, 58.0, True, False)
    done, total, speed = format_bytes(424), format_bytes(1000), format_bytes(10.0)
    assert str(p) == f"IN-PROGRESS 42% {done}/{total} {speed}/s ETA 58s stalled"
    p = DownloadProgress("m", "IN-PROGRESS", 42.0, None, None, None, None, False, False)
    assert str(p) == "IN-PROGRESS 42%"
    # over: no speed, no ETA
    p = DownloadProgress("m", "COMPLETED", 100.0, 1000, 1000, 10.0, 0.0, False, True)
    assert str(p) == f"COMPLETED 100% {total}/{total}"
    p = DownloadProgress("m", "FAILED", 10.0, 100, 1000, None, 3.0, True, True)
    assert str(p) == f"FAILED 10% {format_bytes(100)}/{total} stalled"
    p = DownloadProgress("m", "IN-PROGRESS", 10.0, 100, 1000, None, 3.0, False, False)
    assert str(p) == f"IN-PROGRESS 10% {format_bytes(100)}/{total} ETA 3s"


def test_progress_dict_values():
    p = DownloadProgress("m", "COMPLETED", 100.0, 5, 5, None, 0.0, False, True)
    assert p.to_dict() == {
        "model_id": "m",
        "status": "COMPLETED",
        "percentage": 100.0,
        "bytes_done": 5,
        "bytes_total": 5,
        "speed": None,
        "eta": 0.0,
        "stalled": False,
        "terminal": True,
    }
    assert p.completed and not DownloadProgress("m", "FAILED").completed


def test_eta_minutes_past_the_hour():
    p = DownloadProgress("m", "IN-PROGRESS", 1.0, None, None, None, 7140.0, False, False)
    assert str(p) == "IN-PROGRESS 1% ETA 1h59m"


def test_percentages_just_over_100_are_clamped():
    t, _ = at()
    assert t.update(frame(percentage=100.5), now=0.0).percentage == 100.0


def test_progress_defaults_equality_hash_repr_and_pickle():
    p = DownloadProgress("m", "UNKNOWN")
    assert p.percentage == 0.0 and (p.bytes_done, p.bytes_total, p.speed, p.eta) == (None,) * 4
    assert p.stalled is False and p.terminal is False
    q = DownloadProgress("m", "UNKNOWN", 0.0, None, None, None, None, False, False)
    assert p == q and hash(p) == hash(q) and p != DownloadProgress("m", "FAILED")
    assert len({hash(DownloadProgress("m", status)) for status in "ABCDEFGH"}) > 1
    assert p != DownloadProgress("m", "UNKNOWN", 1.0) and (p == "m") is False
    assert repr(DownloadProgress("m", "X", 5.0, 1, 20, 2.0, 3.0, True, False)) == (
        "DownloadProgress(model_id='m', status='X', percentage=5.0, bytes_done=1, "
        "bytes_total=20, speed=2.0, eta=3.0, stalled=True, terminal=False)"
    )
    r = DownloadProgress("m", "X", 5.0, 1, 20, 2.0, 3.0, True, False)
    assert pickle.loads(pickle.dumps(r)) == r


def test_a_tracker_report_equals_its_plain_twin():
    t, _ = at(min_span=0.5)
    t.update(frame(percentage=10), now=0.0)
    p = t.update(frame(percentage=30), now=2.0)
    twin = DownloadProgress("m", "IN-PROGRESS", 30.0, 300, 1000, p.speed, p.eta, False, False)
    assert p == twin and hash(p) == hash(twin) and repr(p) == repr(twin)
    assert pickle.loads(pickle.dumps(p)) == twin


def test_min_span_zero_with_a_frame_at_the_first_samples_instant_has_no_speed():
    """No time has passed: no rate can be measured (was a ZeroDivisionError with min_span=0)."""
    t, clock = tracker(min_span=0.0)
    t.update(frame(percentage=0))
    same = t.update(frame(percentage=10))  # the clock has not moved
    assert same.percentage == 10 and same.speed is None and same.eta is None
    clock.advance(0.5)
    later = t.update(frame(percentage=20))
    assert later.speed is not None and later.speed > 0 and later.eta is not None
