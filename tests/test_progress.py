"""ProgressTracker: bytes, speed, ETA, stall and terminal rules, with a fake clock."""

from __future__ import annotations

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
