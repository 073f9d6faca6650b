"""What to delete to get disk space back: sizes like ``"10 GB"`` and the cleanup plan. Pure.

Sizes are decimal (1 GB = 10**9 bytes) like the frontend's `formatBytes` and Pieces OS's
``readable`` strings, so a plan asked for "10 GB" frees what the table shows as 10 GB; ``GiB``
and the other IEC units are binary. pandas is imported only by `cleanup_plan`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal
from numbers import Integral, Real
from typing import TYPE_CHECKING, NamedTuple

from .usage import model_used

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .models import Model

__all__ = ["PLAN_COLUMNS", "PlanRow", "cleanup_candidates", "cleanup_plan", "parse_size", "plan"]

#: Columns of `cleanup_plan`, after the ``id`` index.
PLAN_COLUMNS = ("name", "bytes", "used", "freed")

_SIZE = re.compile(r"\s*([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}


def parse_size(size: int | float | str) -> int:
    """Bytes from an int, a float, or a string like ``"10 GB"``, ``"1.5tb"``, ``"10 GiB"``.

    Units (case-insensitive, space optional): B, KB, MB, GB, TB, PB (decimal) and KiB, MiB, GiB,
    TiB, PiB (binary); a bare number is bytes. A fraction of a byte rounds up. Raises ValueError
    for anything else, negative sizes, NaN and infinity.
    """
    if isinstance(size, bool) or not isinstance(size, (Real, str)):
        raise ValueError(f"a size is bytes as an int or a string like '10 GB', got {size!r}")
    if isinstance(size, Integral):
        value = Decimal(int(size))
    elif isinstance(size, Real):
        number = float(size)
        if not math.isfinite(number):
            raise ValueError(f"a size must be a finite number of bytes, got {size!r}")
        value = Decimal(repr(number))
    else:
        match = _SIZE.fullmatch(size)
        factor = _UNITS.get(match.group(3).lower()) if match else None
        if match is None or factor is None:
            raise ValueError(
                f"cannot read {size!r} as a size: use a number and a unit like '10 GB', "
                f"'500 MB' or '1.5 GiB'"
            )
        value = Decimal(match.group(1) + match.group(2)) * factor
    if value < 0:
        raise ValueError(f"a size cannot be negative, got {size!r}")
    return math.ceil(value)


class PlanRow(NamedTuple):
    """One model of a cleanup plan; ``freed`` is the running total up to and including it."""

    id: str
    name: str | None
    bytes: int | None
    used: int | None
    freed: int


def cleanup_candidates(models: Iterable[Model]) -> list[Model]:
    """Downloaded local models that are neither loaded nor downloading, in plan order.

    Order: least used first (no score counts as 0 uses), then larger first, then by id (a stable
    order for ties). Models without a byte size come last: deleting them frees an unknown amount,
    so they cannot help reach a target.
    """
    found = [
        m
        for m in models
        if m.downloaded is True and not m.cloud and not m.loaded and not m.downloading
    ]
    sized = [m for m in found if m.bytes is not None]
    unsized = [m for m in found if m.bytes is None]
    sized.sort(key=lambda m: (_uses(m), -m.bytes, m.id))  # type: ignore[operator]
    unsized.sort(key=lambda m: (_uses(m), m.id))
    return sized + unsized


def _uses(m: Model) -> int:
    return model_used(m) or 0


def plan(models: Iterable[Model], free: int | float | str) -> list[PlanRow]:
    """The cleanup plan as rows (no pandas): candidates in order until ``freed`` reaches `free`.

    The last row is the first one at which ``freed >= free``; every candidate when the target is
    never reached; none when `free` is 0. A model without a byte size leaves ``freed`` unchanged.
    """
    target = parse_size(free)
    rows: list[PlanRow] = []
    freed = 0
    for m in cleanup_candidates(models):
        if freed >= target:
            break
        freed += m.bytes or 0
        rows.append(PlanRow(m.id, m.name, m.bytes, model_used(m), freed))
    return rows


def cleanup_plan(models: Iterable[Model], free: int | float | str) -> pd.DataFrame:
    """`plan` as a DataFrame indexed by ``id`` with columns `PLAN_COLUMNS`.

    dtypes: ``name`` text (as in `models_dataframe`), ``bytes`` and ``used`` nullable ``Int64``
    (``used`` is NA for a model without a score), ``freed`` ``int64``. Empty plans keep them.
    ``plan["freed"].iloc[-1]`` is the total freed.
    """
    import pandas as pd

    text_dtype = "str" if int(pd.__version__.split(".", 1)[0]) >= 3 else object
    rows = plan(models, free)
    data = {
        "name": pd.array([r.name for r in rows], dtype=text_dtype),
        "bytes": pd.array([r.bytes for r in rows], dtype="Int64"),
        "used": pd.array([r.used for r in rows], dtype="Int64"),
        "freed": pd.array([r.freed for r in rows], dtype="int64"),
    }
    index = pd.Index([r.id for r in rows], dtype=text_dtype, name="id")
    return pd.DataFrame(data, index=index)  # columns in `PLAN_COLUMNS` order
