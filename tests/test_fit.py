"""Fit: will a local model run here, what to unload, and the memory budget."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_widgets.device import parse_device_info, usable_memory
from pieces_widgets.fit import (
    FIT_STATUSES,
    FITS,
    TOO_LARGE,
    UNKNOWN,
    UNLOAD,
    Budget,
    FitReport,
    Unload,
    budget,
    fit_all,
    fit_column,
    fit_model,
)
from pieces_widgets.models import Model, parse_snapshot

GiB = 2**30
SNAPSHOT = json.loads((Path(__file__).parent / "fixtures" / "models_snapshot.json").read_text())


def local(
    mid: str, ram: int | None, *, loaded: bool | None = False, name: str | None = None
) -> Model:
    return Model(id=mid, name=name, cloud=False, downloaded=True, loaded=loaded, ram=ram)


def catalogue() -> list[Model]:
    models, warnings = parse_snapshot(SNAPSHOT)
    assert warnings == []
    return models


def by_name(models: list[Model], name: str) -> Model:
    return next(m for m in models if m.name == name)


def test_statuses() -> None:
    assert (FITS, UNLOAD, TOO_LARGE, UNKNOWN) == ("fits", "unload", "too-large", "unknown")
    assert FIT_STATUSES == ("fits", "unload", "too-large", "unknown")


# --------------------------------------------------------------------------- one model


def test_fits_in_what_is_free() -> None:
    a = local("a", 4, loaded=True, name="A")
    m = local("m", 5, name="M")
    report = fit_model(m, [a, m], usable=10)
    assert report == FitReport("m", "M", FITS, needed=5, available=6, usable=10)
    assert report.unload == ()
    assert report.loaded is False


def test_exactly_what_is_free_fits() -> None:
    a = local("a", 4, loaded=True)
    assert fit_model(local("m", 6), [a], 10).status == FITS  # type: ignore[union-attr]
    assert fit_model(local("m", 7), [a], 10).status == UNLOAD  # type: ignore[union-attr]


def test_exactly_usable_is_not_too_large() -> None:
    assert fit_model(local("m", 10), [], 10).status == FITS  # type: ignore[union-attr]
    assert fit_model(local("m", 11), [], 10).status == TOO_LARGE  # type: ignore[union-attr]
    a = local("a", 1, loaded=True)
    report = fit_model(local("m", 10), [a], 10)
    assert report is not None
    assert (report.status, report.unload) == (UNLOAD, (Unload("a", None, 1),))


def test_too_large_whatever_is_loaded() -> None:
    report = fit_model(local("m", 11, name="Big"), [local("a", 4, loaded=True)], 10)
    assert report == FitReport("m", "Big", TOO_LARGE, needed=11, available=6, usable=10)


def test_too_large_even_when_a_loaded_model_has_no_ram_figure() -> None:
    report = fit_model(local("m", 11), [local("a", None, loaded=True)], 10)
    assert report == FitReport("m", None, TOO_LARGE, needed=11, available=None, usable=10)


def test_loaded_model_without_ram_makes_the_fit_unknown() -> None:
    models = [local("a", None, loaded=True), local("b", 1, loaded=True)]
    report = fit_model(local("m", 1), models, 10)
    assert report == FitReport("m", None, UNKNOWN, needed=1, available=None, usable=10)


def test_unknown_without_a_ram_figure_for_the_model() -> None:
    report = fit_model(local("m", None), [local("a", 1, loaded=True)], 10)
    assert report == FitReport("m", None, UNKNOWN, needed=None, available=9, usable=10)


def test_unknown_without_a_figure_for_the_machine() -> None:
    report = fit_model(local("m", 1), [local("a", 1, loaded=True)], None)
    assert report == FitReport("m", None, UNKNOWN, needed=1, available=None, usable=None)


def test_loaded_model_fits_because_it_runs() -> None:
    big = local("big", 50, loaded=True, name="Big")
    assert fit_model(big, [big], 10) == FitReport(
        "big", "Big", FITS, needed=50, available=0, usable=10, loaded=True
    )
    assert fit_model(big, [big], None) == FitReport(
        "big", "Big", FITS, needed=50, available=None, usable=None, loaded=True
    )
    nofig = local("n", None, loaded=True)
    assert fit_model(nofig, [nofig], 10).status == FITS  # type: ignore[union-attr]


def test_cloud_models_have_no_fit() -> None:
    cloud = Model(id="c", cloud=True, ram=1)
    assert fit_model(cloud, [cloud], 10) is None
    loaded_cloud = Model(id="lc", cloud=True, loaded=True, ram=100)
    assert fit_model(loaded_cloud, [loaded_cloud], 10) is None


def test_loaded_cloud_models_take_no_local_memory() -> None:
    models = [
        Model(id="c", cloud=True, loaded=True, ram=100),
        Model(id="d", cloud=True, loaded=True),
    ]
    report = fit_model(local("m", 10), models, 10)
    assert report is not None
    assert (report.status, report.available) == (FITS, 10)


def test_cloud_flag_unknown_counts_as_local() -> None:
    m = Model(id="m", ram=5)
    assert fit_model(m, [m], 10).status == FITS  # type: ignore[union-attr]
    loaded = Model(id="l", loaded=True, ram=8)
    assert fit_model(m, [loaded], 10).status == UNLOAD  # type: ignore[union-attr]


def test_loaded_none_is_not_loaded() -> None:
    m = local("m", 20, loaded=None)
    report = fit_model(m, [m, local("x", None, loaded=None)], 10)
    assert report is not None
    assert (report.status, report.loaded, report.available) == (TOO_LARGE, False, 10)


# --------------------------------------------------------------------------- what to unload


def test_unload_the_fewest_largest_first() -> None:
    loaded = [
        local("s1", 1, loaded=True, name="S1"),
        local("l1", 5, loaded=True, name="L1"),
        local("s2", 2, loaded=True, name="S2"),
        local("l2", 4, loaded=True, name="L2"),
    ]
    # usable 20, loaded 12, free 8; needs 16: short of 8 -> L1 (5) then L2 (4).
    report = fit_model(local("m", 16), loaded, 20)
    assert report is not None
    assert report.status == UNLOAD
    assert report.unload == (Unload("l1", "L1", 5), Unload("l2", "L2", 4))
    assert (report.needed, report.available, report.usable) == (16, 8, 20)


def test_unload_stops_exactly_when_enough_is_free() -> None:
    loaded = [local("a", 5, loaded=True), local("b", 3, loaded=True), local("c", 2, loaded=True)]
    # usable 20, loaded 10, free 10. Needs 15: a alone frees exactly enough.
    assert fit_model(local("m", 15), loaded, 20).unload == (Unload("a", None, 5),)  # type: ignore[union-attr]
    # Needs 16: a and b.
    assert [u.id for u in fit_model(local("m", 16), loaded, 20).unload] == ["a", "b"]  # type: ignore[union-attr]
    # Needs 20 (all of usable): every loaded model.
    assert [u.id for u in fit_model(local("m", 20), loaded, 20).unload] == ["a", "b", "c"]  # type: ignore[union-attr]


def test_unload_ties_go_by_id() -> None:
    loaded = [local("z", 4, loaded=True), local("b", 4, loaded=True), local("k", 4, loaded=True)]
    report = fit_model(local("m", 6), loaded, 12)
    assert [u.id for u in report.unload] == ["b", "k"]  # type: ignore[union-attr]


def test_unload_when_loaded_models_exceed_usable() -> None:
    loaded = [local("a", 8, loaded=True), local("b", 4, loaded=True)]
    # usable 10, loaded 12: free is 0 (really -2). Needs 3: unloading a (8) gives 6.
    report = fit_model(local("m", 3), loaded, 10)
    assert report is not None
    assert (report.status, report.available, report.unload) == (UNLOAD, 0, (Unload("a", None, 8),))
    # Needs 7: unloading a gives 6, not enough: b too.
    assert [u.id for u in fit_model(local("m", 7), loaded, 10).unload] == ["a", "b"]  # type: ignore[union-attr]
    # Needs 0: free is below zero, so even nothing needs a model unloaded... the smallest set.
    zero = fit_model(local("z", 0), loaded, 10)
    assert zero is not None
    assert (zero.status, [u.id for u in zero.unload]) == (UNLOAD, ["a"])


def test_zero_ram_model_fits_when_nothing_is_overcommitted() -> None:
    assert fit_model(local("z", 0), [local("a", 10, loaded=True)], 10).status == FITS  # type: ignore[union-attr]


# --------------------------------------------------------------------------- str()


def test_str_fits() -> None:
    report = FitReport(
        "m", "Llama", FITS, needed=6_440_000_000, available=10_460_000_000, usable=13_740_000_000
    )
    assert str(report) == "Llama fits: needs 6.44 GB, 10.46 GB free of 13.74 GB usable."


def test_str_unload_names_the_models() -> None:
    report = FitReport(
        "m",
        "Phi-4",
        UNLOAD,
        needed=12_880_000_000,
        available=2_000_000_000,
        usable=13_740_000_000,
        unload=(Unload("a", "Llama 3", 6_440_000_000), Unload("b", None, 775_900_000)),
    )
    assert str(report) == (
        "Phi-4 needs 12.88 GB but only 2.00 GB free of 13.74 GB usable: "
        "unload Llama 3 (6.44 GB), b (775.9 MB) first."
    )


def test_str_too_large() -> None:
    report = FitReport(
        "m", None, TOO_LARGE, needed=34_360_000_000, available=None, usable=13_740_000_000
    )
    assert str(report) == (
        "m is too large: needs 34.36 GB, more than the 13.74 GB this machine can give a model."
    )


def test_str_unknown_says_why() -> None:
    assert str(FitReport("m", "M", UNKNOWN, None, 5, 10)) == (
        "M: fit unknown, the model has no RAM figure."
    )
    assert str(FitReport("m", "M", UNKNOWN, 5, None, None)) == (
        "M: fit unknown, no memory figure for this machine."
    )
    assert str(FitReport("m", "M", UNKNOWN, 5, None, 10)) == (
        "M: fit unknown, a loaded model's RAM is unknown."
    )


def test_str_loaded() -> None:
    assert str(FitReport("m", "M", FITS, 3_220_000_000, 0, 10, loaded=True)) == (
        "M is loaded (running), using 3.22 GB."
    )
    assert str(FitReport("m", "", FITS, None, 0, 10, loaded=True)) == "m is loaded (running)."


# --------------------------------------------------------------------------- all models


def test_fixture_catalogue_on_a_16_gb_machine() -> None:
    models = catalogue()
    usable = usable_memory(parse_device_info({"hardware": {"ram": {"memory": 16}}}))
    assert usable == int(16 * GiB * 0.8)
    reports = fit_all(models, usable)
    by_id = {m.id: r for m, r in zip(models, reports, strict=True)}
    assert [r for m, r in zip(models, reports, strict=True) if m.cloud] == [None] * 13
    phi4 = by_id[by_name(models, "Phi-4 14B").id]
    assert phi4 is not None and phi4.status == UNLOAD
    assert [u.name for u in phi4.unload] == ["Llama 3.2 3B"]  # the larger of the two loaded
    assert by_id[by_name(models, "Mixtral 8 7B").id].status == TOO_LARGE  # type: ignore[union-attr]
    assert by_id[by_name(models, "Llama 3 8B").id].status == FITS  # type: ignore[union-attr]
    assert by_id[by_name(models, "Llama 3.2 3B").id].loaded is True  # type: ignore[union-attr]
    assert str(phi4) == (
        "Phi-4 14B needs 12.88 GB but only 10.46 GB free of 13.74 GB usable: "
        "unload Llama 3.2 3B (3.22 GB) first."
    )
    column = fit_column(models, usable)
    assert column == [None if r is None else r.status for r in reports]
    assert column.count(FITS) == 12 and column.count(UNLOAD) == 1
    assert column.count(TOO_LARGE) == 1 and column.count(None) == 13


def test_fixture_catalogue_on_an_unknown_machine() -> None:
    models = catalogue()
    column = fit_column(models, None)
    assert set(column) == {None, FITS, UNKNOWN}
    assert column.count(FITS) == 2  # the two loaded models


def test_fit_all_matches_fit_model_and_keeps_order() -> None:
    models = catalogue()
    usable = 8 * GiB
    assert fit_all(models, usable) == [fit_model(m, models, usable) for m in models]
    assert fit_all([], usable) == []
    assert fit_column([], usable) == []


def test_fit_model_accepts_an_iterator() -> None:
    a = local("a", 4, loaded=True)
    assert fit_model(local("m", 7), iter([a]), 10).status == UNLOAD  # type: ignore[union-attr]


# --------------------------------------------------------------------------- budget


def test_budget_of_the_fixture() -> None:
    models = catalogue()
    b = budget(models, 10_000_000_000)
    on_disk = [m for m in models if m.downloaded and not m.cloud]
    assert b == Budget(
        disk_used=sum(m.bytes for m in on_disk),  # type: ignore[misc]
        disk_models=6,
        disk_unknown=0,
        ram_used=3221225472 + 67108864,
        ram_models=2,
        ram_unknown=0,
        usable=10_000_000_000,
    )
    assert str(b) == (
        "Disk: 20.17 GB used by 6 downloaded models. "
        "RAM: 3.29 GB of 10.00 GB usable used by 2 loaded models."
    )


def test_budget_counts_missing_figures_and_skips_cloud() -> None:
    models = [
        Model(id="a", downloaded=True, loaded=True, bytes=100, ram=10),
        Model(id="b", downloaded=True, loaded=True),
        Model(id="c", downloaded=True, bytes=5),
        Model(id="d", downloaded=None, loaded=None, bytes=1000, ram=1000),
        Model(id="e", cloud=True, downloaded=True, loaded=True, bytes=7, ram=7),
    ]
    b = budget(iter(models), None)
    assert b == Budget(
        disk_used=105,
        disk_models=3,
        disk_unknown=1,
        ram_used=10,
        ram_models=2,
        ram_unknown=1,
        usable=None,
    )
    assert str(b) == "Disk: 105 B used by 3 downloaded models. RAM: 10 B used by 2 loaded models."


def test_empty_budget() -> None:
    assert budget([], 5) == Budget(0, 0, 0, 0, 0, 0, 5)


# --------------------------------------------------------------------------- properties

ram = st.none() | st.integers(min_value=0, max_value=64)
models_strategy = st.lists(
    st.builds(
        Model,
        id=st.text(alphabet="abcdef", min_size=1, max_size=3),
        cloud=st.sampled_from([None, False, True]),
        loaded=st.sampled_from([None, False, True]),
        ram=ram,
    ),
    max_size=8,
)
PROPS = settings(
    max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPS
@given(models=models_strategy, usable=st.none() | st.integers(min_value=0, max_value=100))
def test_fit_is_never_wrong(models: list[Model], usable: int | None) -> None:
    local_loaded = [m for m in models if m.loaded is True and not m.cloud]
    free = None
    if usable is not None and all(m.ram is not None for m in local_loaded):
        free = usable - sum(m.ram for m in local_loaded)  # type: ignore[misc]
    for m, report in zip(models, fit_all(models, usable), strict=True):
        if m.cloud:
            assert report is None
            continue
        assert report is not None and report.status in FIT_STATUSES
        assert report.available == (None if free is None else max(0, free))
        if m.loaded is True:
            assert report.status == FITS
            continue
        if report.status == FITS:
            assert report.needed is not None and report.available is not None
            assert report.needed <= report.available
            assert report.needed <= free  # type: ignore[operator]
        if report.status == TOO_LARGE:
            assert report.needed > usable  # type: ignore[operator]
        if report.status == UNKNOWN:
            assert m.ram is None or usable is None or free is None
        if report.status == UNLOAD:
            freed = [u.ram for u in report.unload]
            assert report.needed <= usable  # type: ignore[operator]
            assert report.needed > free  # type: ignore[operator]
            assert free + sum(freed) >= report.needed  # type: ignore[operator]
            assert free + sum(freed[:-1]) < report.needed  # type: ignore[operator]
            assert freed == sorted(freed, reverse=True)
            assert {u.id for u in report.unload} <= {x.id for x in local_loaded}
        else:
            assert report.unload == ()
