"""The model catalogue as a pandas DataFrame with real dtypes.

pandas is imported inside `models_dataframe` so that importing the package (or the client) stays
light; the first call pays the import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .fit import fit_all
from .usage import model_used

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .models import Model

__all__ = ["COLUMNS", "FIT_COLUMNS", "models_dataframe"]

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

#: Added after `COLUMNS` with ``with_fit=True`` (as `ModelManager.to_dataframe` does).
FIT_COLUMNS: tuple[str, ...] = ("fit", "used")

_FLAGS = frozenset({"cloud", "downloaded", "downloading", "loaded", "custom", "cpu", "denied"})
_COUNTS = frozenset({"bytes", "ram", "max_tokens"})


def models_dataframe(
    models: Iterable[Model],
    *,
    with_fit: bool = False,
    usable: int | None = None,
    catalog: Sequence[Model] | None = None,
) -> pd.DataFrame:
    """One row per model, indexed by ``id`` (server order kept).

    dtypes: flags ``bool`` (missing = False), ``bytes``/``ram``/``max_tokens`` nullable
    ``Int64``, ``parameters`` ``float64``, ``created`` ``datetime64[us, UTC]`` (microseconds,
    so any year parses), text columns pandas' string dtype. An empty input gives an empty frame
    with the same columns and dtypes.

    ``with_fit`` adds `FIT_COLUMNS`: ``fit`` (``string``: "fits", "unload", "too-large",
    "unknown", <NA> for cloud models) measured against `usable` bytes (None: unknown) with what
    is loaded in `catalog` (the whole catalogue when `models` is a filtered part; default
    `models`), and ``used`` (nullable ``Int64``: the sum of the model's score counts).
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
    columns = list(COLUMNS)
    if with_fit:
        everything = list(models if catalog is None else catalog)
        fits = {r.model_id: r.status for r in fit_all(everything, usable) if r is not None}
        data["fit"] = pd.array([fits.get(m.id) for m in models], dtype="string")
        data["used"] = pd.array([model_used(m) for m in models], dtype="Int64")
        columns += FIT_COLUMNS
    index = pd.Index([m.id for m in models], dtype=text_dtype, name="id")
    return pd.DataFrame(data, index=index, columns=columns)
