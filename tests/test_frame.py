"""models_dataframe: columns, dtypes, index, empty frames; pandas stays out of the client."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from importlib import resources

import pandas as pd
import pytest

from pieces_widgets.frame import COLUMNS, models_dataframe
from pieces_widgets.models import Model, parse_snapshot

SNAPSHOT = json.loads(
    resources.files("pieces_widgets.emulator").joinpath("catalog.json").read_text()
)
CONTRACT = [
    "name",
    "unique",
    "provider",
    "foundation",
    "cloud",
    "downloaded",
    "downloading",
    "loaded",
    "custom",
    "cpu",
    "bytes",
    "ram",
    "parameters",
    "quantization",
    "max_tokens",
    "version",
    "type",
    "usage",
    "created",
    "description",
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    models, _ = parse_snapshot(SNAPSHOT)
    return models_dataframe(models)


def check_dtypes(df: pd.DataFrame) -> None:
    for col in ("cloud", "downloaded", "downloading", "loaded", "custom", "cpu", "denied"):
        assert df[col].dtype == bool, col
    for col in ("bytes", "ram", "max_tokens"):
        assert df[col].dtype == "Int64", col
    assert df["parameters"].dtype == "float64"
    created = df["created"].dtype
    assert isinstance(created, pd.DatetimeTZDtype) and str(created.tz) == "UTC"
    for col in ("name", "unique", "provider", "type", "usage", "state", "description"):
        assert pd.api.types.is_string_dtype(df[col].dtype), col


def test_columns_in_contract_order_then_extras(frame):
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame.columns)[: len(CONTRACT)] == CONTRACT
    assert list(frame.columns)[len(CONTRACT) :] == ["denied", "state"]


def test_one_row_per_model_indexed_by_id(frame):
    assert frame.index.name == "id"
    assert list(frame.index) == [m["id"] for m in SNAPSHOT["iterable"]]


def test_dtypes(frame):
    check_dtypes(frame)


def test_values(frame):
    llama = frame[frame["name"] == "Llama 3 8B"].iloc[0]
    assert llama["bytes"] == 4692669824 and llama["state"] == "downloaded"
    cloud = frame.iloc[0]
    assert pd.isna(cloud["bytes"]) and pd.isna(cloud["parameters"]) and cloud["state"] == "cloud"
    assert frame["created"].notna().all()
    # filtering and sorting on raw values works without conversions
    big = frame[frame["bytes"] > 5e9].sort_values("bytes", ascending=False)
    assert big["bytes"].is_monotonic_decreasing and len(big) >= 3


def test_empty_input_keeps_columns_and_dtypes(frame):
    empty = models_dataframe([])
    assert empty.empty and list(empty.columns) == list(COLUMNS) and empty.index.name == "id"
    check_dtypes(empty)
    assert (empty.dtypes == frame.dtypes).all()


def test_missing_and_odd_values():
    df = models_dataframe([Model("a"), Model("b", cloud=True, bytes=2**63 - 1)])
    assert list(df["cloud"]) == [False, True]  # None flag -> False
    assert pd.isna(df.loc["a", "bytes"]) and df.loc["b", "bytes"] == 2**63 - 1
    assert pd.isna(df.loc["a", "created"]) and pd.isna(df.loc["a", "name"])
    check_dtypes(df)


def test_far_dates_fit():
    models, _ = parse_snapshot(
        [{"id": "x", "created": {"value": "9999-12-31T23:59:59Z"}}, {"id": "y"}]
    )
    df = models_dataframe(models)
    assert df.loc["x", "created"].year == 9999


def test_importing_the_client_does_not_import_pandas_or_starlette():
    code = (
        "import sys, pieces_widgets.client, pieces_widgets.frame;"
        "bad=[m for m in ('pandas','starlette','uvicorn') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Each test below builds its own frame (no shared fixture), so mutation testing can attribute
# the call to the test that checks the values.


def test_every_column_carries_the_model_values():
    created = datetime(2024, 5, 14, 18, 49, 11, tzinfo=timezone.utc)
    full = Model(
        "a",
        name="Llama",
        unique="llama-3",
        provider="META",
        foundation="LLAMA_3_8B",
        cloud=False,
        downloaded=True,
        downloading=False,
        loaded=True,
        custom=True,
        cpu=True,
        bytes=4_000,
        ram=6_000,
        parameters=8.0,
        quantization="Q4_K_M",
        max_tokens=8192,
        version="1",
        type="BALANCED",
        usage="CODE",
        created=created,
        description="text",
        denied=True,
    )
    df = models_dataframe([full, Model("b")])
    row = df.loc["a"]
    for col in COLUMNS:
        assert row[col] == getattr(full, col), col
    assert df["parameters"].tolist()[0] == 8.0 and pd.isna(df["parameters"].tolist()[1])
    assert df.loc["b", "state"] == "available" and df.loc["a", "state"] == "loaded"
    assert pd.isna(df.loc["b", "name"]) and pd.isna(df.loc["b", "max_tokens"])
    assert list(df.index) == ["a", "b"]
    check_dtypes(df)


def test_index_and_text_columns_use_the_string_dtype():
    df = models_dataframe([Model("x", name="n")])
    major = int(pd.__version__.split(".", 1)[0])
    expected = "str" if major >= 3 else object
    assert df.index.dtype == expected and df["name"].dtype == expected
    assert df["created"].dtype == pd.DatetimeTZDtype("us", "UTC")


def test_with_fit_adds_fit_and_used_measured_over_the_catalogue():
    gib = 2**30
    models = [
        Model("a", name="A", ram=6 * gib, raw={"score": {"manual": 0, "automatic": 7}}),
        Model("b", name="B", ram=4 * gib, loaded=True),
        Model("c", name="C", cloud=True),
    ]
    df = models_dataframe(models, with_fit=True, usable=8 * gib)
    assert list(df.columns) == [*COLUMNS, "fit", "used"]
    assert df["fit"].dtype == "string" and df["used"].dtype == "Int64"
    assert df.loc["a", "fit"] == "unload" and df.loc["b", "fit"] == "fits"
    assert pd.isna(df.loc["c", "fit"]) and df.loc["a", "used"] == 7 and pd.isna(df.loc["b", "used"])
    part = models_dataframe(models[:1], with_fit=True, usable=8 * gib, catalog=models)
    assert part.loc["a", "fit"] == "unload"  # what is loaded comes from the whole catalogue
    alone = models_dataframe(models[:1], with_fit=True, usable=8 * gib)
    assert alone.loc["a", "fit"] == "fits"
    empty = models_dataframe([], with_fit=True)
    assert list(empty.columns) == [*COLUMNS, "fit", "used"]
    assert empty["fit"].dtype == "string" and empty["used"].dtype == "Int64"
    assert list(models_dataframe(models).columns) == list(COLUMNS)  # without: as before
