"""Byte counts as text, exactly as the frontend writes them (js/src/format.js is the reference).

Why a twin of the JavaScript: the table, the text repr, the summary line and progress strings
must say the same thing for the same number. Units are decimal (1 GB = 1e9 bytes) like the
``readable`` strings Pieces OS sends ("775.9 MB", "4.69 GB"): bytes without decimals, KB and MB
with one, GB and up with two. Rounding follows JavaScript's ``Number.prototype.toFixed`` (the
exact binary value, halves rounded up), not Python's round-half-even, so ``1250`` is "1.3 KB" on
both sides. tests/fixtures/format_bytes_cases.json holds the cases both test suites check.
"""

from __future__ import annotations

__all__ = ["format_bytes"]

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
_DECIMALS = (0, 1, 1, 2, 2, 2)
_LAST = len(_UNITS) - 1


def _to_fixed(value: float, digits: int) -> str:
    """JavaScript's ``value.toFixed(digits)`` for a finite ``value >= 0``."""
    if value >= 1e21:  # toFixed falls back to the shortest repr, as Python's repr does
        return repr(value)
    num, den = value.as_integer_ratio()  # exact: ties are decided on the true binary value
    n = (2 * num * 10**digits + den) // (2 * den)  # round half up
    if not digits:
        return str(n)
    text = str(n).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}"


def format_bytes(n: float | None) -> str:
    """``4692669824`` -> ``"4.69 GB"``; ``""`` for None, negatives, NaN, infinities, non-numbers.

    Like the frontend's ``formatBytes``: a value that rounds up to 1000 of a unit moves up
    (999,960,000 -> "1.00 GB", never "1000.0 MB").
    """
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return ""
    try:
        value = float(n)
    except OverflowError:  # an int beyond any float: JavaScript would hold Infinity
        return ""
    if not (0 <= value < float("inf")):  # also rejects NaN
        return ""
    unit = 0
    while value >= 1000 and unit < _LAST:
        value /= 1000
        unit += 1
    text = _to_fixed(value, _DECIMALS[unit])
    if float(text) >= 1000 and unit < _LAST:
        unit += 1
        text = _to_fixed(value / 1000, _DECIMALS[unit])
    return f"{text} {_UNITS[unit]}"
