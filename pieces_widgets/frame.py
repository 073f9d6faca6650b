"""The model catalogue as a pandas DataFrame with real dtypes.

pandas is imported inside `models_dataframe` so that importing the package (or the client) stays
light; the first call pays the import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .models import Model

__all__ = ["COLUMNS", "models_dataframe"]

#: Column order: the contract's 20 columns, then ``denied`` and the derived ``state``.
COLUMNS: tuple[str, ...] = (
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
    "denied",
    "state",
)

_FLAGS = frozenset({"cloud", "downloaded", "downloading", "loaded", "custom", "cpu", "denied"})
_COUNTS = frozenset({"bytes", "ram", "max_tokens"})


def models_dataframe(models: Iterable[Model]) -> pd.DataFrame:
    """One row per model, indexed by ``id`` (server order kept).

    dtypes: flags ``bool`` (missing = False), ``bytes``/``ram``/``max_tokens`` nullable
    ``Int64``, ``parameters`` ``float64``, ``created`` ``datetime64[us, UTC]`` (microseconds,
    so any year parses), text columns pandas' string dtype. An empty input gives an empty frame
    with the same columns and dtypes.
    """
    import pandas as pd

    text_dtype = "str" if int(pd.__version__.split(".", 1)[0]) >= 3 else object
    models = list(models)
    data: dict[str, object] = {}
    for col in COLUMNS:
        values = [getattr(m, col) for m in models]  # includes the `state` property
        if col in _FLAGS:
            data[col] = pd.array([bool(v) for v in values], dtype="bool")
        elif col in _COUNTS:
            data[col] = pd.array(values, dtype="Int64")
        elif col == "parameters":
            data[col] = pd.array(
                [float("nan") if v is None else v for v in values], dtype="float64"
            )
        elif col == "created":
            data[col] = pd.array(values, dtype="datetime64[us, UTC]")
        else:
            data[col] = pd.array(values, dtype=text_dtype)
    index = pd.Index([m.id for m in models], dtype=text_dtype, name="id")
    return pd.DataFrame(data, index=index, columns=list(COLUMNS))
