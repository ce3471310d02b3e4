"""What a method sees of its run: config, events, status, device, stop requests, checkpoints."""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from engine import checkpoint as ckpt
from engine import layout
from engine.config import RunConfig
from engine.events import EventWriter
from engine.live import FIRST_ROUND
from engine.store import RunStore


class RunContext:
    def __init__(self, store: RunStore, run_id: str, config: RunConfig, device: Any):
        self.store = store
        self.run_id = run_id
        self.config = config
        self.device = device
        self.run_dir: Path = store.run_dir(run_id)
        self.events = EventWriter(layout.inside(self.run_dir, layout.EVENTS_FILE), run_id)
        self._stop_asked = False
        self._phase = ""
        self.best_mean: float | None = None
        self.n_labels = 0  # set once the task is loaded
        self.metric_name = "accuracy"
        from engine.methods import method_info

        #: the model whose test metrics are the run's headline (the method declares it)
        self.primary = method_info(config.method.name).primary

    # ----- stop requests (SIGTERM / SIGINT finish the current step, checkpoint, end `stopped`)
    def install_signal_handlers(self) -> None:
        def asked(signum: int, _frame: Any) -> None:
            self._stop_asked = True
            self.events.emit("log", level="info", message=f"stop requested ({signal.Signals(signum).name}); "
                             "finishing the current step")

        signal.signal(signal.SIGTERM, asked)
        signal.signal(signal.SIGINT, asked)

    def request_stop(self) -> None:
        self._stop_asked = True

    def should_stop(self) -> bool:
        return self._stop_asked

    # ----- events and status
    @staticmethod
    def round_number(r: int) -> int:
        """The number of the round a method's loop calls `r` (its index, from 0: seeds and
        checkpoint state use it) in events, status.json and on screen, which count from 1."""
        return r + FIRST_ROUND

    def emit(self, type: str, **fields: Any) -> None:
        """Write an event. A method passes its loop index as `round`; the event gets the round's
        number, and the worker's `started`/`resumed` say that rounds count from FIRST_ROUND (older
        runs' events counted from 0: `engine.live` reads both)."""
        if isinstance(fields.get("round"), int):
            fields["round"] = self.round_number(fields["round"])
        if type in ("started", "resumed"):
            fields["rounds_from"] = FIRST_ROUND
        self.events.emit(type, **fields)

    def phase(self, name: str, **fields: Any) -> None:
        # An event only: status.json (and the index behind it) change with the state, the round
        # and the headline, not at every phase; readers take the phase from the events.
        self._phase = name
        self.emit("phase", phase=name, **fields)

    def log(self, message: str, level: str = "info") -> None:
        self.events.emit("log", level=level, message=message)

    def status(self, **changes: Any) -> None:
        self.store.write_status(self.run_id, changes)

    def metrics(self, round: int, model: str, split: str, values: dict[str, float], targets: list[str],
                **extra: Any) -> float:
        """Emit a metrics event; the mean is over the target languages. Returns the mean."""
        picked = [values[x] for x in targets if x in values]
        mean = sum(picked) / len(picked) if picked else float("nan")
        self.emit("metrics", round=round, model=model, split=split, metric=self.metric_name,
                  values={k: round_(v) for k, v in values.items()}, mean=round_(mean), **extra)
        # The run's headline numbers follow the method's primary model (f_lm, the model being
        # adapted): mixing in the others' would make "latest" jump between models from one
        # evaluation to the next.
        if split == "test" and model == self.primary:
            self.best_mean = mean if self.best_mean is None else max(self.best_mean, mean)
            self.status(latest_mean=round_(mean), best_mean=round_(self.best_mean))
        return mean

    # ----- checkpoints
    def save_checkpoint(self, method: Any, state: dict[str, Any], round: int, model: str | None = None,
                        stage: int | None = None, epoch: int | None = None) -> None:
        """Checkpoint the method inside round `round` (its loop index): after `epoch` of `model`'s
        fine-tuning (and `stage`), or, with no epoch, at the round's end. The tag and the event
        number the round as events do."""
        where = [f"round-{self.round_number(round)}"] + ([model] if model else []) \
            + ([f"stage-{stage}"] if stage is not None else []) + ([f"epoch-{epoch}"] if epoch is not None else [])
        tag = "-".join(where)
        t0 = time.perf_counter()
        path = ckpt.save(layout.checkpoints_dir(self.run_dir), tag, method.models(), method.trainers(), state)
        named = {k: v for k, v in (("model", model), ("stage", stage), ("epoch", epoch)) if v is not None}
        self.emit("checkpoint", tag=tag, path=str(path.relative_to(self.run_dir)),
                  seconds=round_(time.perf_counter() - t0, 2), round=round, **named)

    def latest_checkpoint(self) -> Path | None:
        return layout.latest_checkpoint(self.run_dir)

    def restore_checkpoint(self, path: Path, method: Any) -> dict[str, Any]:
        for name, model in method.models().items():
            ckpt.load_model(path, name, model)
        state = ckpt.load_state(path)
        self.events.emit("log", level="info", message=f"resumed from checkpoint {path.name}")
        return state


def round_(x: float, digits: int = 6) -> float:
    return round(float(x), digits)
