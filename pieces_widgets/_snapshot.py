"""Snapshot: the server's last model list, and the per-row state that must agree with it.

Every answer from the server (a full snapshot, or one model returned by an action) lands here, so
the rows, their busy and error entries and their live progress are reconciled in one place. The
subtle part is how long a row's error stays: until the row's state changes after the failure, as
seen by a snapshot asked for after it (an older request that lands later still describes the
world before the failure). Rows carry their fit, so they (and the `budget`) are re-made whenever
the models or the machine's memory change; the `selection` keeps only ids still in the catalogue.
"""

from __future__ import annotations

import time
from typing import Any

from .rows import model_rows


class Snapshot:
    """The last snapshot of one ModelManager, and its rows' busy/error entries."""

    def __init__(self, manager: Any) -> None:
        self._mm = manager
        self._batch = manager._batch
        self.models: list[Any] = []
        self._asked = 0
        self._error_seen: dict[str, tuple[int, str | None]] = {}  # id -> (asked, base state)

    def ask(self) -> int:
        """Number a snapshot request, so an answer can be told apart from an older request's."""
        self._asked += 1
        return self._asked

    def find(self, model_id: str) -> Any:
        return next((m for m in self.models if m.id == model_id), None)

    def name(self, model_id: str) -> str:
        model = self.find(model_id)
        return model.name if model is not None else model_id

    def apply(self, models: list[Any], asked: int) -> None:
        """Replace the snapshot (answer to request number `asked`) and reconcile every row."""
        self.models = list(models)
        states = {m.id: m.state for m in models}
        errors = {}
        for model_id, message in self._batch.get("errors").items():
            if model_id not in states:
                continue  # the model is gone; its error went out as a notice
            seen_at, base = self._error_seen.get(model_id, (0, None))
            if asked > seen_at and base is None:  # the first snapshot asked after the error
                base = states[model_id]
                self._error_seen[model_id] = (seen_at, base)
            if asked <= seen_at or base == states[model_id]:
                errors[model_id] = message
        downloads = self._mm._downloads
        downloading = {m.id for m in models if m.downloading}
        self.restage()
        selection = self._batch.get("selection")
        if any(i not in states for i in selection):  # a selected model left the catalogue
            self._batch.stage("selection", [i for i in selection if i in states])
        self._batch.stage("errors", errors)
        self._batch.keep_progress(downloading | downloads.watching)
        busy = self._batch.get("busy")
        self._batch.stage("busy", {k: v for k, v in busy.items() if k in states})
        self._batch.stage("last_refresh", time.time())
        downloads.watch_new(downloading)

    def apply_model(self, model: Any) -> None:
        """Show one model's new state at once (before the follow-up snapshot)."""
        if model is None or not hasattr(model, "id"):
            return
        if any(m.id == model.id for m in self.models):
            self.models = [model if m.id == model.id else m for m in self.models]
            self.restage()

    def restage(self) -> None:
        """Re-make the rows (with their fits) and the budget from the current snapshot."""
        models = self.models
        budget = self._mm._fitness.budget(models)
        # Rows are made at the flush, once, however often a snapshot or model answer lands.
        self._batch.stage_lazy("models", lambda: model_rows(models, budget["usable"]))
        self._batch.stage("budget", budget)

    def set_row(self, model_id: str, **changes: Any) -> None:
        """Set or clear (None) a row's `busy`/`error` entry, replacing the dict so it syncs."""
        for trait, value in changes.items():
            name = {"busy": "busy", "error": "errors"}[trait]
            current = self._batch.get(name)
            if value is None and model_id not in current:
                continue
            updated = {k: v for k, v in current.items() if k != model_id}
            if value is not None:
                updated[model_id] = value
            if name == "errors":  # measured from the next snapshot on (see `apply`)
                self._error_seen[model_id] = (self._asked, None)
            self._batch.stage(name, updated)
