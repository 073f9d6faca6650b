"""The tolerant model parser: pure unit tests (no server)."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import pickle
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest

from pieces_widgets.models import Model, parse_model, parse_snapshot

# The emulator ships a byte-for-byte copy of shared/fixtures/models_snapshot.json.
SNAPSHOT = json.loads(
    resources.files("pieces_widgets.emulator").joinpath("catalog.json").read_text()
)
LOCAL = next(m for m in SNAPSHOT["iterable"] if m["name"] == "Llama 3 8B")
CLOUD = SNAPSHOT["iterable"][0]


def wire(**changes):
    m = copy.deepcopy(LOCAL)
    for k, v in changes.items():
        if v is ...:
            m.pop(k, None)
        else:
            m[k] = v
    return m


def test_fixture_snapshot_parses_completely():
    models, warnings = parse_snapshot(SNAPSHOT)
    assert warnings == []
    assert len(models) == 27
    assert [m.id for m in models] == [m["id"] for m in SNAPSHOT["iterable"]]
    assert {m.state for m in models} == {
        "cloud",
        "available",
        "downloaded",
        "loaded",
        "downloading",
    }


def test_fields_are_snake_case_and_typed():
    m = parse_model(LOCAL)
    assert m.id == LOCAL["id"] and m.name == "Llama 3 8B"
    assert m.unique == LOCAL["unique"]
    assert m.bytes == LOCAL["bytes"]["value"] and isinstance(m.bytes, int)
    assert m.ram == LOCAL["ram"]["value"]
    assert m.max_tokens == LOCAL["maxTokens"]["total"]
    assert m.parameters == 8.0 and isinstance(m.parameters, float)
    assert m.quantization == LOCAL["quantization"]
    assert m.cloud is False and m.downloaded is True
    assert m.created.tzinfo is not None and m.created.utcoffset() == timedelta(0)
    assert m.raw is LOCAL  # untouched wire dict


def test_model_is_frozen_slotted_dataclass():
    m = parse_model(LOCAL)
    assert dataclasses.is_dataclass(m)
    assert not hasattr(m, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "x"  # type: ignore[misc]
    # the fast builder yields objects identical to the regular constructor
    fields = {f.name: getattr(m, f.name) for f in dataclasses.fields(Model)}
    assert Model(**fields) == m
    assert hash(Model(**fields)) == hash(m)
    assert pickle.loads(pickle.dumps(m)) == m
    assert dataclasses.replace(m, name="other").name == "other"


def test_missing_optional_fields_are_none():
    m = parse_model({"id": "x"})
    assert m is not None
    for f in dataclasses.fields(Model):
        if f.name not in ("id", "raw"):
            assert getattr(m, f.name) is None, f.name
    assert m.state == "available"


def test_cloud_model_has_no_sizes():
    m = parse_model(CLOUD)
    assert m.bytes is None and m.ram is None and m.parameters is None
    assert m.state == "cloud"


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        ({"cloud": True, "downloaded": True}, "cloud"),
        ({"downloading": True, "downloaded": True}, "downloading"),
        ({"loaded": True, "downloaded": True}, "loaded"),
        ({"downloaded": True}, "downloaded"),
        ({}, "available"),
    ],
)
def test_state_priority(flags, state):
    base = {"id": "x", "cloud": False, "downloaded": False, "downloading": False, "loaded": False}
    assert parse_model({**base, **flags}).state == state


def test_unknown_enums_kept_raw():
    m = parse_model(wire(foundation="LLAMA_9_1T", provider="NEWCO", type="TURBO", usage="X"))
    assert (m.foundation, m.provider, m.type, m.usage) == ("LLAMA_9_1T", "NEWCO", "TURBO", "X")


def test_extra_keys_kept_in_raw():
    m = parse_model(wire(brandNew={"a": 1}))
    assert m.raw["brandNew"] == {"a": 1}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("cloud", "true"),
        ("downloaded", 1),
        ("loaded", "false"),
        ("name", 42),
        ("unique", ["x"]),
        ("foundation", 3),
        ("bytes", {"value": "4 GB"}),
        ("bytes", {"value": -1}),
        ("bytes", {"value": 1.5}),
        ("bytes", {"value": True}),
        ("ram", "6 GB"),
        ("parameters", "8B"),
        ("parameters", True),
        ("parameters", float("nan")),
        ("parameters", float("inf")),
        ("parameters", 10**400),
        ("maxTokens", {"total": "8k"}),
        ("maxTokens", {"total": 2**70}),
        ("created", {"value": "yesterday"}),
        ("created", {"value": 12}),
        ("created", 5),
    ],
)
def test_wrong_types_become_none_with_warning(key, value):
    warnings: list[str] = []
    m = parse_model(wire(**{key: value}), warnings)
    attr = {"maxTokens": "max_tokens"}.get(key, key)
    assert m is not None
    assert getattr(m, attr) is None
    assert len(warnings) == 1 and key in warnings[0] and m.id in warnings[0]


def test_lossless_coercions():
    m = parse_model(wire(bytes={"value": 4.0e9, "readable": "4 GB"}, parameters=8, maxTokens=4096))
    assert m.bytes == 4_000_000_000 and isinstance(m.bytes, int)
    assert m.parameters == 8.0 and isinstance(m.parameters, float)
    assert m.max_tokens == 4096
    m = parse_model(wire(bytes=123, maxTokens={"total": None}))
    assert m.bytes == 123 and m.max_tokens is None


def test_null_values_are_silent_none():
    warnings: list[str] = []
    m = parse_model(wire(bytes=None, parameters=None, maxTokens=None, cloud=None), warnings)
    assert warnings == []
    assert m.bytes is None and m.parameters is None and m.max_tokens is None and m.cloud is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-26T15:30:01.617743Z", datetime(2023, 10, 26, 15, 30, 1, 617743, timezone.utc)),
        (
            "2024-05-14T18:49:11.262000+00:00",
            datetime(2024, 5, 14, 18, 49, 11, 262000, timezone.utc),
        ),
        ("2024-05-14T20:49:11+02:00", datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc)),
        ("2024-05-14T18:49:11", datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc)),
        ("2024-05-14", datetime(2024, 5, 14, tzinfo=timezone.utc)),
    ],
)
def test_created_is_aware_utc(text, expected):
    m = parse_model(wire(created={"value": text}))
    assert m.created == expected
    assert m.created.utcoffset() == timedelta(0)


def test_created_out_of_range_is_none():
    warnings: list[str] = []
    m = parse_model(wire(created={"value": "0001-01-01T00:00:00+05:00"}), warnings)
    assert m.created is None and warnings


@pytest.mark.parametrize("entry", [None, 3, "model", [], {"name": "no id"}, {"id": ""}, {"id": 7}])
def test_entries_without_string_id_are_skipped(entry):
    warnings: list[str] = []
    assert parse_model(entry, warnings) is None
    assert len(warnings) == 1


def test_snapshot_survives_bad_entries_and_logs(caplog):
    body = {"iterable": [LOCAL, None, {"name": "nameless"}, wire(id="b", cloud="yes"), CLOUD]}
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        models, warnings = parse_snapshot(body)
    assert [m.id for m in models] == [LOCAL["id"], "b", CLOUD["id"]]
    assert models[1].cloud is None
    assert len(warnings) == 3
    assert any("problem(s)" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("body", [None, 1, "x", {"iterable": None}, {"iterable": {}}, {}, []])
def test_snapshot_of_wrong_shape_is_empty(body):
    models, warnings = parse_snapshot(body)
    assert models == []
    assert bool(warnings) == (body != [])


def test_bare_list_is_accepted():
    models, _ = parse_snapshot([LOCAL, CLOUD])
    assert len(models) == 2


def test_duplicate_ids_kept_with_warning():
    models, warnings = parse_snapshot({"iterable": [LOCAL, LOCAL]})
    assert len(models) == 2 and len(warnings) == 1 and "more than once" in warnings[0]


def test_reuse_previous_models_by_equality():
    first, _ = parse_snapshot(SNAPSHOT)
    previous = {m.id: m for m in first}
    body = json.loads(json.dumps(SNAPSHOT))
    body["iterable"][0]["loaded"] = True  # one model changed
    second, warnings = parse_snapshot(body, previous)
    assert warnings == []
    assert second[0] is not first[0] and second[0].loaded is True
    assert all(a is b for a, b in zip(first[1:], second[1:], strict=True))


def test_to_wire_is_a_deep_copy():
    m = parse_model(wire())
    w = m.to_wire()
    assert w == m.raw and w is not m.raw
    w["bytes"]["value"] = 1
    assert m.raw["bytes"]["value"] == LOCAL["bytes"]["value"]
    assert Model("x").to_wire() == {"id": "x"}


def test_from_wire():
    assert Model.from_wire(LOCAL).id == LOCAL["id"]
    with pytest.raises(ValueError, match="id"):
        Model.from_wire({"name": "x"})


def test_repr_is_short():
    text = repr(parse_model(LOCAL))
    assert "Llama 3 8B" in text and "downloaded" in text and "description" not in text
