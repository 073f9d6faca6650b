"""Will a local model run here? A fit per model, and the memory budget at a glance. Pure.

`usable` is what the machine can give a model (`device.usable_memory`). What is free now is
`usable` minus the RAM of the loaded local models. The answers:

- ``"fits"``: the model's RAM figure fits in what is free now (equal counts as fitting), or the
  model is loaded (it is running);
- ``"unload"``: it fits in `usable` but only after unloading loaded models; `FitReport.unload`
  names them, largest first, as few as possible;
- ``"too-large"``: it needs more than `usable`, whatever is unloaded;
- ``"unknown"``: no RAM figure for the model or the machine, or a loaded model's RAM is unknown
  (then what is free is unknown, and a wrong ``"fits"`` is worse than no answer).

Cloud models have no fit (None).
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .units import format_bytes

if TYPE_CHECKING:  # pragma: no cover
    from .models import Model

__all__ = [
    "FITS",
    "FIT_STATUSES",
    "TOO_LARGE",
    "UNKNOWN",
    "UNLOAD",
    "Budget",
    "FitReport",
    "Unload",
    "budget",
    "fit_all",
    "fit_column",
    "fit_model",
]

FITS = "fits"
UNLOAD = "unload"
TOO_LARGE = "too-large"
UNKNOWN = "unknown"
FIT_STATUSES = (FITS, UNLOAD, TOO_LARGE, UNKNOWN)
_NAMED = 5  # a report names at most this many models to unload, then says how many more
_format = functools.lru_cache(maxsize=4096)(format_bytes)


class Unload(NamedTuple):
    """A loaded model to unload first: its id, name and RAM figure (bytes)."""

    id: str
    name: str | None
    ram: int


@dataclass(frozen=True, slots=True)
class FitReport:
    """The fit of one local model. Byte figures are None where unknown.

    ``needed`` is the model's RAM figure, ``usable`` what the machine can give a model,
    ``available`` what is free now (``usable`` minus the loaded models' RAM, never below 0).
    """

    model_id: str
    name: str | None
    status: str
    needed: int | None
    available: int | None
    usable: int | None
    loaded: bool = False
    unload: tuple[Unload, ...] = ()

    def __str__(self) -> str:
        label = self.name or self.model_id
        f = _format  # the same few figures recur in every row's text: format each once
        if self.loaded:
            using = f", using {f(self.needed)}" if self.needed is not None else ""
            return f"{label} is loaded (running){using}."
        if self.needed is None:
            return f"{label}: fit unknown, the model has no RAM figure."
        if self.usable is None:
            return f"{label}: fit unknown, no memory figure for this machine."
        if self.status == TOO_LARGE:
            return (
                f"{label} is too large: needs {f(self.needed)}, more than the "
                f"{f(self.usable)} this machine can give a model."
            )
        if self.available is None:
            return f"{label}: fit unknown, a loaded model's RAM is unknown."
        free = f"{f(self.available)} free of {f(self.usable)} usable"
        if self.status == FITS:
            return f"{label} fits: needs {f(self.needed)}, {free}."
        names = ", ".join(f"{u.name or u.id} ({f(u.ram)})" for u in self.unload[:_NAMED])
        if len(self.unload) > _NAMED:
            names += f" and {len(self.unload) - _NAMED} more"
        return f"{label} needs {f(self.needed)} but only {free}: unload {names} first."


class _Loaded:
    """The loaded local models, largest RAM first (id breaks ties), and their total RAM.

    ``freed[k]`` is the RAM the first k of them free: the fewest to unload for a model is found
    by bisection and `unloads[:k]` shared, so a catalogue with many loaded models costs
    O(log k) per model, not O(k) (20,000 models with 650 loaded took 19 s).
    """

    __slots__ = ("freed", "models", "prefixes", "total", "unknown", "unloads")

    def __init__(self, models: Iterable[Model]) -> None:
        loaded = [m for m in models if m.loaded is True and not m.cloud]
        self.unknown = any(m.ram is None for m in loaded)
        self.models = sorted((m for m in loaded if m.ram is not None), key=_largest_first)
        self.total = sum(m.ram for m in self.models)
        self.unloads = tuple(Unload(m.id, m.name, m.ram) for m in self.models)  # type: ignore[arg-type]
        self.freed = list(itertools.accumulate((u.ram for u in self.unloads), initial=0))
        self.prefixes: dict[int, tuple[Unload, ...]] = {}  # one tuple per count, shared

    def first(self, count: int) -> tuple[Unload, ...]:
        """The `count` largest loaded models (the same tuple for every model that needs them)."""
        found = self.prefixes.get(count)
        if found is None:
            found = self.prefixes[count] = self.unloads[:count]
        return found


def _largest_first(m: Model) -> tuple[int, str]:
    return -m.ram, m.id  # type: ignore[operator]


def _fit(model: Model, loaded: _Loaded, usable: int | None) -> FitReport | None:
    if model.cloud:
        return None
    needed = model.ram
    free = None if usable is None or loaded.unknown else usable - loaded.total
    available = None if free is None else max(0, free)
    unload: tuple[Unload, ...] = ()
    if model.loaded is True:
        status = FITS
    elif needed is None or usable is None:
        status = UNKNOWN
    elif needed > usable:
        status = TOO_LARGE
    elif free is None:
        status = UNKNOWN
    elif needed <= free:
        status = FITS
    else:
        status = UNLOAD  # largest first: the fewest models to unload (needed <= usable: enough)
        count = bisect.bisect_left(loaded.freed, needed - free)
        unload = loaded.first(count)
    return FitReport(
        model_id=model.id,
        name=model.name,
        status=status,
        needed=needed,
        available=available,
        usable=usable,
        loaded=model.loaded is True,
        unload=unload,
    )


def fit_model(model: Model, models: Iterable[Model], usable: int | None) -> FitReport | None:
    """The fit of `model` given the whole catalogue `models` (for what is loaded); None if cloud."""
    return _fit(model, _Loaded(models), usable)


def fit_all(models: Sequence[Model], usable: int | None) -> list[FitReport | None]:
    """`fit_model` for every model, in order, computing the loaded set once."""
    loaded = _Loaded(models)
    return [_fit(m, loaded, usable) for m in models]


def fit_column(models: Sequence[Model], usable: int | None) -> list[str | None]:
    """The fit status of every model, in order (None for cloud): the DataFrame's ``fit`` column."""
    return [None if r is None else r.status for r in fit_all(models, usable)]


@dataclass(frozen=True, slots=True)
class Budget:
    """Disk used by downloaded local models and RAM used by loaded ones, for the budget bars.

    ``*_unknown`` count the models left out of a sum for lack of a figure; ``usable`` is what the
    machine can give models (None when unknown).
    """

    disk_used: int
    disk_models: int
    disk_unknown: int
    ram_used: int
    ram_models: int
    ram_unknown: int
    usable: int | None

    def __str__(self) -> str:
        disk = f"Disk: {format_bytes(self.disk_used)} used by {self.disk_models} downloaded models"
        of = "" if self.usable is None else f" of {format_bytes(self.usable)} usable"
        ram = f"RAM: {format_bytes(self.ram_used)}{of} used by {self.ram_models} loaded models"
        return f"{disk}. {ram}."


def budget(models: Iterable[Model], usable: int | None) -> Budget:
    """Sum the disk of downloaded local models and the RAM of loaded ones."""
    local = [m for m in models if not m.cloud]
    on_disk = [m for m in local if m.downloaded is True]
    loaded = [m for m in local if m.loaded is True]
    return Budget(
        disk_used=sum(m.bytes for m in on_disk if m.bytes is not None),
        disk_models=len(on_disk),
        disk_unknown=sum(m.bytes is None for m in on_disk),
        ram_used=sum(m.ram for m in loaded if m.ram is not None),
        ram_models=len(loaded),
        ram_unknown=sum(m.ram is None for m in loaded),
        usable=usable,
    )
