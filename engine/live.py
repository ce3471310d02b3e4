"""LiveRun: what a run looks like now, folded from its events (for `runs watch` and the app).

Pure data, no I/O: feed it events in order with `apply()`; replaying a finished run and
following a running one are the same thing.

It folds events as `engine.events` reads them (`read_events`, `Tail`, or `check_event` for
events from elsewhere): every field it finds has the type the schema there declares, and a
field that was of the wrong type is absent, so the fold needs no `try`: a damaged line of
`events.jsonl` is skipped or loses only its damaged fields before it gets here.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LiveRun:
    run_id: str = ""
    state: str = "queued"
    phase: str = ""
    phase_info: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    progress_t: float = 0.0
    #: model -> list of metrics events (one per evaluation, in order)
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pools: list[dict[str, Any]] = field(default_factory=list)
    agreement: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    logs: deque = field(default_factory=lambda: deque(maxlen=200))
    started_t: float | None = None
    last_t: float | None = None
    events_seen: int = 0

    def apply(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        self.events_seen += 1
        self.last_t = ev.get("t", self.last_t)
        self.run_id = ev.get("run", self.run_id)
        if kind in ("started", "resumed"):
            self.state, self.error = "running", None
            self.started_t = self.started_t or ev.get("t")
            if kind == "resumed":
                self.logs.append(("info", "resumed"))
        elif kind == "phase":
            self.phase = ev.get("phase", "")
            self.phase_info = {k: v for k, v in ev.items() if k not in ("t", "run", "type", "phase")}
        elif kind == "progress":
            self.progress = ev
            self.progress_t = ev.get("t", 0.0)
        elif kind == "metrics":
            rows = self.metrics.setdefault(ev.get("model", "?"), [])
            # A resumed run re-evaluates what it had evaluated: the newer event replaces it.
            key = (ev.get("round"), ev.get("epoch"), ev.get("split"))
            rows[:] = [r for r in rows if (r.get("round"), r.get("epoch"), r.get("split")) != key]
            rows.append(ev)
        elif kind == "pools":
            self.pools = [p for p in self.pools if p.get("round") != ev.get("round")] + [ev]
        elif kind == "agreement":
            self.agreement = [a for a in self.agreement if a.get("round") != ev.get("round")] + [ev]
        elif kind == "data":
            self.data = ev
        elif kind == "log":
            self.logs.append((ev.get("level", "info"), ev.get("message", "")))
        elif kind == "finished":
            self.state, self.results = "finished", ev.get("results")
        elif kind == "failed":
            self.state = "failed"
            self.error = {"class": ev.get("error"), "message": ev.get("message"), "hint": ev.get("hint")}
            what, message = ev.get("error") or "failed", ev.get("message")
            self.logs.append(("error", f"{what}: {message}" if message else what))
        elif kind == "stopped":
            self.state = "stopped"
            self.logs.append(("info", f"stopped ({ev.get('reason', 'requested')}); resumable"))

    def latest(self, model: str, split: str = "test") -> dict[str, Any] | None:
        rows = [r for r in self.metrics.get(model, []) if r.get("split") == split]
        return rows[-1] if rows else None

    def best_mean(self, model: str, split: str = "test") -> float | None:
        means = [r["mean"] for r in self.metrics.get(model, []) if r.get("split") == split and r.get("mean") is not None]
        return max(means) if means else None

    def eta_seconds(self) -> float | None:
        """Seconds left in the current fine-tuning, as the worker estimated it."""
        return self.progress.get("eta_s")

    # ----- views for charts and tables (additive helpers; the fold above is unchanged)

    def apply_all(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            self.apply(ev)

    def models(self) -> list[str]:
        """Models with test metrics, in the order the run first evaluated them."""
        return [m for m, rows in self.metrics.items() if any(r.get("split") == "test" for r in rows)]

    def languages(self) -> list[str]:
        """Every language evaluated, the source language first, then the rest in evaluation order."""
        langs: list[str] = []
        for rows in self.metrics.values():
            for r in rows:
                langs += [x for x in (r.get("values") or {}) if x not in langs]
        source = self.data.get("source")
        return sorted(langs, key=lambda x: x != source)

    def evaluation_points(self, split: str = "test") -> list[tuple[int, int]]:
        """The evaluation sequence of the run: (round, epoch) in order, epoch 0 when an evaluation
        ends a round without naming an epoch. Shared by every model of the run."""
        keys = {_point(r) for rows in self.metrics.values() for r in rows if r.get("split") == split}
        return sorted(keys)

    def series(self, model: str, split: str = "test") -> dict[tuple[int, int], dict[str, Any]]:
        """One model's evaluations by point: values per language plus `mean`."""
        out: dict[tuple[int, int], dict[str, Any]] = {}
        for r in self.metrics.get(model, []):
            if r.get("split") == split:
                out[_point(r)] = {**(r.get("values") or {}), "mean": r.get("mean")}
        return out

    def mean_series(self, split: str = "test") -> dict[tuple[int, int], dict[str, Any]]:
        """Per point and language, the mean over the models evaluated at that point."""
        per_model = [self.series(m, split) for m in self.models()]
        out: dict[tuple[int, int], dict[str, Any]] = {}
        for point in self.evaluation_points(split):
            cells: dict[str, list[float]] = {}
            for s in per_model:
                for k, v in (s.get(point) or {}).items():
                    if v is not None:
                        cells.setdefault(k, []).append(float(v))
            out[point] = {k: sum(v) / len(v) for k, v in cells.items()}
        return out

    def zero_shot(self, model: str, split: str = "test") -> dict[str, Any] | None:
        """The model as trained on the source data alone: its last evaluation in round 0."""
        rows = [r for r in self.metrics.get(model, []) if r.get("split") == split and (r.get("round") or 0) == 0]
        if not rows:
            return None
        last = max(rows, key=_point)
        return {**(last.get("values") or {}), "mean": last.get("mean")}


def _point(ev: dict[str, Any]) -> tuple[int, int]:
    return (int(ev.get("round") or 0), int(ev.get("epoch") or 0))
