"""Cleanup plan: sizes like "10 GB", candidates, order, the stop condition, the DataFrame."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_widgets.cleanup import (
    PLAN_COLUMNS,
    PlanRow,
    cleanup_candidates,
    cleanup_plan,
    parse_size,
    plan,
)
from pieces_widgets.frame import models_dataframe
from pieces_widgets.models import Model, parse_model, parse_snapshot

SNAPSHOT = json.loads((Path(__file__).parent / "fixtures" / "models_snapshot.json").read_text())
TEXT = models_dataframe([]).index.dtype


def disk(
    mid: str,
    size: int | None,
    used: int | None = None,
    *,
    name: str | None = None,
    **flags: Any,
) -> Model:
    wire: dict[str, Any] = {"id": mid, "downloaded": True, "cloud": False, **flags}
    if name is not None:
        wire["name"] = name
    if size is not None:
        wire["bytes"] = {"value": size}
    if used is not None:
        wire["score"] = {"manual": used, "automatic": 0}
    model = parse_model(wire)
    assert model is not None
    return model


# --------------------------------------------------------------------------- parse_size


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 0),
        (12345, 12345),
        (np.int64(7), 7),
        (10**20, 10**20),
        (1.5, 2),  # part of a byte rounds up
        (2.0, 2),
        (np.float64(3.0), 3),
        (Fraction(1, 2), 1),
        ("0", 0),
        ("12345", 12345),
        ("10 GB", 10 * 10**9),
        ("10GB", 10 * 10**9),
        ("10 gb", 10 * 10**9),
        ("  10 Gb  ", 10 * 10**9),
        ("1.5 TB", 1_500_000_000_000),
        ("1.1 GB", 1_100_000_000),  # exact: no float error
        ("500 MB", 500 * 10**6),
        ("2 KB", 2000),
        ("1 PB", 10**15),
        ("3 B", 3),
        ("1 byte", 1),
        ("3 bytes", 3),
        ("10 GiB", 10 * 2**30),
        ("1 KiB", 1024),
        ("1 MiB", 2**20),
        ("1 TiB", 2**40),
        ("1 PiB", 2**50),
        ("0.5 kib", 512),
        (".5 KB", 500),
        ("5. MB", 5 * 10**6),
        ("+2 GB", 2 * 10**9),
        ("-0 GB", 0),
        ("0.0001 KB", 1),
    ],
)
def test_parse_size(size: Any, expected: int) -> None:
    result = parse_size(size)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "size",
    [
        "",
        "GB",
        "ten GB",
        "10 GBs",
        "10 G",
        "10 gigabytes",
        "1e9",
        "1,000 MB",
        "10 GB GB",
        "nan",
        "inf",
        "1.2.3 GB",
        "10 M B",
    ],
)
def test_parse_size_rejects_junk_strings(size: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(size)
    assert str(info.value) == (
        f"cannot read {size!r} as a size: use a number and a unit like '10 GB', '500 MB' or "
        f"'1.5 GiB'"
    )


@pytest.mark.parametrize("size", [-1, -0.5, "-1 GB", "-0.1 KB", np.int64(-3)])
def test_parse_size_rejects_negatives(size: Any) -> None:
    with pytest.raises(ValueError, match=r"^a size cannot be negative, got "):
        parse_size(size)


@pytest.mark.parametrize("size", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_parse_size_rejects_nan_and_infinity(size: float) -> None:
    with pytest.raises(ValueError, match=r"^a size must be a finite number of bytes, got "):
        parse_size(size)


@pytest.mark.parametrize("size", [None, True, False, [10], {"GB": 10}, b"10 GB", 1j, Decimal("1")])
def test_parse_size_rejects_other_types(size: Any) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(size)
    assert str(info.value) == f"a size is bytes as an int or a string like '10 GB', got {size!r}"


# --------------------------------------------------------------------------- candidates


def test_candidates_are_downloaded_idle_local_models() -> None:
    models = [
        disk("ok", 1),
        disk("loaded", 1, loaded=True),
        disk("downloading", 1, downloading=True),
        disk("cloud", 1, cloud=True),
        disk("not-downloaded", 1, downloaded=False),
        disk("downloaded-unknown", 1, downloaded=None),
        disk("flags-unknown", 2, loaded=None, downloading=None, cloud=None),
    ]
    assert [m.id for m in cleanup_candidates(models)] == ["flags-unknown", "ok"]


def test_order_least_used_then_largest_then_id() -> None:
    models = [
        disk("used-big", 900, 5),
        disk("never-small", 10),  # no score: counts as 0 uses
        disk("zero-big", 500, 0),
        disk("once-b", 300, 1),
        disk("once-a", 300, 1),
        disk("no-size-unused", None),
        disk("no-size-zero", None, 0),  # 0 uses ties with no score: by id
        disk("no-size-used", None, 9),
        disk("no-size-a", None, 9),
    ]
    order = [m.id for m in cleanup_candidates(models)]
    assert order == [
        "zero-big",
        "never-small",
        "once-a",
        "once-b",
        "used-big",
        "no-size-unused",
        "no-size-zero",
        "no-size-a",
        "no-size-used",
    ]


def test_score_counts_are_summed_for_the_order() -> None:
    a = parse_model(
        {
            "id": "a",
            "downloaded": True,
            "bytes": {"value": 1},
            "score": {"manual": 1, "automatic": 1, "reuse": 1},
        }
    )
    b = parse_model(
        {
            "id": "b",
            "downloaded": True,
            "bytes": {"value": 1},
            "score": {"manual": 2, "automatic": 0},
        }
    )
    assert [m.id for m in cleanup_candidates([a, b])] == ["b", "a"]  # type: ignore[list-item]


# --------------------------------------------------------------------------- plan


def test_plan_stops_at_the_first_row_reaching_the_target() -> None:
    models = [disk("a", 50), disk("b", 30), disk("c", 20), disk("d", 10)]
    assert plan(models, 50) == [PlanRow("a", None, 50, None, 50)]
    assert plan(models, 51) == [PlanRow("a", None, 50, None, 50), PlanRow("b", None, 30, None, 80)]
    assert [r.freed for r in plan(models, 80)] == [50, 80]
    assert [r.freed for r in plan(models, 81)] == [50, 80, 100]
    assert [r.freed for r in plan(models, 110)] == [50, 80, 100, 110]
    assert [r.freed for r in plan(models, 111)] == [50, 80, 100, 110]  # never reached: all


def test_plan_for_nothing_is_empty() -> None:
    assert plan([disk("a", 50)], 0) == []
    assert plan([disk("a", 50)], "0 GB") == []
    assert plan([], "10 GB") == []


def test_plan_one_byte_takes_the_first_candidate() -> None:
    assert plan([disk("a", 50), disk("b", 70, 1)], 1) == [PlanRow("a", None, 50, None, 50)]


def test_models_without_size_come_last_and_free_nothing() -> None:
    models = [disk("nosize", None, name="?"), disk("a", 5, 3, name="A")]
    assert plan(models, 100) == [PlanRow("a", "A", 5, 3, 5), PlanRow("nosize", "?", None, None, 5)]
    assert plan(models, 5) == [PlanRow("a", "A", 5, 3, 5)]


def test_zero_byte_models_do_not_count_as_reaching_the_target() -> None:
    models = [disk("zero", 0), disk("a", 5, 1)]
    assert [r.id for r in plan(models, 1)] == ["zero", "a"]


def test_plan_accepts_strings_and_an_iterator() -> None:
    models = [disk("a", 6 * 10**9), disk("b", 5 * 10**9)]
    assert [r.freed for r in plan(iter(models), "10 GB")] == [6 * 10**9, 11 * 10**9]
    assert [r.freed for r in plan(models, "6 GB")] == [6 * 10**9]
    assert [r.freed for r in plan(models, "5.58 GiB")] == [6 * 10**9]  # 5.99e9 bytes
    assert [r.freed for r in plan(models, "5.59 GiB")] == [6 * 10**9, 11 * 10**9]  # 6.002e9


def test_plan_rejects_a_bad_target() -> None:
    with pytest.raises(ValueError):
        plan([disk("a", 1)], "lots")
    with pytest.raises(ValueError):
        cleanup_plan([disk("a", 1)], -1)


# --------------------------------------------------------------------------- DataFrame


def test_cleanup_plan_frame_on_the_fixture() -> None:
    models, _ = parse_snapshot(SNAPSHOT)
    frame = cleanup_plan(models, "10 GB")
    assert list(frame.columns) == list(PLAN_COLUMNS) == ["name", "bytes", "used", "freed"]
    assert frame.index.name == "id"
    assert list(frame["name"]) == [
        "Team Llama 3 8B (fine-tuned)",
        "Llama 3 8B",
        "Qwen 2.5 Coder 7B",
    ]
    assert list(frame["bytes"]) == [4920739840, 4692669824, 4457200640]
    assert list(frame["freed"]) == [4920739840, 9613409664, 14070610304]
    assert frame["used"].isna().all()
    assert frame["freed"].iloc[-1] >= 10 * 10**9 > frame["freed"].iloc[-2]
    ids = {m.name: m.id for m in models}
    assert list(frame.index) == [ids[n] for n in frame["name"]]


def test_cleanup_plan_on_the_fixture_learns_from_use() -> None:
    body = json.loads(json.dumps(SNAPSHOT))
    for entry in body["iterable"]:
        if entry.get("name") == "Team Llama 3 8B (fine-tuned)":
            entry["score"] = {"manual": 0, "automatic": 2, "reuse": 5}
        if entry.get("name") == "Llama 3 8B":
            entry["score"] = {"manual": 0, "automatic": 0}
    models, _ = parse_snapshot(body)
    frame = cleanup_plan(models, "100 GB")
    assert list(frame["name"]) == [
        "Llama 3 8B",
        "Qwen 2.5 Coder 7B",
        "Mistral 7B",
        "Team Llama 3 8B (fine-tuned)",
    ]
    assert list(frame["used"].astype(object).where(frame["used"].notna(), None)) == [
        0,
        None,
        None,
        7,
    ]
    assert frame["freed"].iloc[-1] == sum(frame["bytes"])


def test_cleanup_plan_dtypes() -> None:
    frame = cleanup_plan([disk("a", 5, 2, name="A"), disk("b", None, name="B")], 100)
    assert frame.dtypes.to_dict() == {
        "name": TEXT,
        "bytes": pd.Int64Dtype(),
        "used": pd.Int64Dtype(),
        "freed": np.dtype("int64"),
    }
    assert frame.index.dtype == TEXT
    assert frame.loc["a"].tolist() == ["A", 5, 2, 5]
    assert frame.loc["b", "bytes"] is pd.NA and frame.loc["b", "used"] is pd.NA
    assert frame.loc["b", "freed"] == 5


def test_empty_plan_is_typed() -> None:
    for frame in (
        cleanup_plan([], 10),
        cleanup_plan([disk("a", 5, loaded=True)], 10),
        cleanup_plan([disk("a", 5)], 0),
    ):
        assert frame.empty
        assert list(frame.columns) == ["name", "bytes", "used", "freed"]
        assert frame.index.name == "id"
        assert frame.index.dtype == TEXT
        assert frame.dtypes.to_dict() == {
            "name": TEXT,
            "bytes": pd.Int64Dtype(),
            "used": pd.Int64Dtype(),
            "freed": np.dtype("int64"),
        }


# --------------------------------------------------------------------------- properties

candidates = st.lists(
    st.builds(
        disk,
        mid=st.text(alphabet="abcxyz", min_size=1, max_size=3),
        size=st.none() | st.integers(min_value=0, max_value=100),
        used=st.none() | st.integers(min_value=0, max_value=3),
        loaded=st.booleans(),
        downloaded=st.booleans(),
    ),
    max_size=10,
)
PROPS = settings(
    max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPS
@given(models=candidates, target=st.integers(min_value=0, max_value=400))
def test_plan_properties(models: list[Model], target: int) -> None:
    rows = plan(models, target)
    order = cleanup_candidates(models)
    assert [r.id for r in rows] == [m.id for m in order[: len(rows)]]  # a prefix of the order
    freed = [r.freed for r in rows]
    assert freed == sorted(freed)  # monotone
    assert freed == list(np.cumsum([r.bytes or 0 for r in rows]))
    if rows:
        assert all(f < target for f in freed[:-1])  # stops at the first row reaching it
    if not rows or freed[-1] < target:
        assert len(rows) == len(order) or target == 0  # never reached: every candidate
    if target == 0:
        assert rows == []
    keys = [
        (m.bytes is None, (m.raw.get("score") or {}).get("manual", 0), -(m.bytes or 0), m.id)
        for m in order
    ]
    assert keys == sorted(keys)
    frame = cleanup_plan(models, target)
    assert list(frame.index) == [r.id for r in rows]
    assert list(frame["freed"]) == freed
