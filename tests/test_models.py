"""The tolerant model parser: pure unit tests (no server)."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import logging
import pickle
import sys
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest

from pieces_widgets import models as models_module
from pieces_widgets.models import Model, _fast_model, _tolerant_model, parse_model, parse_snapshot

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


# ----------------------------------------------------------------- exact warnings and edges
# The warnings are user-facing (logged, and shown by the widget), so their text is asserted.

UTC = timezone.utc
STRING_FIELDS = [
    "name",
    "unique",
    "foundation",
    "provider",
    "type",
    "usage",
    "version",
    "description",
    "quantization",
]
FLAG_FIELDS = ["cloud", "downloaded", "downloading", "loaded", "custom", "cpu", "denied"]


def one_warning(key, value):
    warnings: list[str] = []
    m = parse_model({"id": "m", key: value}, warnings)
    assert m is not None and len(warnings) == 1, warnings
    return m, warnings[0]


@pytest.mark.parametrize("key", STRING_FIELDS)
def test_each_string_field_warns_under_its_own_name(key):
    m, w = one_warning(key, 42)
    assert getattr(m, key) is None
    assert w == f"model 'm': {key} should be a string, got 42; using None"
    assert getattr(parse_model({"id": "m", key: "v"}), key) == "v"


@pytest.mark.parametrize("key", FLAG_FIELDS)
def test_each_flag_warns_under_its_own_name(key):
    m, w = one_warning(key, "true")
    assert getattr(m, key) is None
    assert w == f"model 'm': {key} should be true/false, got 'true'; using None"
    for value in (True, False, None):
        assert getattr(parse_model({"id": "m", key: value}), key) is value
    m, w = one_warning(key, 0)
    assert getattr(m, key) is None and w.endswith("got 0; using None")


@pytest.mark.parametrize(("key", "attr"), [("bytes", "bytes"), ("ram", "ram")])
def test_descriptor_counts(key, attr):
    def parsed(value):
        return getattr(parse_model({"id": "m", key: value}), attr)

    assert parsed({"value": 0}) == 0
    assert parsed({"value": 2**63 - 1}) == 2**63 - 1
    assert parsed({"value": 7, "readable": "7 B"}) == 7
    assert parsed(7) == 7 and parsed(7.0) == 7 and type(parsed(7.0)) is int
    assert parsed({"value": 3.0}) == 3 and type(parsed({"value": 3.0})) is int
    assert parsed({"readable": "?"}) is None and parsed({}) is None
    m, w = one_warning(key, {"value": 2**63})
    assert getattr(m, attr) is None
    big = {"value": 2**63}
    assert w == f"model 'm': {key} should be a non-negative integer, got {big!r}; using None"
    for bad in ({"value": None}, {"value": -1}, {"value": 0.5}, {"value": -1.0}, -3, 2.5):
        m, w = one_warning(key, bad)
        assert getattr(m, attr) is None and f"{key} should be a non-negative integer" in w
    m, _ = one_warning(key, {"value": float(2**63)})
    assert getattr(m, attr) is None


def test_max_tokens_counts():
    def parsed(value):
        return parse_model({"id": "m", "maxTokens": value}).max_tokens

    assert parsed({"total": 0}) == 0 and parsed({"total": 2**63 - 1}) == 2**63 - 1
    assert parsed(4096) == 4096 and parsed({"total": 512.0}) == 512
    assert parsed({"total": None}) is None and parsed({}) is None and parsed({"input": 3}) is None
    m, w = one_warning("maxTokens", {"total": -1})
    assert m.max_tokens is None
    assert (
        w == "model 'm': maxTokens should be a non-negative integer, got {'total': -1}; using None"
    )
    m, w = one_warning("maxTokens", {"total": 2**63})
    assert m.max_tokens is None


def test_parameters():
    def parsed(value):
        return parse_model({"id": "m", "parameters": value}).parameters

    assert parsed(1.5) == 1.5 and parsed(0.0) == 0.0 and parsed(-2.5) == -2.5
    assert parsed(7) == 7.0 and type(parsed(7)) is float and parsed(0) == 0.0
    assert parsed(None) is None
    m, w = one_warning("parameters", float("-inf"))
    assert m.parameters is None
    assert w == "model 'm': parameters should be a finite number, got -inf; using None"
    m, w = one_warning("parameters", 10**400)
    assert m.parameters is None and w.startswith("model 'm': parameters should be a finite number")
    m, w = one_warning("parameters", False)
    assert m.parameters is None and w.endswith("got False; using None")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-14T18:49:11z", datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc)),
        ("2024-05-14T18:49:11Z", datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc)),
        (
            {"value": "2024-05-14T21:49:11+03:00"},
            datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc),
        ),
        (
            {"value": "2024-05-14T18:49:11.5-01:00"},
            datetime(2024, 5, 14, 19, 49, 11, 500000, timezone.utc),
        ),
    ],
)
def test_created_forms(value, expected):
    warnings: list[str] = []
    for _ in range(2):  # the second parse of a timestamp is served from the cache: same answer
        m = parse_model({"id": "m", "created": value}, warnings)
        assert m.created == expected and m.created.tzinfo is timezone.utc
    assert warnings == []


@pytest.mark.parametrize("value", ["", {"value": ""}, "nonsense", {"value": None}, {}, [], 1.5])
def test_created_unusable_warns(value):
    m, w = one_warning("created", value)
    assert m.created is None
    assert w == f"model 'm': created should be an ISO-8601 timestamp, got {value!r}; using None"


def test_created_cache_stays_bounded_and_correct():
    """Thousands of distinct timestamps (more than the cache holds) all parse correctly."""
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    stamps = [start + timedelta(seconds=i) for i in range(5000)]
    body = [{"id": str(i), "created": {"value": s.isoformat()}} for i, s in enumerate(stamps)]
    for _ in range(2):
        models, warnings = parse_snapshot(body)
        assert warnings == [] and [m.created for m in models] == stamps


def test_long_values_are_shortened_in_warnings():
    _, w = one_warning("name", ["x" * 100])
    shown = w.split("got ", 1)[1].removesuffix("; using None")
    assert shown == repr(["x" * 100])[:39] + "…" and len(shown) == 40
    _, w = one_warning("name", 10**39)  # 40 characters: shown whole
    assert w.endswith(f"got {10**39}; using None")
    _, w = one_warning("unique", 10**40)  # 41 characters: cut to 39 and an ellipsis
    assert w.endswith(f"got {str(10**40)[:39]}…; using None")


def test_skip_warnings_name_the_entry():
    warnings: list[str] = []
    assert parse_model(3, warnings) is None
    assert parse_model({"id": 5, "name": "Llama"}, warnings) is None
    assert parse_model({"name": 5}, warnings) is None
    assert parse_model({"id": ""}, warnings) is None
    assert warnings == [
        "skipped an entry that is not an object: 3",
        "skipped a model without a string id (name 'Llama'): id=5",
        "skipped a model without a string id: id=None",
        "skipped a model without a string id: id=''",
    ]
    assert parse_model(3) is None and parse_model({"id": 3}) is None  # no list: still no raise


def test_without_a_warning_list_bad_fields_are_still_none():
    m = parse_model({"id": "m", "name": 1, "cloud": "x", "bytes": -1, "parameters": "p"})
    assert (m.name, m.cloud, m.bytes, m.parameters) == (None, None, None, None)
    m = parse_model({"id": "m", "created": "bad", "maxTokens": "many", "ram": {"value": "1"}})
    assert (m.created, m.max_tokens, m.ram) == (None, None, None)


def test_a_mapping_that_is_a_dict_subclass_is_copied_to_a_plain_dict():
    from collections import OrderedDict

    entry = OrderedDict(id="m", name="n")
    m = parse_model(entry)
    assert m.name == "n" and type(m.raw) is dict and m.raw == {"id": "m", "name": "n"}


def test_usable_and_repr():
    assert Model("a", cloud=True).usable and Model("a", downloaded=True).usable
    assert not Model("a").usable and not Model("a", cloud=False, downloaded=False).usable
    assert Model("a", downloaded=True).usable is True and Model("a").usable is False
    assert repr(Model("a", name="N", unique="u", loaded=True)) == (
        "Model(id='a', name='N', unique='u', state='loaded')"
    )


def test_from_wire_raises_the_skip_warning():
    with pytest.raises(ValueError) as info:
        Model.from_wire([])
    assert str(info.value) == "skipped an entry that is not an object: []"
    with pytest.raises(ValueError) as info:
        Model.from_wire({"id": None})
    assert str(info.value) == "skipped a model without a string id: id=None"


def test_snapshot_shape_warnings_are_exact():
    assert parse_snapshot({"iterable": None})[1] == ["snapshot has no 'iterable' list (got None)"]
    assert parse_snapshot({})[1] == ["snapshot has no 'iterable' list (got None)"]
    assert parse_snapshot(7)[1] == ["snapshot is not an object: 7"]
    assert parse_snapshot({"iterable": []}) == ([], [])
    _, warnings = parse_snapshot([{"id": "d"}, {"id": "d"}, {"id": "d"}])
    assert warnings == ["model id 'd' appears more than once; kept every copy"] * 2


def test_snapshot_logs_each_warning_and_one_summary(caplog):
    body = [1, 2, 3, 4, {"id": "ok"}]
    with caplog.at_level(logging.DEBUG, logger="pieces_widgets"):
        models, warnings = parse_snapshot(body)
    assert [m.id for m in models] == ["ok"] and len(warnings) == 4
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == [f"snapshot: {w}" for w in warnings]
    (summary,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert summary == (
        "4 problem(s) in the model snapshot, the rest is fine: "
        "skipped an entry that is not an object: 1; skipped an entry that is not an object: 2; "
        "skipped an entry that is not an object: 3 (and 1 more)"
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="pieces_widgets"):
        parse_snapshot([1, 2, 3])
    (summary,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert summary.endswith("not an object: 3")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="pieces_widgets"):
        parse_snapshot([{"id": "fine"}])
    assert caplog.records == []


def test_reuse_only_for_equal_entries_with_a_known_id():
    first, _ = parse_snapshot([{"id": "a", "name": "A"}, {"id": "b"}])
    previous = {m.id: m for m in first}
    body = [
        {"id": "b"},
        {"id": "a", "name": "A2"},
        {"id": "c"},
        {"id": 3},
        "junk",
        {"id": "a", "name": "A"},
    ]
    models, warnings = parse_snapshot(body, previous)
    assert [m.id for m in models] == ["b", "a", "c", "a"]
    assert models[0] is previous["b"]
    assert models[1] is not previous["a"] and models[1].name == "A2"
    assert models[3] is previous["a"]
    assert warnings == [
        "skipped a model without a string id: id=3",
        "skipped an entry that is not an object: 'junk'",
        "model id 'a' appears more than once; kept every copy",
    ]
    again, _ = parse_snapshot(body, {})  # an empty mapping: everything parsed afresh
    assert [m.id for m in again] == ["b", "a", "c", "a"] and again[0] is not previous["b"]


def test_reuse_survives_absurdly_deep_entries():
    def deep(n):
        v: list = []
        for _ in range(n):
            v = [v]
        return v

    old, _ = parse_snapshot([{"id": "x", "extra": deep(100_000)}])
    models, warnings = parse_snapshot([{"id": "x", "extra": deep(100_000)}], {"x": old[0]})
    assert warnings == [] and len(models) == 1
    assert models[0] is not old[0] and models[0].id == "x"


# ----------------------------------------------------------------- the fast path's contract
# `_fast_model` must take every well-formed entry (else the speed it exists for is lost) and
# give up on anything that needs a decision (else a warning or a conversion would be skipped).

FULL = {
    "id": "f",
    "name": "N",
    "unique": "u",
    "cloud": False,
    "downloaded": True,
    "downloading": False,
    "loaded": True,
    "custom": False,
    "cpu": True,
    "denied": False,
    "foundation": "F",
    "provider": "P",
    "type": "T",
    "usage": "U",
    "version": "1",
    "description": "d",
    "quantization": "q",
    "created": {"value": "2024-05-14T18:49:11Z"},
    "bytes": {"value": 10},
    "ram": {"value": 2**63 - 1},
    "maxTokens": {"total": 0},
    "parameters": 1.5,
}


def fast_variants():
    yield FULL
    for key in FULL:
        if key != "id":
            yield {k: v for k, v in FULL.items() if k != key}
            yield {**FULL, key: None}
    for flag in FLAG_FIELDS:
        yield {**FULL, flag: not FULL[flag]}
    for key, inner in (("bytes", "value"), ("ram", "value"), ("maxTokens", "total")):
        yield {**FULL, key: {inner: 0}}
        yield {**FULL, key: {inner: 2**63 - 1}}


def test_fast_path_parses_a_timestamp_it_has_not_seen():
    from pieces_widgets import _fields

    micro = 0
    while (text := f"2019-07-08T09:10:11.{micro:06d}Z") in _fields._DT_CACHE:
        micro += 1
    m = _fast_model({"id": "t", "created": {"value": text}})
    assert m is not None and m.created == datetime(2019, 7, 8, 9, 10, 11, micro, timezone.utc)


def test_fast_path_takes_every_well_formed_entry():
    for entry in fast_variants():
        m = _fast_model(entry)
        assert m is not None, entry
        assert m == _tolerant_model(entry, None) and m.raw is entry
        assert parse_model(entry) == m


NEAR_MISSES = [
    ("id", ""),
    ("id", 5),
    *[(key, 5) for key in STRING_FIELDS],
    *[(key, 1) for key in FLAG_FIELDS],
    *[(key, "true") for key in FLAG_FIELDS],
    ("created", "2024-05-14T18:49:11Z"),
    ("created", {"value": 5}),
    ("created", {"value": "soon"}),
    ("created", {}),
    *[(key, 5) for key in ("bytes", "ram")],
    *[(key, {"value": v}) for key in ("bytes", "ram") for v in (-1, 2**63, 1.0, "1", None)],
    ("maxTokens", 5),
    *[("maxTokens", {"total": v}) for v in (-1, 2**63, 1.0, "1", None)],
    ("parameters", 1),
    ("parameters", float("inf")),
    ("parameters", float("nan")),
    ("parameters", "1.5"),
]


@pytest.mark.parametrize(("key", "value"), NEAR_MISSES)
def test_fast_path_gives_up_on_values_that_need_a_decision(key, value):
    entry = {**FULL, key: value}
    assert _fast_model(entry) is None
    warnings: list[str] = []
    assert parse_model(entry, warnings) == _tolerant_model(entry, warnings.append)


# ----------------------------------------------------------------- loads: json.loads, maybe faster

ODD_BODIES = [
    b'{"iterable": [{"id": "a", "bytes": {"value": 5}}]}',
    '{"caf\u00e9": [1, 2.5, -0.0, null, true]}',
    b"1e400",
    b"NaN",
    b'{"a": Infinity}',
    b'{"a":1,"a":2}',
    b"18446744073709551616",
    b"[1, 2",
    b"",
    b"[" * 5000 + b"]" * 5000,
]


def decoded(fn, body):
    try:
        return "ok", json.dumps(fn(body))  # NaN and -0.0 survive the comparison as text
    except (ValueError, RecursionError) as exc:
        return "error", type(exc)


@pytest.mark.parametrize("decoder", ["first use", "json only"])
def test_loads_decodes_like_json_loads(decoder, monkeypatch):
    monkeypatch.setattr(models_module, "_decode", ... if decoder == "first use" else None)
    for body in ODD_BODIES:
        assert decoded(models_module.loads, body) == decoded(json.loads, body), body[:20]
    assert models_module._decode is not ...  # chosen once, on first use


def test_msgspec_is_used_when_installed_and_optional(monkeypatch):
    decode = models_module._msgspec_decoder()
    if importlib.util.find_spec("msgspec") is None:
        assert decode is None
    else:
        assert decode(b'{"a": [1]}') == {"a": [1]}
    monkeypatch.setitem(sys.modules, "msgspec", None)  # an import that fails
    monkeypatch.setitem(sys.modules, "msgspec.json", None)
    assert models_module._msgspec_decoder() is None


def test_float_counts_of_zero_and_silent_empty_descriptors():
    warnings: list[str] = []
    m = parse_model(
        {"id": "m", "bytes": {"value": 0.0}, "ram": 0.0, "maxTokens": {"total": 0.0}}, warnings
    )
    assert (m.bytes, m.ram, m.max_tokens) == (0, 0, 0) and type(m.bytes) is int
    # declared-nullable maxTokens.total, and descriptors without a value: None, no warning
    m = parse_model(
        {"id": "m", "maxTokens": {"total": None}, "bytes": {}, "ram": {"readable": "?"}}, warnings
    )
    assert (m.bytes, m.ram, m.max_tokens) == (None, None, None)
    m = parse_model({"id": "m", "maxTokens": {}}, warnings)
    assert m.max_tokens is None and warnings == []
    m = parse_model({"id": "m", "bytes": {"value": None}}, warnings)
    assert m.bytes is None and warnings == [
        "model 'm': bytes should be a non-negative integer, got {'value': None}; using None"
    ]


def test_repeated_timestamps_share_one_parse_and_the_cache_is_bounded():
    from pieces_widgets import _fields

    text = "2031-02-03T04:05:06.789Z"
    a = parse_model({"id": "a", "created": {"value": text}}).created
    b = parse_model({"id": "b", "created": text}).created
    assert a == datetime(2031, 2, 3, 4, 5, 6, 789000, timezone.utc) and a is b
    assert _fields._DT_CACHE[text] is a
    assert parse_model({"id": "c", "created": "never"}).created is None
    assert "never" not in _fields._DT_CACHE
    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    for i in range(4100):
        parse_model({"id": "x", "created": (start + timedelta(minutes=i)).isoformat()})
        assert len(_fields._DT_CACHE) <= 4096


def test_snapshot_shape_warning_shows_what_came():
    assert parse_snapshot({"iterable": 5})[1] == ["snapshot has no 'iterable' list (got 5)"]
    assert parse_snapshot({"iterable": {"a": 1}})[1] == [
        "snapshot has no 'iterable' list (got {'a': 1})"
    ]
