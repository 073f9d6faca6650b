"""Pure helpers that turn client objects into the widget's display state (no I/O, no traits)."""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .fit import FITS, fit_all
from .units import format_bytes
from .usage import model_used

ROW_FIELDS = (
    "id", "name", "unique", "provider", "foundation", "cloud", "downloaded", "downloading",
    "loaded", "custom", "cpu", "bytes", "ram", "parameters", "quantization", "max_tokens",
    "version", "type", "usage", "description",
)  # fmt: skip

FILTERS: dict[str, Callable[[Any], bool]] = {
    "all": lambda m: True,
    "local": lambda m: not m.cloud,
    "cloud": lambda m: bool(m.cloud),
    "downloaded": lambda m: bool(m.downloaded),
    "loaded": lambda m: bool(m.loaded),
    "custom": lambda m: bool(m.custom),
    # A fit depends on the whole catalogue (what is loaded) and the machine, not on one model:
    # `select_models` decides it from `usable`; alone this predicate keeps nothing.
    "fits": lambda m: False,
}
SEARCH_FIELDS = ("name", "unique", "provider", "foundation", "quantization", "description")


def _plain(value: Any) -> Any:
    """JSON-safe scalar: enums/odd objects become strings, NaN becomes None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return str(value)


def model_row(
    model: Any, report: Any = None, unload_ids: list[str] | None = None
) -> dict[str, Any]:
    """The compact row the frontend renders for one model.

    `report` is the model's `FitReport` (None: no fit, as for a cloud model); the row carries its
    status, its text and the ids to unload first (`unload_ids`, else read from the report), plus
    `used` (the sum of the score counts).
    """
    row = {field: _plain(getattr(model, field, None)) for field in ROW_FIELDS}
    for flag in ("cloud", "downloaded", "downloading", "loaded", "custom", "cpu"):
        row[flag] = bool(row[flag])
    row["state"] = model.state
    row["fit"] = None if report is None else report.status
    row["fit_text"] = None if report is None else str(report)
    if unload_ids is None:
        unload_ids = [] if report is None else [u.id for u in report.unload]
    row["fit_unload"] = unload_ids
    row["used"] = model_used(model) if hasattr(model, "raw") else None
    return row


def model_rows(models: Iterable[Any], usable: int | None = None) -> list[dict[str, Any]]:
    """Rows of the whole catalogue; fits are measured against `usable` bytes (None: unknown)."""
    models = list(models)
    reports = fit_all(models, usable)
    # What to unload is always a prefix of the same loaded models (largest first): one list per
    # length, shared by the rows (read-only), not one per row (20,000 rows x 650 loaded models).
    prefixes: dict[int, list[str]] = {}
    for r in reports:
        if r is not None and r.unload and len(r.unload) not in prefixes:
            prefixes[len(r.unload)] = [u.id for u in r.unload]
    return [
        model_row(m, r, prefixes.get(len(r.unload), []) if r is not None else [])
        for m, r in zip(models, reports, strict=True)
    ]


def select_models(
    models: Sequence[Any], filter: str = "all", search: str = "", usable: int | None = None
) -> list[Any]:
    """The models a user sees for a filter chip and a search text (same rules as the frontend).

    The "fits" filter keeps the models whose fit, measured over all of `models` against `usable`
    bytes, is "fits" (with `usable` None no local model is known to fit).
    """
    try:
        keep = FILTERS[filter]
    except KeyError:
        raise ValueError(f"unknown filter {filter!r}; choose one of {', '.join(FILTERS)}") from None
    if filter == "fits":
        fitting = {
            r.model_id for r in fit_all(models, usable) if r is not None and r.status == FITS
        }
        keep = lambda m: m.id in fitting  # noqa: E731
    needle = search.strip().casefold()
    out = []
    for m in models:
        if not keep(m):
            continue
        if needle and not any(
            needle in str(getattr(m, f, None) or "").casefold() for f in SEARCH_FIELDS
        ):
            continue
        out.append(m)
    return out


def progress_entry(progress: Any) -> dict[str, Any]:
    """The per-model progress dict the frontend shows (rounded: fewer bytes on the wire)."""

    def rnd(value: Any, digits: int) -> Any:
        return None if value is None else round(float(value), digits)

    return {
        "status": str(progress.status),
        "percentage": rnd(progress.percentage, 2),
        "bytes_done": progress.bytes_done,
        "bytes_total": progress.bytes_total,
        "speed": rnd(progress.speed, 0),
        "eta": rnd(progress.eta, 1),
        "stalled": bool(progress.stalled),
        "terminal": bool(progress.terminal),
    }


def merge_progress(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Progress never goes back within one download, whatever order updates arrive in."""
    if old and not new.get("terminal") and not old.get("terminal"):
        before, after = old.get("percentage"), new.get("percentage")
        if before is not None and (after is None or after < before):
            new = {**new, "percentage": before, "bytes_done": old.get("bytes_done")}
    return new


class Throttle:
    """At most one send per `interval` seconds (terminal states too: they wait, never drop)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = -math.inf

    def delay(self, now: float) -> float:
        """Seconds to wait before the next send is allowed (0: send now)."""
        return max(0.0, self.last + self.interval - now)

    def mark(self, now: float) -> None:
        self.last = now


# -- formatting for the text / HTML representations --------------------------------------------


def summary_line(models: Sequence[Any]) -> str:
    """`27 models · 14 local, 3 on disk (12.40 GB) · 1 loaded (about 8.59 GB RAM)`."""
    local = [m for m in models if not m.cloud]
    on_disk = [m for m in local if m.downloaded]
    loaded = [m for m in models if m.loaded]
    disk = sum(m.bytes or 0 for m in on_disk)
    ram = sum(m.ram or 0 for m in loaded)
    parts = [
        f"{len(models)} model{'s' if len(models) != 1 else ''}",
        f"{len(local)} local, {len(on_disk)} on disk ({format_bytes(disk)})",
        f"{len(loaded)} loaded" + (f" (about {format_bytes(ram)} RAM)" if loaded else ""),
    ]
    return " · ".join(parts)


TABLE_COLUMNS = (
    ("Name", lambda m: m.name),
    ("Tag", lambda m: m.unique or ""),
    ("Provider", lambda m: m.provider or ""),
    ("State", lambda m: m.state),
    ("Size", lambda m: format_bytes(m.bytes)),
    ("RAM", lambda m: format_bytes(m.ram)),
    ("Params", lambda m: "" if m.parameters is None else f"{m.parameters:g}B"),
    ("Quant", lambda m: m.quantization or ""),
    ("Context", lambda m: "" if m.max_tokens is None else f"{m.max_tokens:,}"),
)


def _cells(m: Any) -> list[str]:
    return [str(get(m) or "") for _, get in TABLE_COLUMNS]


def inert(text: str) -> str:
    """Text safe for a terminal: control, format and bidi-override characters become U+FFFD."""
    text = " ".join(text.split())
    return "".join("\ufffd" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def _clip(text: str, width: int) -> str:
    text = inert(text)  # no escape sequences, newlines or bidi tricks in a text table
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(models: Sequence[Any], limit: int = 50) -> str:
    """A fixed-width table for terminals and plain-text outputs."""
    header = [name for name, _ in TABLE_COLUMNS]
    rows = [[_clip(c, 36) for c in _cells(m)] for m in models[:limit]]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if len(models) > limit:
        lines.append(f"… and {len(models) - limit} more")
    return "\n".join(lines)


def html_table(models: Sequence[Any], title: str, limit: int = 200) -> str:
    """A static, escaped HTML table for nbviewer, GitHub and exported HTML."""
    esc = html.escape
    head = "".join(f"<th>{esc(name)}</th>" for name, _ in TABLE_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(m)) + "</tr>" for m in models[:limit]
    )
    more = f"<p>… and {len(models) - limit} more</p>" if len(models) > limit else ""
    return (
        f'<div class="pieces-mm-static"><p><strong>{esc(title)}</strong></p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>"
    )
