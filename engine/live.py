"""LiveRun: what a run looks like now, folded from its events: the one fold every reader uses
(`runs watch`, `runs show` and export's round history, the app's live screen, preview and
compare). Readers render what it holds; they do not fold events again.

Pure data, no I/O: feed it events in order with `apply()`; replaying a finished run and
following a running one are the same thing.

It folds events as `engine.events` reads them (`read_events`, `Tail`, or `check_event` for
events from elsewhere): every field it finds has the type the schema there declares, and a
field that was of the wrong type is absent, so the fold needs no `try`: a damaged line of
`events.jsonl` is skipped or loses only its damaged fields before it gets here. (Fields the
schema does not declare, like a checkpoint's `round`, are checked here before use.)

What it holds is keyed by what the run declares: metrics by model, pools by model, agreement by
round and model pair; nothing here knows a model's name. Rounds count from 1 (`FIRST_ROUND`), as
events have since they said so (`rounds_from` in `started`/`resumed`); the events of older runs
counted from 0 and are read through `_from_old_writer`, the one place that knows their shape.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: the number of a run's first round, in events, status.json and on screen
FIRST_ROUND = 1
#: the view of a run's chart and tables that averages its models
MEAN_OF_MODELS = "mean of models"
#: the envelope and key fields of a pools event (its other fields are `<set>_<model>` sizes)
POOL_META = ("t", "run", "type", "round", "precision")

Point = tuple[int, int]  # (round, epoch): epoch 0 when an evaluation ends a round


def pool_sizes(ev: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A pools event by model: {model: {set: size, ..., "precision": p}}.

    On the wire a pools event is flat: each size is `<set>_<model>` (`U_a`, `S_gen_lm`; a set's name
    has no `_`, a model's may) and `precision` maps `S_<model>` to the precision of the labels
    that model handed over (null where the pool has no gold labels). Runs of every version write
    it so; this is the only reader of that naming."""
    out: dict[str, dict[str, Any]] = {}
    for key, v in ev.items():
        if key in POOL_META or "_" not in key or type(v) is not int:
            continue
        name, _, model = key.partition("_")
        out.setdefault(model, {})[name] = v
    for key, p in (ev.get("precision") or {}).items():
        name, _, model = str(key).partition("_")
        if name == "S" and model:
            out.setdefault(model, {})["precision"] = p
    return out


def pool_fields(by_model: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The fields of a pools event from sizes by model (the inverse of `pool_sizes`)."""
    fields: dict[str, Any] = {}
    for name in dict.fromkeys(k for sets in by_model.values() for k in sets if k != "precision"):
        fields.update({f"{name}_{m}": sets[name] for m, sets in by_model.items() if name in sets})
    fields["precision"] = {f"S_{m}": sets.get("precision") for m, sets in by_model.items()}
    return fields


def _from_old_writer(ev: dict[str, Any]) -> dict[str, Any]:
    """An event of a run written before rounds counted from 1, as a newer writer would have
    written it: its round one more, and a checkpoint's round (and epoch) read from its tag
    (`round-0`, `round-1-lm-stage-2-epoch-3`)."""
    ev = dict(ev)
    if type(ev.get("round")) is int:
        ev["round"] += 1
    tag = ev.get("tag")
    if ev.get("type") == "checkpoint" and isinstance(tag, str) and tag.startswith("round-"):
        parts = tag.split("-")
        if parts[1].isdigit():
            ev["round"] = int(parts[1]) + 1
        if "epoch" in parts[:-1] and parts[-1].isdigit():
            ev["epoch"] = int(parts[-1])
    return ev


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.1f}"


def _point(ev: dict[str, Any]) -> Point:
    return (int(ev.get("round") or 0), int(ev.get("epoch") or 0))


@dataclass
class LiveRun:
    run_id: str = ""
    state: str = "queued"
    phase: str = ""
    phase_info: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    progress_t: float = 0.0
    #: the run's config, as its worker announced it when it started
    config: dict[str, Any] = field(default_factory=dict)
    #: model -> list of metrics events (one per evaluation, in order)
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: round -> model -> {set: size, "precision": p} (see `pool_sizes`)
    pools: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: round -> (model, model) -> {"rate", "by_lang", "items"}
    agreement: dict[int, dict[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    #: (model, loss term) -> its latest values, in order
    losses: dict[tuple[str, str], deque] = field(default_factory=dict)
    #: what the run did, in words: (seconds since it started, level, text)
    log: deque = field(default_factory=lambda: deque(maxlen=300))
    log_count: int = 0  # lines ever logged (the deque forgets)
    has_checkpoint: bool = False
    started_t: float | None = None
    last_t: float | None = None
    events_seen: int = 0
    _old_rounds: bool = True  # until a started event says its rounds count from FIRST_ROUND

    # ----- the fold
    def apply(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        self.events_seen += 1
        self.last_t = ev.get("t", self.last_t)
        self.run_id = ev.get("run", self.run_id)
        if kind in ("started", "resumed"):
            # (each worker says it: an old run resumed by a newer worker switches from here on)
            self._old_rounds = not (type(ev.get("rounds_from")) is int and ev["rounds_from"] == FIRST_ROUND)
        elif self._old_rounds and ("round" in ev or kind == "checkpoint"):
            ev = _from_old_writer(ev)
        start = self.started_t or ev.get("t") or 0.0
        at = (ev.get("t") or start) - start
        if kind in ("started", "resumed"):
            self.state, self.error = "running", None
            self.started_t = self.started_t or ev.get("t")
            if isinstance(ev.get("config"), dict):
                self.config = ev["config"]
            self.say(at, "info", f"{kind} (pid {ev.get('pid', '?')} on {ev.get('host', '?')})")
        elif kind == "phase":
            self.phase = ev.get("phase", "")
            self.phase_info = {k: v for k, v in ev.items() if k not in ("t", "run", "type", "phase")}
        elif kind == "progress":
            self.progress = ev
            self.progress_t = ev.get("t", 0.0)
            model = str(ev.get("model") or "")
            for name, v in (ev.get("losses") or {}).items():
                self.losses.setdefault((model, str(name)), deque(maxlen=240)).append(v)
        elif kind == "metrics":
            rows = self.metrics.setdefault(ev.get("model", "?"), [])
            # A resumed run re-evaluates what it had evaluated: the newer event replaces it.
            key = (ev.get("round"), ev.get("epoch"), ev.get("split"))
            rows[:] = [r for r in rows if (r.get("round"), r.get("epoch"), r.get("split")) != key]
            rows.append(ev)
            if ev.get("split") == "test":
                self.say(at, "metric", f"{ev.get('model')} {self.point_name(_point(ev))}: mean {_pct(ev.get('mean'))}")
        elif kind == "pools":
            self.pools[ev["round"]] = pool_sizes(ev)
        elif kind == "agreement":
            pair = tuple(ev.get("pair") or ())
            self.agreement.setdefault(ev["round"], {})[pair] = {
                k: v for k, v in ev.items() if k not in ("t", "run", "type", "round", "pair")}
        elif kind == "data":
            self.data = ev
            sizes = ev.get("sizes") or {}
            test = sizes.get("test") if isinstance(sizes.get("test"), dict) else {}
            self.say(at, "info", f"data: |D| {sizes.get('D')}  |U| {sizes.get('U')}  |Dbi| {sizes.get('Dbi', 0)}"
                                 f"  test {sum(test.values())} in {len(test)} languages")
        elif kind == "log":
            self.say(at, ev.get("level", "info"), ev.get("message", ""))
        elif kind == "checkpoint":
            self.has_checkpoint = True
            # one line a round (not every epoch)
            if type(ev.get("round")) is int and ev.get("epoch") is None:
                self.say(at, "dim", f"checkpoint: round {ev['round']} saved")
        elif kind == "finished":
            self.state, self.results = "finished", ev.get("results")
            self.say(at, "good", "finished")
        elif kind == "failed":
            self.state = "failed"
            self.error = {"class": ev.get("error"), "message": ev.get("message"), "hint": ev.get("hint")}
            what, message = ev.get("error") or "failed", ev.get("message")
            self.say(at, "error", f"failed: {what}: {message}" if message else f"failed: {what}")
        elif kind == "stopped":
            self.state = "stopped"
            self.say(at, "warn", f"stopped ({ev.get('reason', 'requested')}); resumable")

    def apply_all(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            self.apply(ev)

    def say(self, at: float, level: str, text: str) -> None:
        self.log.append((at, level, text))
        self.log_count += 1

    # ----- what the run declares
    def method(self) -> Any:
        """The run's method's metadata (`engine.methods.MethodInfo`; None while the config is
        unknown, or for a method the engine no longer has)."""
        from engine.methods import find_method_info

        return find_method_info((self.config.get("method") or {}).get("name"))

    def primary(self) -> str | None:
        """The model whose numbers are the run's headline: the one its method declares, else the
        first it evaluated."""
        info = self.method()
        models = self.models()
        return info.primary if info is not None else (models[0] if models else None)

    def roles(self) -> list[str]:
        """The models of the run: those its method declares, then any other its events name."""
        info = self.method()
        seen = list(info.models) if info is not None else []
        for model in [*self.metrics, *(m for by in self.pools.values() for m in by)]:
            if model not in seen:
                seen.append(model)
        return seen

    def pool_models(self) -> list[str]:
        """Models with pools, in the run's order of models."""
        have = {m for by in self.pools.values() for m in by}
        return [m for m in self.roles() if m in have]

    def pool_sets(self) -> list[str]:
        """The sets the pools name (U, D, C, S, ...), in the order the run writes them."""
        names: list[str] = []
        for by in self.pools.values():
            for sets in by.values():
                names += [k for k in sets if k != "precision" and k not in names]
        return names

    def pairs(self) -> list[tuple[str, ...]]:
        """Model pairs with an agreement: those the method declares first, then any other."""
        info = self.method()
        have = [p for by in self.agreement.values() for p in by]
        order = [p for p in (info.pairs if info is not None else ()) if p in have]
        return order + [p for p in dict.fromkeys(have) if p not in order]

    def rounds(self) -> list[int]:
        """Rounds that have pools or an agreement, in order."""
        return sorted(set(self.pools) | set(self.agreement))

    def precision(self, r: int, model: str) -> Any:
        return (self.pools.get(r, {}).get(model) or {}).get("precision")

    # ----- evaluations
    def models(self) -> list[str]:
        """Models with test metrics, in the order the run first evaluated them."""
        return [m for m, rows in self.metrics.items() if any(r.get("split") == "test" for r in rows)]

    def views(self) -> list[str]:
        """What a chart of the run can show: each model, and their mean when there are several."""
        models = self.models()
        return models + ([MEAN_OF_MODELS] if len(models) > 1 else [])

    def languages(self) -> list[str]:
        """Every language evaluated, the source language first, then the rest in evaluation order."""
        langs: list[str] = []
        for rows in self.metrics.values():
            for r in rows:
                langs += [x for x in (r.get("values") or {}) if x not in langs]
        source = self.data.get("source")
        return sorted(langs, key=lambda x: x != source)

    def targets(self) -> list[str]:
        """The evaluated languages the means are over: the run's targets (without a data event,
        every language but the source)."""
        targets = self.data.get("targets") or []
        langs = self.languages()
        return [x for x in langs if x in targets] if targets else [x for x in langs if x != self.data.get("source")]

    def target_mean(self, cell: dict[str, Any]) -> float | None:
        """The mean over the target languages of one evaluation's values."""
        return _mean([float(cell[x]) for x in self.targets() if cell.get(x) is not None])

    def evaluation_points(self, split: str = "test") -> list[Point]:
        """The evaluation sequence of the run: (round, epoch) in order, epoch 0 when an evaluation
        ends a round without naming an epoch. Shared by every model of the run."""
        keys = {_point(r) for rows in self.metrics.values() for r in rows if r.get("split") == split}
        return sorted(keys)

    def many_rounds(self) -> bool:
        return len({r for r, _ in self.evaluation_points()}) > 1

    @staticmethod
    def point_name(point: Point, many_rounds: bool = True) -> str:
        """An evaluation point in words: `round 2 epoch 1`, `epoch 3`."""
        r, e = point
        if not many_rounds:
            return f"epoch {e}" if e else f"round {r}"
        return f"round {r}" + (f" epoch {e}" if e else "")

    def series(self, view: str, split: str = "test") -> dict[Point, dict[str, Any]]:
        """A view's evaluations by point: values per language plus `mean` (a model's own, or, for
        MEAN_OF_MODELS, per language the mean over the models evaluated at that point)."""
        if view == MEAN_OF_MODELS:
            return self.mean_series(split)
        out: dict[Point, dict[str, Any]] = {}
        for r in self.metrics.get(view, []):
            if r.get("split") == split:
                out[_point(r)] = {**(r.get("values") or {}), "mean": r.get("mean")}
        return out

    def mean_series(self, split: str = "test") -> dict[Point, dict[str, Any]]:
        """Per point and language, the mean over the models evaluated at that point."""
        per_model = [self.series(m, split) for m in self.models()]
        out: dict[Point, dict[str, Any]] = {}
        for point in self.evaluation_points(split):
            cells: dict[str, list[float]] = {}
            for s in per_model:
                for k, v in (s.get(point) or {}).items():
                    if v is not None:
                        cells.setdefault(k, []).append(float(v))
            out[point] = {k: sum(v) / len(v) for k, v in cells.items()}
        return out

    def means(self, view: str) -> dict[Point, float | None]:
        """A view's mean over the target languages at each point."""
        return {p: self.target_mean(cell) for p, cell in sorted(self.series(view).items())}

    def best(self, view: str) -> tuple[Point, float] | None:
        """Where a view's mean over the target languages was highest (the first such point)."""
        best = None
        for p, m in self.means(view).items():
            if m is not None and (best is None or m > best[1]):
                best = (p, m)
        return best

    def zero_shot_point(self, view: str, rounds: int | None = None) -> Point | None:
        """The evaluation a view's changes count from: the model trained on the source alone, the
        end of the first round; a run of one round (fine-tuning) counts from its first one."""
        points = sorted(self.series(view))
        if not points:
            return None
        if self.single_round(view, rounds):
            return points[0]
        return max((p for p in points if p[0] == FIRST_ROUND), default=points[0])

    def single_round(self, view: str, rounds: int | None = None) -> bool:
        return (rounds or 0) <= 1 and all(p[0] == FIRST_ROUND for p in self.series(view))

    def final(self, view: str, results: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A view's final results (`results`, else the run's finished event), the mean of the
        models' for MEAN_OF_MODELS; None before the run finished."""
        res = results or self.results or {}
        if view in res and isinstance(res[view], dict):
            return res[view]
        per = [v for v in res.values() if isinstance(v, dict)]
        if view != MEAN_OF_MODELS or not per:
            return None
        keys = dict.fromkeys(k for v in per for k in v)
        return {k: _mean([float(v[k]) for v in per if v.get(k) is not None]) for k in keys}

    def latest(self, model: str, split: str = "test") -> dict[str, Any] | None:
        rows = [r for r in self.metrics.get(model, []) if r.get("split") == split]
        return rows[-1] if rows else None

    def best_mean(self, model: str, split: str = "test") -> float | None:
        means = [r["mean"] for r in self.metrics.get(model, []) if r.get("split") == split and r.get("mean") is not None]
        return max(means) if means else None

    def zero_shot(self, model: str, split: str = "test") -> dict[str, Any] | None:
        """The model as trained on the source data alone: its last evaluation in the first round."""
        rows = [r for r in self.metrics.get(model, []) if r.get("split") == split and _point(r)[0] == FIRST_ROUND]
        if not rows:
            return None
        last = max(rows, key=_point)
        return {**(last.get("values") or {}), "mean": last.get("mean")}

    def headline(self) -> dict[str, Any]:
        """What status.json keeps of the run's numbers: the last round evaluated, and the latest
        and best mean of the primary model (as the worker writes them)."""
        out: dict[str, Any] = {}
        points = self.evaluation_points()
        if points:
            out["round"] = points[-1][0]
        primary = self.primary()
        last = self.latest(primary) if primary else None
        if last is not None and last.get("mean") is not None:
            out["latest_mean"] = last["mean"]
            out["best_mean"] = self.best_mean(primary)
        return out

    def eta_seconds(self) -> float | None:
        """Seconds left in the current fine-tuning, as the worker estimated it."""
        return self.progress.get("eta_s")

    def round_history(self) -> list[dict[str, Any]]:
        """Per round: the last test metrics of each model, the pools by model and the agreement
        of each pair (`runs show` and its --json)."""
        rounds: dict[int, dict[str, Any]] = {}
        for model, rows in self.metrics.items():
            for r in rows:  # in order, so a round's last evaluation wins
                if r.get("split") == "test":
                    entry = rounds.setdefault(int(r.get("round", 0)), {"metrics": {}})
                    entry["metrics"][model] = {**r.get("values", {}), "mean": r.get("mean")}
        for r, by_model in self.pools.items():
            rounds.setdefault(r, {"metrics": {}})["pools"] = by_model
        for r, by_pair in self.agreement.items():
            rounds.setdefault(r, {"metrics": {}})["agreement"] = [{"pair": list(p), **a} for p, a in by_pair.items()]
        return [{"round": k, **v} for k, v in sorted(rounds.items())]
