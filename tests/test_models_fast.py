"""The parser's fast path and `models.loads` change speed only, never results.

`_fast_model` handles well-formed entries and gives up on anything else; `_tolerant_model` is
the per-field reference. Hypothesis feeds both the same near-miss entries and compares every
field (value and type) and the warnings. `loads` must decode exactly like ``json.loads``, with
or without msgspec.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_widgets import models
from pieces_widgets.models import Model, _fast_model, _tolerant_model, loads, parse_model

SNAPSHOT_BYTES = (Path(__file__).parent / "fixtures" / "models_snapshot.json").read_bytes()
SNAPSHOT = json.loads(SNAPSHOT_BYTES)
FUZZ = settings(
    max_examples=600,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values that sit next to the valid ones: the fast path must either take them exactly as the
# tolerant path does or step aside.
NEAR = [None, False, True, 0, 1, -1, 8, 2**63 - 1, 2**63, 2**64, -(2**70)]
NEAR += [0.0, -0.0, 1.0, 8.03, 2.5e9, 1e19, math.inf, -math.inf, math.nan]
NEAR += ["", "x", "true", "2024-05-01T12:00:00Z", "2024-13-45", "1970-01-01", "2024-05-01T12:00"]
WRAPPED = [{}, {"readable": "x"}, {"value": None, "total": 3}]
WRAPPED += [{"value": v} for v in NEAR] + [{"total": v} for v in NEAR]
near = st.sampled_from(NEAR)
field_values = near | st.sampled_from(WRAPPED) | st.lists(near, max_size=2)
KEYS = [
    "id", "name", "unique", "cloud", "downloaded", "downloading", "loaded", "custom", "cpu",
    "denied", "foundation", "provider", "type", "usage", "version", "description", "created",
    "bytes", "ram", "parameters", "quantization", "maxTokens",
]  # fmt: skip


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    """A fixture model with a few fields dropped or replaced by near-miss values."""
    entry = dict(draw(st.sampled_from(SNAPSHOT["iterable"])))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True)):
        if draw(st.booleans()):
            entry.pop(key, None)
        else:
            entry[key] = draw(field_values)
    return entry


def same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


def assert_same_model(a: Model | None, b: Model | None) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert type(a) is Model and type(b) is Model
        for f in fields(Model):
            assert same_value(getattr(a, f.name), getattr(b, f.name)), f.name
        assert a.raw is b.raw


@FUZZ
@given(entries())
def test_fast_path_gives_the_tolerant_result(entry):
    fast_warnings: list[str] = []
    reference: list[str] = []
    assert_same_model(parse_model(entry, fast_warnings), _tolerant_model(entry, reference.append))
    assert fast_warnings == reference
    fast = _fast_model(entry)
    if fast is not None:  # taken only when there is nothing to warn about
        assert reference == []
        assert_same_model(fast, _tolerant_model(entry, None))


def test_every_single_field_change_gives_the_tolerant_result():
    """Exhaustive over one changed field: every key x every near-miss value, on each model."""
    taken = 0
    for base in SNAPSHOT["iterable"]:
        for key in KEYS:
            for value in [*NEAR, *WRAPPED, [1], ...]:
                entry = {k: v for k, v in base.items() if k != key}
                if value is not ...:
                    entry[key] = value
                warnings: list[str] = []
                reference: list[str] = []
                got = parse_model(entry, warnings)
                assert_same_model(got, _tolerant_model(entry, reference.append))
                assert warnings == reference, (key, value)
                taken += _fast_model(entry) is not None
    assert taken > 0


def test_fast_path_takes_every_fixture_model_and_steps_aside_for_conversions():
    for entry in SNAPSHOT["iterable"]:
        assert_same_model(_fast_model(entry), _tolerant_model(entry, None))
    local = next(e for e in SNAPSHOT["iterable"] if isinstance(e.get("bytes"), dict))
    for key, value in [
        ("parameters", 8),  # an int: converted to 8.0
        ("bytes", {"value": 5.0}),  # an integral float: converted to 5
        ("bytes", {"readable": "x"}),  # an empty ByteDescriptor
        ("created", "2024-05-01T12:00:00Z"),  # a bare timestamp
        ("cloud", 1),  # not a bool: None with a warning
        ("id", ""),
    ]:
        entry = {**local, key: value}
        assert _fast_model(entry) is None, key
        warnings: list[str] = []
        assert_same_model(parse_model(entry, warnings), _tolerant_model(entry, None))
    assert parse_model({**local, "parameters": 8}).parameters == 8.0
    assert parse_model({**local, "bytes": {"value": 5.0}}).bytes == 5


# ------------------------------------------------------------------------------------ loads

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids),
    max_leaves=8,
)
ODD_BODIES = [
    b"1e400",
    b"[-1E400]",
    b"NaN",
    b'{"a": Infinity}',
    b'"\\ud800"',
    b'{"a":1,"a":2}',
    b"\xef\xbb\xbf{}",
    '{"é": 1}'.encode("utf-16"),
    b'"\xff"',
    b"18446744073709551616",
    b"-9223372036854775809",
    b"-0",
    b"-0.0",
    b"[1, 2",
    b"",
    b'"a\x00b"',
    b"[" * 5000 + b"]" * 5000,
    SNAPSHOT_BYTES,
]


def outcome(fn: Any, body: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(body)
    except (ValueError, RecursionError) as exc:
        return "error", type(exc)


def same_json(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return type(b) is list and len(a) == len(b) and all(map(same_json, a, b))
    return same_value(a, b)


@pytest.mark.parametrize("decoder", ["as installed", "json only"])
def test_loads_decodes_like_json_loads(decoder, monkeypatch):
    if decoder == "json only":
        monkeypatch.setattr(models, "_decode", None)

    @FUZZ
    @given(JSON_VALUES, st.booleans())
    def check(value, ascii_only):
        text = json.dumps(value, ensure_ascii=ascii_only)
        for body in (text, text.encode("utf-8", "surrogatepass")):
            (kind, got), (want_kind, want) = outcome(loads, body), outcome(json.loads, body)
            assert kind == want_kind and (same_json(got, want) if kind == "ok" else got is want)

    check()
    for body in ODD_BODIES:
        (kind, got), (want_kind, want) = outcome(loads, body), outcome(json.loads, body)
        assert kind == want_kind, body[:20]
        assert same_json(got, want) if kind == "ok" else got is want, body[:20]
