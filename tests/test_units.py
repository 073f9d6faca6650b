"""format_bytes says what the frontend's formatBytes says, case by case.

tests/fixtures/format_bytes_cases.json is shared with js/test/format_cases.test.js: each entry is
``[input, expected]``; an input ``{"float": "NaN"}`` (or ``"Infinity"``, ``"-0"``...) stands for a
number JSON cannot write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pieces_widgets import progress, rows
from pieces_widgets.units import format_bytes

CASES = json.loads((Path(__file__).parent / "fixtures" / "format_bytes_cases.json").read_text())


def decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def test_the_shared_cases_cover_every_kind_of_input():
    expected = [e for _, e in CASES]
    assert len(CASES) >= 40
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        assert any(e.endswith(f" {unit}") for e in expected), unit
    assert expected.count("") >= 8  # None, negatives, NaN, infinities, non-numbers


@pytest.mark.parametrize(("value", "expected"), CASES, ids=[json.dumps(v) for v, _ in CASES])
def test_format_bytes_matches_the_frontend(value, expected):
    assert format_bytes(decode(value)) == expected


def test_halves_round_up_like_javascript_not_to_even():
    assert format_bytes(1250) == "1.3 KB"  # Python's f"{1.25:.1f}" says 1.2
    assert format_bytes(1_125_000_000) == "1.13 GB"
    assert format_bytes(2.5) == "3 B"


def test_ints_beyond_any_float_are_unknown():
    assert format_bytes(10**400) == ""


def test_rows_and_progress_use_the_same_function():
    assert rows.format_bytes is format_bytes
    assert progress.format_bytes is format_bytes


def test_to_fixed_pads_small_values_with_leading_zeros():
    from pieces_widgets.units import _to_fixed

    # format_bytes never asks for decimals of a value below 1; toFixed itself pads all the same
    assert _to_fixed(0.05, 2) == "0.05"
    assert _to_fixed(0.5, 1) == "0.5"
    assert _to_fixed(0.004, 2) == "0.00"
    assert _to_fixed(7.0, 0) == "7"
    assert _to_fixed(1e21, 2) == "1e+21"
