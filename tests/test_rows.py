"""Pure widget-state helpers: rows, filters, progress merging, throttling, text/HTML tables."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from pieces_widgets.rows import (
    Throttle,
    format_bytes,
    html_table,
    merge_progress,
    model_row,
    model_rows,
    progress_entry,
    select_models,
    summary_line,
    text_table,
)


def fake(**kw):
    base = dict(
        id="m1", name="Llama", unique="llama:1b", provider="META", foundation="LLAMA_3_8B",
        cloud=False, downloaded=False, downloading=False, loaded=False, custom=False, cpu=False,
        bytes=None, ram=None, parameters=None, quantization=None, max_tokens=None, version="1",
        type="BALANCED", usage="CODE_CONVERSATION", description=None, state="available",
    )  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


def test_model_row_is_json_safe_and_keeps_unknown_enums():
    row = model_row(fake(provider="NEW_PROVIDER_2027", parameters=math.nan, bytes=5, cpu=None))
    assert row["provider"] == "NEW_PROVIDER_2027"
    assert row["parameters"] is None and row["bytes"] == 5 and row["cpu"] is False
    assert row["state"] == "available"


def test_select_models_filters_and_searches_like_the_frontend():
    models = [
        fake(id="a", name="Gemma 2", cloud=False, downloaded=True),
        fake(id="b", name="GPT-4o", cloud=True, provider="OPENAI"),
        fake(id="c", name="Mine", custom=True, description="fine-tuned GEMMA"),
    ]
    assert [m.id for m in select_models(models, "cloud")] == ["b"]
    assert [m.id for m in select_models(models, "local")] == ["a", "c"]
    assert [m.id for m in select_models(models, "all", "gemma")] == ["a", "c"]
    assert [m.id for m in select_models(models, "all", "  openai ")] == ["b"]
    with pytest.raises(ValueError):
        select_models(models, "bogus")


def test_merge_progress_never_goes_back_within_a_download():
    old = {"percentage": 40.0, "bytes_done": 400, "terminal": False}
    assert (
        merge_progress(old, {"percentage": 30.0, "bytes_done": 300, "terminal": False})[
            "percentage"
        ]
        == 40.0
    )
    assert (
        merge_progress(old, {"percentage": 50.0, "bytes_done": 500, "terminal": False})[
            "percentage"
        ]
        == 50.0
    )
    # a terminal state always wins (a cancel at 40 % reports its own numbers)
    assert merge_progress(old, {"percentage": 0, "terminal": True})["percentage"] == 0
    # a new download after a terminal one starts from its own numbers
    done = {"percentage": 100, "terminal": True}
    assert merge_progress(done, {"percentage": 1, "terminal": False})["percentage"] == 1


def test_progress_entry_rounds():
    p = SimpleNamespace(
        status="IN-PROGRESS",
        percentage=12.34567,
        bytes_done=10,
        bytes_total=100,
        speed=1234.56,
        eta=7.777,
        stalled=False,
        terminal=False,
    )
    entry = progress_entry(p)
    assert entry == {
        "status": "IN-PROGRESS",
        "percentage": 12.35,
        "bytes_done": 10,
        "bytes_total": 100,
        "speed": 1235.0,
        "eta": 7.8,
        "stalled": False,
        "terminal": False,
    }


def test_throttle_allows_one_send_per_interval():
    t = Throttle(0.1)
    assert t.delay(0.0) == 0
    t.mark(0.0)
    assert t.delay(0.03) == pytest.approx(0.07)
    assert t.delay(0.1) == 0


def test_format_bytes_uses_decimal_units_like_the_server():
    assert format_bytes(4692669824) == "4.69 GB"
    assert format_bytes(999) == "999 B"
    assert format_bytes(30408704) == "30.4 MB"
    assert format_bytes(None) == ""


def test_summary_line_counts_and_sums():
    models = [
        fake(id="a", downloaded=True, bytes=2_000_000_000, loaded=True, ram=3_000_000_000),
        fake(id="b", downloaded=True, bytes=1_000_000_000),
        fake(id="c"),
        fake(id="d", cloud=True),
    ]
    assert summary_line(models) == (
        "4 models · 3 local, 2 on disk (3.00 GB) · 1 loaded (about 3.00 GB RAM)"
    )


def test_text_table_strips_control_characters_and_clips():
    t = text_table([fake(name="evil\nname\x1b[31m" + "x" * 80)])
    assert "\n" not in t.splitlines()[1]
    assert "…" in t


def test_html_table_escapes_everything():
    h = html_table([fake(name="<script>alert(1)</script>", unique='"><img>')], "title <b>")
    assert "<script>" not in h and "<img>" not in h and "<b>" not in h
    assert "&lt;script&gt;" in h


def test_rows_carry_fit_and_used_measured_over_the_whole_catalogue():
    from pieces_widgets.models import Model

    gib = 2**30
    models = [
        Model("big", name="Big", ram=10 * gib),
        Model("run", name="Running", ram=4 * gib, loaded=True, downloaded=True),
        Model("small", name="Small", ram=gib, raw={"score": {"manual": 1, "reuse": 2}}),
        Model("huge", name="Huge", ram=40 * gib),
        Model("nofig", name="No figure"),
        Model("cloud", name="Cloud", cloud=True),
    ]
    rows = {r["id"]: r for r in model_rows(models, usable=12 * gib)}
    assert {k: r["fit"] for k, r in rows.items()} == {
        "big": "unload", "run": "fits", "small": "fits", "huge": "too-large",
        "nofig": "unknown", "cloud": None,
    }  # fmt: skip
    assert rows["big"]["fit_unload"] == ["run"] and rows["small"]["fit_unload"] == []
    assert "unload Running (4.29 GB) first" in rows["big"]["fit_text"]
    assert rows["cloud"]["fit_text"] is None and rows["cloud"]["fit_unload"] == []
    assert rows["small"]["used"] == 3 and rows["big"]["used"] is None
    unknown = model_rows(models)  # no machine figure: nothing but the running model "fits"
    assert [r["fit"] for r in unknown] == ["unknown", "fits", "unknown", "unknown", "unknown", None]
    assert model_row(fake())["fit"] is None and model_row(fake())["used"] is None


def test_the_fits_filter_needs_the_machine_and_the_catalogue():
    from pieces_widgets.models import Model
    from pieces_widgets.rows import FILTERS

    gib = 2**30
    models = [
        Model("a", name="Gemma", ram=6 * gib),
        Model("b", name="Loaded", ram=4 * gib, loaded=True),
        Model("c", name="Cloud gemma", cloud=True),
    ]
    assert "fits" in FILTERS
    assert [m.id for m in select_models(models, "fits", usable=12 * gib)] == ["a", "b"]
    assert [m.id for m in select_models(models, "fits", usable=8 * gib)] == ["b"]  # a: unload
    assert [m.id for m in select_models(models, "fits")] == ["b"]  # unknown machine
    assert [m.id for m in select_models(models, "fits", "gemma", 12 * gib)] == ["a"]


def test_many_models_to_unload_are_all_listed_but_five_named():
    from pieces_widgets.models import Model

    gib = 2**30
    loaded = [Model(f"l{i}", name=f"Loaded {i}", ram=gib, loaded=True) for i in range(8)]
    models = [*loaded, Model("big", name="Big", ram=9 * gib)]
    rows = {r["id"]: r for r in model_rows(models, usable=10 * gib)}  # 2 GiB free: unload 7
    big = rows["big"]
    assert big["fit"] == "unload" and big["fit_unload"] == [f"l{i}" for i in range(7)]
    assert big["fit_text"].endswith("Loaded 4 (1.07 GB) and 2 more first.")
    assert "Loaded 5" not in big["fit_text"]
