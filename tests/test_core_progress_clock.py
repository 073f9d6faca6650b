"""min_span counts from the window's first sample on any clock, not only one starting at 0."""

from __future__ import annotations

import pytest

from pieces_widgets.progress import ProgressTracker


def frame(percentage: float) -> dict:
    return {"status": "IN-PROGRESS", "percentage": percentage}


def test_min_span_on_a_clock_far_from_zero():
    t = ProgressTracker("m", 1000, clock=lambda: 5000.0, now=5000.0, min_span=0.5)
    t.update(frame(10), now=5000.0)
    early = t.update(frame(20), now=5000.25)  # 0.25 s after the first sample: too soon
    assert early.speed is None and early.eta is None
    later = t.tick(now=5000.5)
    assert later.speed == pytest.approx(200.0, rel=1e-12)
    assert later.eta == pytest.approx(4.0, rel=1e-12)  # 20 %/s, 80 % to go
