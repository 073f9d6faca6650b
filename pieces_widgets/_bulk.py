"""Several models at once, unloading first, and the cleanup plan asked from the widget.

A bulk action is the per-model twin once per id (so downloads share the queue and its
`max_downloads`, and each row shows its own busy state and error), gathered into ONE handle whose
result is a dict id -> outcome: the per-id result, or the exception of an id that failed while the
others went on. One notice sums the batch up when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from ._commands import BY_NAME, ActionError, ManagerClosed, friendly
from .cleanup import parse_size, plan
from .handles import ActionHandle
from .units import format_bytes

#: What a finished batch did, per action: (verb phrase, what the byte total measures).
_DONE = {
    "download": ("Downloaded {n}", "{b} downloaded"),
    "cancel": ("Cancelled the download of {n}", None),
    "load": ("Loaded {n}", "{b} RAM"),
    "unload": ("Unloaded {n}", "{b} RAM freed"),
    "delete": ("Deleted {n}", "{b} freed"),
    "delete_cache": ("Deleted the cache of {n}", "{b} freed"),
}


def model_ids(ids: Iterable[str]) -> list[str]:
    """The ids of a bulk call, in order, each once; anything but strings is refused."""
    ids = list(ids)
    bad = [i for i in ids if not isinstance(i, str)]
    if bad:
        raise TypeError(f"model ids are strings, got {bad[0]!r}")
    return list(dict.fromkeys(ids))


def _cancelled(outcome: Any) -> bool:
    """Cancelled before it started (CancelledError) or on the server (a CANCELED progress)."""
    return isinstance(outcome, asyncio.CancelledError) or (
        getattr(outcome, "status", None) == "CANCELED"
    )


def _count(n: int) -> str:
    return f"{n} model{'s' if n != 1 else ''}"


class Bulk:
    """Bulk twins, `unload_first` and `plan-cleanup` for one ModelManager."""

    def __init__(self, manager: Any) -> None:
        self._mm = manager
        self._cleanup_seq = 0

    def twin(
        self, action: str, model_id: Any, work: Any, unload_first: bool = False
    ) -> ActionHandle:
        """A per-model twin: one id runs `work` (after unloading, with `unload_first`); a list
        of ids runs the twin once per id under one handle."""
        if not isinstance(model_id, str):
            again = getattr(self._mm, BY_NAME[action].twin)
            return self.start(action, model_id, lambda i: again(i, **self._flags(unload_first)))
        if unload_first:
            work = self.unload_first(action, model_id, work)
        return self._mm._start(action, model_id, work)

    @staticmethod
    def _flags(unload_first: bool) -> dict[str, Any]:
        return {"unload_first": True} if unload_first else {}

    def valid_selection(self, ids: Iterable[str]) -> list[str]:
        """The `selection` as set from Python or the frontend: catalogue ids only, each once."""
        snapshot = getattr(self._mm, "_snapshot", None)
        known = {m.id for m in snapshot.models} if snapshot is not None else set()
        return [i for i in dict.fromkeys(ids) if i in known]

    # -- several ids, one handle -----------------------------------------------------------------
    def start(self, action: str, ids: Iterable[str], one: Callable[[str], ActionHandle]) -> Any:
        """Run `one(id)` for every id now (in order) and return one handle over all of them."""
        mm = self._mm
        if mm._closed:
            raise ManagerClosed("this ModelManager is closed; create a new one")
        ids = model_ids(ids)
        sizes = {i: self._size(action, i) for i in ids}
        children = {i: one(i) for i in ids}

        def cancel_all() -> None:
            for child in children.values():
                child.cancel()

        handle = ActionHandle(
            action, None, mm._runner, mm._callback_failed, cancel_all if children else None
        )
        handle.model_ids = tuple(ids)
        handle._attach(mm._runner.spawn(self._gather(action, children, sizes), handle._finish))
        return handle

    def _size(self, action: str, model_id: str) -> int | None:
        model = self._mm._snapshot.find(model_id)
        if model is None:
            return None
        return model.ram if action in ("load", "unload") else model.bytes

    async def _gather(
        self, action: str, children: dict[str, ActionHandle], sizes: dict[str, int | None]
    ) -> dict[str, Any]:
        waits = [asyncio.shield(asyncio.wrap_future(h._done)) for h in children.values()]
        results = await asyncio.gather(*waits, return_exceptions=True)
        outcomes = dict(zip(children, results, strict=True))
        if outcomes:
            self._mm._announce(*self.summary(action, outcomes, sizes))
            await self._mm._batch.synced()  # the frontend has the summary when the handle ends
        return outcomes

    def summary(
        self, action: str, outcomes: dict[str, Any], sizes: dict[str, int | None]
    ) -> tuple[str, str]:
        """One sentence for a finished batch, and its level ("error" when any id failed)."""
        cancelled = [i for i, r in outcomes.items() if _cancelled(r)]
        ok = [i for i, r in outcomes.items() if not isinstance(r, BaseException)]
        ok = [i for i in ok if i not in cancelled]
        failed = {
            i: r
            for i, r in outcomes.items()
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        }
        verb, measure = _DONE.get(action, (f"{action}: {{n}}", None))
        text = verb.format(n=_count(len(ok)))
        known = [sizes.get(i) for i in ok if sizes.get(i) is not None]
        if measure and ok and known:
            text += f" ({measure.format(b=format_bytes(sum(known)))})"
        if cancelled:
            text += f"; {len(cancelled)} cancelled"
        if failed:
            name = self._mm._snapshot.name
            why = "; ".join(
                f"{name(i)}: {friendly(action, exc, self._mm._timeout)}"
                for i, exc in list(failed.items())[:3]
            )
            more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
            text += f"; {len(failed)} failed: {why}{more}"
        return text + ".", "error" if failed else "info"

    # -- unload what is in the way, then act -----------------------------------------------------
    def unload_first(self, action: str, model_id: str, work: Any) -> Any:
        """`work` (a download or a load) preceded by unloading the row's `fit_unload` models.

        A download unloads once queued (`DownloadQueue.before`), so a Cancel while the models
        are unloading drops it like any queued download.
        """

        async def run(handle: ActionHandle) -> Any:
            if action != "download":
                reason = self._mm._runtime.refusal(model_id, load=True)
                if reason:  # refused before anything is unloaded for it
                    raise ActionError(reason)
                await self._unload_in_the_way(model_id)
                return await work(handle)
            self._mm._downloads.before[model_id] = lambda: self._unload_in_the_way(model_id)
            try:
                return await work(handle)
            finally:
                self._mm._downloads.before.pop(model_id, None)

        return run

    async def _unload_in_the_way(self, model_id: str) -> None:
        try:
            report = self._mm._fitness.report(model_id)
        except KeyError:  # not in the snapshot: nothing known to be in its way
            report = None
        unloading = {u.id: self._mm.unload(u.id) for u in (report.unload if report else ())}
        for i, child in unloading.items():
            try:
                await asyncio.shield(asyncio.wrap_future(child._done))
            except Exception as exc:
                name = self._mm._snapshot.name(i)
                raise ActionError(f"could not unload {name} first ({exc})") from exc

    # -- the cleanup plan --------------------------------------------------------------------------
    def plan_cleanup(self, free: Any) -> dict[str, Any] | None:
        """The "plan-cleanup" command: answer in the `cleanup` trait; a bad amount is a notice."""
        try:
            if isinstance(free, str | int | float) and not isinstance(free, bool):
                target = parse_size(free)
            else:
                raise ValueError(f"say how much to free, like '10 GB' (got {free!r})")
        except ValueError as exc:
            self._mm._announce(f"Free space: {exc}", level="error")
            return None
        rows = plan(self._mm._snapshot.models, target)
        total = rows[-1].freed if rows else 0
        self._cleanup_seq += 1
        answer = {
            "seq": self._cleanup_seq,
            "free": target,
            "rows": [
                {"id": r.id, "name": r.name, "bytes": r.bytes, "used": r.used, "freed": r.freed}
                for r in rows
            ],
            "total": total,
            "enough": total >= target,
        }
        self._mm._batch.stage("cleanup", answer)
        return answer
