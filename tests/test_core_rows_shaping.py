"""Row shaping, filters and search, progress merging, Throttle and the text/HTML reprs, pinned.

Pure functions over plain objects (SimpleNamespace) and real `Model`s: what the frontend and the
notebook reprs receive, field by field and character by character.
"""

from __future__ import annotations

import enum
import math
from types import SimpleNamespace

import pytest

from pieces_widgets.fit import FitReport, Unload
from pieces_widgets.models import Model
from pieces_widgets.rows import (
    FILTERS,
    ROW_FIELDS,
    SEARCH_FIELDS,
    TABLE_COLUMNS,
    Throttle,
    html_table,
    inert,
    merge_progress,
    model_row,
    model_rows,
    progress_entry,
    select_models,
    summary_line,
    text_table,
)

GIB = 2**30


def fake(**kw):
    base = dict(
        id="m1", name="Llama", unique=None, provider=None, foundation=None, cloud=False,
        downloaded=False, downloading=False, loaded=False, custom=False, cpu=False, bytes=None,
        ram=None, parameters=None, quantization=None, max_tokens=None, version=None, type=None,
        usage=None, description=None, state="available",
    )  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


class Kind(enum.Enum):
    BIG = "big"


# --- model_row ----------------------------------------------------------------------------


def test_row_keys_in_order():
    assert list(model_row(fake())) == [
        *ROW_FIELDS,
        "state",
        "fit",
        "fit_text",
        "fit_unload",
        "used",
    ]


def test_row_values_are_plain_json_scalars():
    row = model_row(
        fake(
            name="N",
            bytes=7,
            ram=True,
            parameters=1.5,
            max_tokens=math.inf,
            version=-math.inf,
            type=Kind.BIG,
            usage=math.nan,
            description="d",
            quantization=0.0,
        )
    )
    assert row["name"] == "N" and row["bytes"] == 7 and row["ram"] is True
    assert row["parameters"] == 1.5 and row["quantization"] == 0.0
    assert row["max_tokens"] is None and row["version"] is None and row["usage"] is None
    assert row["type"] == "Kind.BIG" and row["description"] == "d"
    assert row["fit"] is None and row["fit_text"] is None and row["fit_unload"] == []


def test_missing_attributes_become_none_and_flags_become_bools():
    row = model_row(SimpleNamespace(state="x", cloud=1, loaded="yes", cpu=0))
    assert row["name"] is None and row["bytes"] is None
    flags = ("cloud", "downloaded", "downloading", "loaded", "custom", "cpu")
    assert {f: row[f] for f in flags} == {
        "cloud": True, "downloaded": False, "downloading": False, "loaded": True,
        "custom": False, "cpu": False,
    }  # fmt: skip
    every = model_row(fake(downloaded=2, downloading="y", custom=[1], cpu=1.0))
    assert all(every[f] is True for f in ("downloaded", "downloading", "custom", "cpu"))


def test_row_carries_the_report_and_its_unload_ids():
    report = FitReport(
        "m1", "Llama", "unload", 5 * GIB, GIB, 6 * GIB, unload=(Unload("x", "X", 4 * GIB),)
    )
    row = model_row(fake(), report)
    assert row["fit"] == "unload" and row["fit_text"] == str(report)
    assert row["fit_unload"] == ["x"]
    assert model_row(fake(), report, ["given"])["fit_unload"] == ["given"]
    assert model_row(fake(), None, ["given"])["fit_unload"] == ["given"]


def test_used_needs_a_raw_score():
    m = Model("a", name="A", raw={"score": {"manual": 2, "searched": 5}})
    assert model_row(m)["used"] == 7
    assert model_row(Model("b", name="B"))["used"] is None
    assert model_row(fake(raw={"score": {"reuse": 1}}))["used"] == 1


def test_rows_with_the_same_number_to_unload_share_one_list():
    loaded = [Model(f"l{i}", name=f"L{i}", ram=GIB, loaded=True) for i in range(3)]
    big = [Model(f"b{i}", name=f"B{i}", ram=int(1.5 * GIB)) for i in range(2)]
    rows = model_rows([*loaded, *big], usable=4 * GIB)  # 1 GiB free: unload one
    assert rows[3]["fit_unload"] == ["l0"] and rows[4]["fit_unload"] is rows[3]["fit_unload"]
    assert [r["fit_unload"] for r in rows[:3]] == [[], [], []]
    assert model_rows(iter(big), usable=4 * GIB)[0]["fit"] == "fits"  # any iterable


# --- filters and search -------------------------------------------------------------------


def test_each_filter_predicate():
    m = fake(cloud=0, downloaded=1, loaded=None, custom="y")
    assert FILTERS["all"](m) is True
    assert FILTERS["local"](m) is True and FILTERS["cloud"](m) is False
    assert FILTERS["downloaded"](m) is True and FILTERS["loaded"](m) is False
    assert FILTERS["custom"](m) is True and FILTERS["fits"](m) is False
    c = fake(cloud="x", downloaded=0, loaded=2, custom=0)
    assert FILTERS["local"](c) is False and FILTERS["cloud"](c) is True
    assert FILTERS["downloaded"](c) is False and FILTERS["loaded"](c) is True
    assert FILTERS["custom"](c) is False
    assert list(FILTERS) == ["all", "local", "cloud", "downloaded", "loaded", "custom", "fits"]


def test_each_filter_through_select_models():
    models = [
        fake(id="a", downloaded=True),
        fake(id="b", cloud=True, loaded=True),
        fake(id="c", custom=True),
    ]
    got = {f: [m.id for m in select_models(models, f)] for f in FILTERS}
    assert got == {
        "all": ["a", "b", "c"], "local": ["a", "c"], "cloud": ["b"], "downloaded": ["a"],
        "loaded": ["b"], "custom": ["c"], "fits": [],
    }  # fmt: skip
    assert [m.id for m in select_models(models)] == ["a", "b", "c"]


def test_an_unknown_filter_names_the_choices():
    with pytest.raises(ValueError) as err:
        select_models([], "big")
    assert str(err.value) == (
        "unknown filter 'big'; choose one of all, local, cloud, downloaded, loaded, custom, fits"
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_search_reads_exactly_the_search_fields():
    assert SEARCH_FIELDS == (
        "name",
        "unique",
        "provider",
        "foundation",
        "quantization",
        "description",
    )
    for field in SEARCH_FIELDS:
        m = fake(id="hit", name="plain", **{field: "Needle"} if field != "name" else {})
        if field == "name":
            m.name = "Needle"
        assert select_models([m, fake(id="miss")], "all", "needle") == [m], field
    # the id, version, type and usage are not searched
    hidden = fake(id="needle", version="needle", type="needle", usage="needle")
    assert select_models([hidden], "all", "needle") == []


def test_search_is_stripped_casefolded_and_ignores_missing_fields():
    m = fake(name="Straße", description=None, unique=None)
    assert select_models([m], "all", "  STRASSE\t") == [m]
    assert select_models([m], "all", "   ") == [m]
    assert select_models([m], "all", "none") == []  # None is not searched as "None"
    assert select_models([fake(name=None)], "all", "x") == []


def test_fits_skips_cloud_models_and_keeps_order():
    models = [
        Model("c", name="Cloud", cloud=True),
        Model("b", name="B", ram=GIB),
        Model("a", name="A", ram=GIB),
        Model("u", name="Unknown"),
    ]
    assert [m.id for m in select_models(models, "fits", usable=4 * GIB)] == ["b", "a"]
    assert [m.id for m in select_models(models, "fits", "a", 4 * GIB)] == ["a"]


# --- progress -----------------------------------------------------------------------------


class Status(enum.Enum):
    RUN = "IN-PROGRESS"

    def __str__(self) -> str:
        return self.value


def test_progress_entry_types_unknowns_and_flags():
    p = SimpleNamespace(
        status=Status.RUN, percentage=None, bytes_done=None, bytes_total=None, speed=None,
        eta=None, stalled=1, terminal="y",
    )  # fmt: skip
    assert progress_entry(p) == {
        "status": "IN-PROGRESS", "percentage": None, "bytes_done": None, "bytes_total": None,
        "speed": None, "eta": None, "stalled": True, "terminal": True,
    }  # fmt: skip
    q = SimpleNamespace(
        status="X", percentage=50, bytes_done=1, bytes_total=2, speed=1000, eta=3,
        stalled=0, terminal=None,
    )  # fmt: skip
    entry = progress_entry(q)
    assert entry["stalled"] is False and entry["terminal"] is False
    for key in ("percentage", "speed", "eta"):
        assert type(entry[key]) is float, key
    assert progress_entry(SimpleNamespace(**{**vars(q), "eta": 0.05, "speed": 0.4})) | {} == {
        **entry, "eta": 0.1, "speed": 0.0,
    }  # fmt: skip
    r = progress_entry(SimpleNamespace(**{**vars(q), "percentage": 1.005001, "eta": 2.449}))
    assert r["percentage"] == 1.01 and r["eta"] == 2.4


def test_merge_progress_rules():
    old = {"percentage": 40.0, "bytes_done": 400, "terminal": False, "speed": 1.0}
    back = {"percentage": 30.0, "bytes_done": 300, "terminal": False, "speed": 2.0}
    assert merge_progress(old, back) == {
        "percentage": 40.0, "bytes_done": 400, "terminal": False, "speed": 2.0,
    }  # fmt: skip
    assert back["percentage"] == 30.0  # the update itself is not changed
    unknown = {"percentage": None, "bytes_done": None, "speed": 3.0}
    assert merge_progress(old, unknown) == {"percentage": 40.0, "bytes_done": 400, "speed": 3.0}
    same = {"percentage": 40.0, "bytes_done": 401}
    assert merge_progress(old, same) is same
    assert merge_progress(None, back) is back and merge_progress({}, back) is back
    assert merge_progress({"percentage": None}, back) is back
    assert merge_progress({"bytes_done": 5}, back) is back
    ended = {"percentage": 10.0, "terminal": True}
    assert merge_progress(old, ended) is ended
    assert merge_progress({**old, "terminal": True}, back) is back


# --- Throttle -----------------------------------------------------------------------------


def test_throttle():
    t = Throttle(2.0)
    assert t.interval == 2.0 and t.last == -math.inf
    assert t.delay(-1e9) == 0.0 and t.delay(0.0) == 0.0
    t.mark(10.0)
    assert t.last == 10.0
    assert t.delay(10.0) == 2.0
    assert t.delay(11.5) == 0.5
    assert t.delay(12.0) == 0.0
    assert t.delay(50.0) == 0.0
    t.mark(11.0)
    assert t.delay(12.0) == 1.0


# --- summary and tables -------------------------------------------------------------------


def test_summary_line_singular_nothing_loaded_and_unknown_sizes():
    assert summary_line([]) == "0 models · 0 local, 0 on disk (0 B) · 0 loaded"
    assert summary_line([fake(downloaded=True, bytes=None)]) == (
        "1 model · 1 local, 1 on disk (0 B) · 0 loaded"
    )
    models = [
        fake(cloud=True, downloaded=True, bytes=5000, loaded=True, ram=2000),
        fake(downloaded=True, bytes=1500, loaded=True, ram=None),
        fake(downloaded=False, bytes=9999),
    ]
    assert summary_line(models) == (
        "3 models · 2 local, 1 on disk (1.5 KB) · 2 loaded (about 2.0 KB RAM)"
    )


def test_table_columns():
    assert [name for name, _ in TABLE_COLUMNS] == [
        "Name", "Tag", "Provider", "State", "Size", "RAM", "Params", "Quant", "Context",
    ]  # fmt: skip
    m = fake(
        name="N", unique="u:1", provider="P", state="loaded", bytes=1_500_000, ram=2_000_000_000,
        parameters=7.0, quantization="Q4", max_tokens=131072,
    )  # fmt: skip
    assert [get(m) for _, get in TABLE_COLUMNS] == [
        "N", "u:1", "P", "loaded", "1.5 MB", "2.00 GB", "7B", "Q4", "131,072",
    ]  # fmt: skip
    assert [get(fake()) for _, get in TABLE_COLUMNS] == [
        "Llama", "", "", "available", "", "", "", "", "",
    ]  # fmt: skip
    small = fake(parameters=0.5, max_tokens=0)
    assert TABLE_COLUMNS[6][1](small) == "0.5B" and TABLE_COLUMNS[8][1](small) == "0"


def test_inert():
    assert inert("  a \n\t b  ") == "a b"
    assert inert("x\x07y\u202ez\u200b") == "x\ufffdy\ufffdz\ufffd"
    assert inert("héllo, 世界") == "héllo, 世界"


def test_text_table_exact():
    models = [
        fake(name="Gemma", unique="g:2b", state="loaded", parameters=2.0, max_tokens=8192),
        fake(name="X" * 40, provider="\x1bP", bytes=10),
    ]
    assert text_table(models) == "\n".join(
        [
            "Name                                  Tag   Provider  State      Size  RAM  Params"
            "  Quant  Context",
            "Gemma                                 g:2b            loaded                2B"
            "             8,192",
            "X" * 35 + "…  " + "      \ufffdP        available  10 B",
        ]
    )


def test_text_table_clips_at_36_and_limits_rows():
    exact = fake(name="Y" * 36)
    assert text_table([exact]).splitlines()[1] == "Y" * 36 + " " * 17 + "available"
    rows = [fake(name=f"m{i}") for i in range(4)]
    lines = text_table(rows, limit=2).splitlines()
    assert len(lines) == 4 and lines[-1] == "… and 2 more"
    assert text_table(rows, limit=4).splitlines()[-1].startswith("m3")
    assert len(text_table([fake()] * 51).splitlines()) == 1 + 50 + 1
    assert text_table([]) == "Name  Tag  Provider  State  Size  RAM  Params  Quant  Context"


def test_html_table_exact():
    m = fake(name="<b>", unique="u", max_tokens=1000)
    head = "".join(f"<th>{n}</th>" for n, _ in TABLE_COLUMNS)
    cells = ["&lt;b&gt;", "u", "", "available", "", "", "", "", "1,000"]
    row = "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
    assert html_table([m], "T & co") == (
        '<div class="pieces-mm-static"><p><strong>T &amp; co</strong></p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{row}</tbody></table></div>"
    )
    many = html_table([m] * 3, "t", limit=2)
    assert many.count("<tr>") == 3 and many.endswith("<p>… and 1 more</p></div>")
    assert html_table([m] * 200, "t").count("<td>u</td>") == 200
    assert "more" not in html_table([m] * 200, "t")
    assert "<p>… and 1 more</p>" in html_table([m] * 201, "t")
    assert "&quot;" in html_table([fake(name='"')], "t")


def test_rows_follow_each_other_and_the_header_has_no_trailing_space():
    m = fake(name="A", max_tokens=1_000_000)
    assert "</td></tr><tr><td>A</td>" in html_table([m, m], "t")
    header = text_table([m]).splitlines()[0]
    assert header.endswith("Context") and text_table([m]).splitlines()[1].endswith("1,000,000")
    assert text_table([fake()] * 51).splitlines()[-1] == "… and 1 more"


def test_search_and_summary_on_sparse_objects():
    sparse = SimpleNamespace(id="s", name="Only a name", cloud=False)
    assert select_models([sparse], "local", "name") == [sparse]
    assert select_models([sparse], "all", "zzz") == []
    assert summary_line([fake(loaded=True, ram=None)]) == (
        "1 model · 1 local, 0 on disk (0 B) · 1 loaded (about 0 B RAM)"
    )
