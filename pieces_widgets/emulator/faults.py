"""Fault injection, shared by the routes, the download loop and the CLI flags.

Rules are stored as immutable tuples swapped under a lock, so the per-frame download loop can
read them without locking; only the counters of `http_error(times=N)` need the lock.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

ROUTES = frozenset(
    {
        "snapshot",
        "create",
        "delete",
        "delete_cache",
        "unload_all",
        "get",
        "update",
        "download",
        "cancel",
        "progress",
        "load",
        "unload",
        "health",
        "version",
        # the endpoints around the model API (pieces-extra-api)
        "device",
        "score",
        "identifiers",
        "ollama_status",
        "ollama_status_stream",
        "ollama_install",
        "ollama_install_get",
        "ollama_install_cancel",
        "ollama_installs",
        "ollama_update",
        "ollama_update_get",
        "ollama_update_cancel",
        "ollama_updates",
        "ollama_uninstall",
    }
)
SOCKET_ROUTES = frozenset({"progress", "identifiers", "ollama_status_stream"})


@dataclass
class HttpError:
    route: str
    status: int
    times: int | None
    probability: float | None
    body: str


@dataclass(frozen=True)
class Stall:
    seconds: float
    at_percentage: float
    model_id: str | None


@dataclass
class _Rules:
    http: tuple[HttpError, ...] = ()
    latency: tuple[tuple[float, str | None], ...] = ()
    drop: tuple[tuple[int, str | None, str], ...] = ()
    stall: tuple[Stall, ...] = ()
    fail: tuple[tuple[float, str | None], ...] = ()
    runtime: tuple[tuple[float, str], ...] = ()


def _check_route(route: str | None) -> None:
    if route is not None and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; expected one of {sorted(ROUTES)}")


class Faults:
    """Programmable misbehaviour: `emu.faults.http_error("load", times=1)` and friends."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._r = _Rules()

    # --- configuration (any thread) ---------------------------------------------------------

    def http_error(
        self,
        route: str,
        status: int = 500,
        times: int | None = None,
        probability: float | None = None,
        body: str = "Internal Server Error",
    ) -> None:
        """Answer `route` with `status` + text body: always, the next `times` calls, or randomly."""
        _check_route(route)
        if not 100 <= status <= 599:
            raise ValueError(f"invalid HTTP status {status}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        rule = HttpError(route, status, times, probability, body)
        with self._lock:
            self._r.http = (*self._r.http, rule)

    def latency(self, seconds: float, route: str | None = None) -> None:
        """Delay every matching request (all routes when `route` is None) by `seconds`."""
        _check_route(route)
        with self._lock:
            self._r.latency = (*self._r.latency, (float(seconds), route))

    def drop_socket_after(
        self, frames: int, model_id: str | None = None, *, route: str = "progress"
    ) -> None:
        """Abruptly drop each socket of `route` after it has sent `frames` frames.

        `route` is "progress" (per model, or all when `model_id` is None), "identifiers" or
        "ollama_status_stream" (`model_id` does not apply to those two).
        """
        if route not in SOCKET_ROUTES:
            raise ValueError(f"unknown socket route {route!r}; expected {sorted(SOCKET_ROUTES)}")
        with self._lock:
            self._r.drop = (*self._r.drop, (int(frames), model_id, route))

    def stall(self, seconds: float, at_percentage: float, model_id: str | None = None) -> None:
        """Pause downloads `seconds` once they reach `at_percentage` (no frames, no progress)."""
        with self._lock:
            self._r.stall = (*self._r.stall, Stall(float(seconds), float(at_percentage), model_id))

    def fail_download(self, at_percentage: float, model_id: str | None = None) -> None:
        """End downloads with a FAILED frame when they would reach `at_percentage`."""
        with self._lock:
            self._r.fail = (*self._r.fail, (float(at_percentage), model_id))

    def fail_runtime(self, at_percentage: float, status: str = "FAILED") -> None:
        """End Ollama installs/updates with `status` (FAILED or CANCELED) at `at_percentage`."""
        if status not in ("FAILED", "CANCELED"):
            raise ValueError("status must be 'FAILED' or 'CANCELED'")
        with self._lock:
            self._r.runtime = (*self._r.runtime, (float(at_percentage), status))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._r = _Rules()

    # --- queries (server loop) --------------------------------------------------------------

    def take_http_error(self, route: str) -> HttpError | None:
        """The rule that fires for this request, consuming one of its `times`; else None."""
        if not self._r.http:
            return None
        with self._lock:
            for rule in self._r.http:
                if rule.route != route or rule.times == 0:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    def latency_for(self, route: str) -> float:
        return sum(s for s, r in self._r.latency if r is None or r == route)

    def drop_after(self, model_id: str | None, route: str = "progress") -> int | None:
        if not self._r.drop:
            return None
        counts = [n for n, m, r in self._r.drop if r == route and (m is None or m == model_id)]
        return min(counts) if counts else None

    def runtime_end(self) -> tuple[float, str] | None:
        """(percentage, FAILED|CANCELED) for the earliest injected runtime failure, if any."""
        return min(self._r.runtime) if self._r.runtime else None

    def stalls_for(self, model_id: str) -> list[Stall]:
        if not self._r.stall:
            return []
        return [s for s in self._r.stall if s.model_id is None or s.model_id == model_id]

    def fail_at(self, model_id: str) -> float | None:
        if not self._r.fail:
            return None
        pcts = [p for p, m in self._r.fail if m is None or m == model_id]
        return min(pcts) if pcts else None


_FAIL_SPEC = re.compile(
    r"^(?P<route>[a-z_]+)=(?P<status>\d{3})(?:x(?P<times>\d+)|@(?P<p>[\d.]+))?$"
)


def parse_fail_spec(spec: str) -> tuple[str, int, int | None, float | None]:
    """Parse the CLI form `ROUTE=STATUS[xN|@P]` into (route, status, times, probability)."""
    m = _FAIL_SPEC.match(spec.strip())
    if not m:
        raise ValueError(f"bad --fail spec {spec!r}; expected ROUTE=STATUS[xN|@P], e.g. load=500x2")
    _check_route(m["route"])
    times = int(m["times"]) if m["times"] else None
    prob = float(m["p"]) if m["p"] else None
    return m["route"], int(m["status"]), times, prob
