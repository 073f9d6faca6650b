"""The local runtime (Ollama) that Pieces OS installs and updates itself, read tolerantly. Pure.

Why a module: the widget shows the runtime's state beside the connection badge and refuses a
local download early while the runtime is missing, so ``OllamaStatus`` and ``OllamaDeployment``
bodies are parsed in one place. Like the snapshot parser, a field of the wrong type becomes None
(with a warning) instead of failing: an unexpected server must never hide the table.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Deployment", "RuntimeStatus", "parse_deployment", "parse_runtime_status"]

log = logging.getLogger("pieces_widgets")

RUNNING = frozenset({"INITIALIZED", "IN-PROGRESS"})
ENDED_BADLY = frozenset({"FAILED", "CANCELED"})
_GONE = frozenset({"FAILED", "CANCELED", "RESET"})  # an `installation` in these is no runtime


@dataclass(frozen=True, slots=True)
class Deployment:
    """One install or update of the runtime (``OllamaDeployment``); None wherever unknown."""

    version: str | None = None
    id: str | None = None
    status: str | None = None
    percentage: float | None = None
    user_managed: bool | None = None

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def ended_badly(self) -> bool:
        """FAILED or CANCELED (the server keeps such an attempt until the next one)."""
        return self.status in ENDED_BADLY


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    """``OllamaStatus``: the installation and any install/update attempt, with derived `state`."""

    installation: Deployment | None = None
    installing: Deployment | None = None
    updating: Deployment | None = None
    update_required: Deployment | None = None
    inference: bool | None = None  # recommendation.inference
    warnings: tuple[str, ...] = ()

    @property
    def installed(self) -> bool:
        return self.installation is not None and self.installation.status not in _GONE

    @property
    def state(self) -> str:
        """installed | missing | update-required | installing | updating."""
        if self.installing is not None and self.installing.running:
            return "installing"
        if self.updating is not None and self.updating.running:
            return "updating"
        if not self.installed:
            return "missing"
        return "update-required" if self.update_required is not None else "installed"

    @property
    def version(self) -> str | None:
        return self.installation.version if self.installed and self.installation else None

    @property
    def percentage(self) -> float | None:
        """Progress of the running install or update; None when none runs."""
        running = self.attempt
        return running.percentage if running is not None and running.running else None

    @property
    def attempt(self) -> Deployment | None:
        """The latest install or update attempt the server reports (running or not)."""
        for dep in (self.installing, self.updating):
            if dep is not None and dep.running:
                return dep
        return self.installing or self.updating

    @property
    def error(self) -> str | None:
        """Human text for an attempt that FAILED or was CANCELED, else None."""
        for what, dep in (("install", self.installing), ("update", self.updating)):
            if dep is not None and dep.ended_badly:
                return attempt_error(what, dep)
        return None


def attempt_error(what: str, dep: Deployment, last_percentage: float | None = None) -> str:
    """'The runtime install failed at 40 %.' / 'The runtime update was cancelled.'

    A FAILED/CANCELED deployment may carry no percentage: `last_percentage` (the last one seen
    while it ran) says how far it got.
    """
    pct = dep.percentage if dep.percentage is not None else last_percentage
    at = f" at {pct:.0f} %" if pct is not None and pct > 0 else ""
    if dep.status == "CANCELED":
        return f"The runtime {what} was cancelled{at}."
    return f"The runtime {what} failed{at}."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def parse_deployment(body: Any, warnings: list[str] | None = None, what: str = "") -> Deployment:
    """An ``OllamaDeployment``; never raises (a body that is not an object gives all None)."""
    warn = warnings.append if warnings is not None else (lambda _text: None)
    prefix = f"{what}." if what else ""
    if not isinstance(body, dict):
        warn(f"{what or 'deployment'} should be an object, got {_short(body)}; ignored")
        return Deployment()

    def typed(key: str, kinds: tuple[type, ...]) -> Any:
        value = body.get(key)
        if value is None or type(value) in kinds:
            return value
        warn(f"{prefix}{key} should be {kinds[0].__name__}, got {_short(value)}; ignored")
        return None

    pct = typed("percentage", (int, float))
    if pct is not None and not (math.isfinite(pct) and 0 <= pct <= 100):
        warn(f"{prefix}percentage should be within 0-100, got {pct!r}; ignored")
        pct = None
    status = typed("status", (str,))
    return Deployment(
        version=typed("version", (str,)),
        id=typed("id", (str,)),
        status=status.upper() if status else None,
        percentage=pct,
        user_managed=typed("userManaged", (bool,)),
    )


def parse_runtime_status(body: Any) -> RuntimeStatus:
    """An ``OllamaStatus`` body; never raises (odd parts become None, with warnings)."""
    warnings: list[str] = []
    if not isinstance(body, dict):
        warnings.append(f"runtime status should be an object, got {_short(body)}; ignored")
        body = {}
    deps: dict[str, Deployment | None] = {}
    for key in ("installation", "installing", "updating", "updateRequired"):
        value = body.get(key)
        deps[key] = None if value is None else parse_deployment(value, warnings, key)
        if value is not None and not isinstance(value, dict):
            deps[key] = None
    rec = body.get("recommendation")
    inference = rec.get("inference") if isinstance(rec, dict) else None
    status = RuntimeStatus(
        installation=deps["installation"],
        installing=deps["installing"],
        updating=deps["updating"],
        update_required=deps["updateRequired"],
        inference=inference if type(inference) is bool else None,
        warnings=tuple(warnings),
    )
    if warnings:
        log.warning("runtime status: %s", "; ".join(warnings))
    return status
