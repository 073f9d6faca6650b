"""Hypothesis fuzz of the snapshot parser: any JSON in, no exception out; well-formed models
always survive with their values; damaged ones with a usable id survive too."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_widgets.frame import models_dataframe
from pieces_widgets.models import Model, parse_model, parse_snapshot

#: Examples per property. `make mutation` lowers it (PIECES_FUZZ_EXAMPLES) so that each mutant's
#: run stays short; the suite itself always uses the full count.
EXAMPLES = int(os.environ.get("PIECES_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=6,
)

ENUMS = ["BALANCED", "SPEED", "UNKNOWN", "CODE_CONVERSATION", "GPT_4", "BRAND_NEW_THING", "META"]
timestamps = st.builds(
    lambda s, z: (
        datetime.fromtimestamp(s, timezone.utc)
        .isoformat()
        .replace("+00:00", "Z" if z else "+00:00")
    ),
    st.integers(min_value=0, max_value=7_000_000_000),
    st.booleans(),
)
counts = st.integers(min_value=0, max_value=2**63 - 1)
opt_text = st.none() | st.text(max_size=8)
opt_flag = st.none() | st.booleans()
enum = st.sampled_from(ENUMS)
descriptor = st.builds(lambda v: {"value": v, "readable": "x"}, counts)

#: A model the spec allows: required fields present, optional ones absent, null or valid.
good_models = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=8),
        "name": st.text(max_size=8),
        "cloud": st.booleans(),
        "created": st.builds(lambda v: {"value": v}, timestamps),
        "type": enum,
        "usage": enum,
        "version": st.text(max_size=4),
    },
    optional={
        "unique": opt_text,
        "description": opt_text,
        "foundation": st.none() | enum,
        "provider": st.none() | enum,
        "downloaded": opt_flag,
        "downloading": opt_flag,
        "loaded": opt_flag,
        "cpu": opt_flag,
        "custom": opt_flag,
        "denied": opt_flag,
        "bytes": st.none() | descriptor,
        "ram": st.none() | descriptor,
        "parameters": st.none() | st.floats(allow_nan=False, allow_infinity=False) | counts,
        "quantization": opt_text,
        "maxTokens": st.none() | st.builds(lambda t: {"total": t}, st.none() | counts),
        "extraFromTheFuture": json_values,
    },
)
FIELDS = sorted(
    {"name", "cloud", "created", "type", "usage", "version", "unique", "description"}
    | {"foundation", "provider", "downloaded", "downloading", "loaded", "cpu", "custom"}
    | {"denied", "bytes", "ram", "parameters", "quantization", "maxTokens"}
)


@st.composite
def damaged_models(draw: st.DrawFn) -> dict[str, Any]:
    """A good model with some fields deleted or replaced by any JSON value (id kept)."""
    m = draw(good_models)
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=5, unique=True)):
        if draw(st.booleans()):
            m.pop(key, None)
        else:
            m[key] = draw(json_values)
    return m


def roundtrip(obj: Any) -> Any:
    """What actually arrives: JSON text parsed by json.loads (NaN/Infinity included)."""
    return json.loads(json.dumps(obj))


def check_model_matches(model: Model, wire: dict[str, Any]) -> None:
    assert model.id == wire["id"]
    assert model.name == wire["name"] and model.cloud is wire["cloud"]
    for key in ("unique", "description", "foundation", "provider", "quantization", "version"):
        assert getattr(model, key) == wire.get(key)
    for key in ("downloaded", "downloading", "loaded", "cpu", "custom", "denied"):
        assert getattr(model, key) is wire.get(key)
    assert model.type == wire["type"] and model.usage == wire["usage"]
    for key in ("bytes", "ram"):
        assert getattr(model, key) == (wire.get(key) or {}).get("value")
    assert model.max_tokens == (wire.get("maxTokens") or {}).get("total")
    p = wire.get("parameters")
    assert model.parameters == (None if p is None else float(p))
    created = datetime.fromisoformat(wire["created"]["value"].replace("Z", "+00:00"))
    assert model.created == created and model.created.tzinfo is not None
    assert model.raw == wire or any(isinstance(v, float) and math.isnan(v) for v in _leaves(wire))


def _leaves(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _leaves(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _leaves(v)]
    return [obj]


@FUZZ
@given(json_values)
def test_any_json_body_never_raises(body):
    models, warnings = parse_snapshot(body)
    assert isinstance(models, list) and isinstance(warnings, list)
    models, warnings = parse_snapshot({"iterable": body if isinstance(body, list) else [body]})
    assert all(isinstance(m, Model) for m in models)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(
    st.lists(
        st.one_of(
            good_models.map(lambda m: ("good", m)),
            damaged_models().map(lambda m: ("damaged", m)),
            json_values.map(lambda v: ("junk", v)),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_good_and_damaged_models_survive_junk_is_skipped(entries, reuse):
    body = roundtrip({"iterable": [e for _, e in entries], "schema": {"migration": 0}})
    models, warnings = parse_snapshot(body)
    if reuse:  # polling the same body again, reusing the previous models, changes nothing
        again, _ = parse_snapshot(body, {m.id: m for m in models})
        assert again == models
    expected = [
        wire
        for (kind, _), wire in zip(entries, body["iterable"], strict=True)
        if kind in ("good", "damaged")
        or (isinstance(wire, dict) and isinstance(wire.get("id"), str) and wire["id"])
    ]
    assert [m.id for m in models] == [w["id"] for w in expected]
    for (kind, _), wire in zip(entries, body["iterable"], strict=True):
        if kind == "good":
            model = next(m for m in models if m.raw is wire)
            check_model_matches(model, wire)
    skipped = len(body["iterable"]) - len(models)
    assert len(warnings) >= skipped


@FUZZ
@given(damaged_models())
def test_damaged_fields_are_none_or_the_right_type(wire):
    warnings: list[str] = []
    m = parse_model(roundtrip(wire), warnings)
    assert m is not None
    for key in ("name", "unique", "description", "foundation", "provider", "type", "usage"):
        assert getattr(m, key) is None or isinstance(getattr(m, key), str)
    for key in ("cloud", "downloaded", "downloading", "loaded", "cpu", "custom", "denied"):
        assert (
            getattr(m, key) in (None, True, False) and not isinstance(getattr(m, key), int)
        ) or (getattr(m, key) is True or getattr(m, key) is False)
    for key in ("bytes", "ram", "max_tokens"):
        v = getattr(m, key)
        assert v is None or (type(v) is int and 0 <= v < 2**63)
    assert m.parameters is None or (type(m.parameters) is float and math.isfinite(m.parameters))
    assert m.created is None or m.created.utcoffset() is not None
    assert m.state in ("cloud", "downloading", "loaded", "downloaded", "available")


@settings(max_examples=min(60, EXAMPLES), derandomize=True, deadline=None)
@given(st.lists(st.one_of(good_models, damaged_models()), max_size=6))
def test_any_parsed_models_make_a_dataframe(entries):
    models, _ = parse_snapshot(roundtrip(entries))
    df = models_dataframe(models)
    assert len(df) == len(models)
    assert df["cloud"].dtype == bool and df["bytes"].dtype == "Int64"
