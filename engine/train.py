"""The one fine-tune loop: AdamW, linear schedule, dynamic padding, resumable at any step.

Determinism without saving RNG states: the order of each epoch and the dropout of each step
are seeded from (seed, model tag, round, epoch, step). A run resumed from a checkpoint thus
takes exactly the steps an uninterrupted run would have taken.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.batches import Batches, ShuffledBatches, Step, stable_seed
from engine.config import TrainConfig
from engine.models.base import TextClassifier

__all__ = ["FitHooks", "Position", "StopRequested", "Trainer", "cross_entropy", "fit", "stable_seed"]


class StopRequested(Exception):
    """Raised after the step in which a stop was asked for, once the state is saved."""


@dataclass
class Position:
    """Where a fine-tuning is: the next step to take is `step` of `epoch`."""

    epoch: int = 0
    step: int = 0
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "step": self.step, "done": self.done}


@dataclass
class Trainer:
    """Optimizer, schedule and position of one model's fine-tuning."""

    model: TextClassifier
    cfg: TrainConfig
    n_examples: int
    epochs: int
    device: torch.device
    lr: float | None = None
    #: steps of one epoch when the batches are not plain `batch_size` slices of the items
    steps: int | None = None
    position: Position = field(default_factory=Position)

    def __post_init__(self) -> None:
        lr = self.lr or self.cfg.lr
        decay, no_decay, head = [], [], []
        for name, p in self.model.named_parameters():
            if not p.requires_grad:
                continue
            if name.startswith("head."):
                head.append(p)
            elif p.ndim < 2:  # biases and LayerNorm weights are not decayed (as in BERT)
                no_decay.append(p)
            else:
                decay.append(p)
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay, "lr": lr},
                  {"params": no_decay, "weight_decay": 0.0, "lr": lr},
                  # head_lr is relative to train.lr: a fine-tuning at another lr (stage 2, f_emb) scales it too
                  {"params": head, "weight_decay": self.cfg.weight_decay,
                   "lr": lr * self.cfg.head_lr / self.cfg.lr if self.cfg.head_lr else lr}]
        # The fused kernel does the same update about 2x faster on CPU and GPU alike.
        self.optimizer = torch.optim.AdamW([g for g in groups if g["params"]], fused=True)
        self.steps_per_epoch = self.steps or max(1, math.ceil(self.n_examples / self.cfg.batch_size))
        self.total_steps = self.steps_per_epoch * self.epochs
        warmup = int(self.total_steps * self.cfg.warmup_ratio)

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / max(1, warmup)
            return max(0.0, (self.total_steps - step) / max(1, self.total_steps - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "position": self.position.as_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.position = Position(**state["position"])


def cross_entropy(model: TextClassifier, batch: dict[str, torch.Tensor], labels: torch.Tensor,
                  step: Step) -> dict[str, torch.Tensor]:
    logits = model(batch)
    return {"ce": F.cross_entropy(logits, labels)}


#: (model, collated batch, labels, the step's plan) -> named loss terms, summed for the update
LossFn = Callable[[TextClassifier, dict[str, torch.Tensor], torch.Tensor, Step], dict[str, torch.Tensor]]


@dataclass
class FitHooks:
    """What the loop reports to and asks of the run around it."""

    progress: Callable[[dict[str, Any]], None] = lambda info: None
    epoch_end: Callable[[int], None] = lambda epoch: None  # after the epoch, before its checkpoint
    checkpoint: Callable[[], None] = lambda: None
    should_stop: Callable[[], bool] = lambda: False


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def fit(trainer: Trainer, items: list[Any], labels: np.ndarray, *, seed: int, tag: str,
        hooks: FitHooks, loss_fn: LossFn = cross_entropy, weights: dict[str, float] | None = None,
        batches: Batches | None = None, progress_every: float = 0.5,
        report: dict[str, Any] | None = None) -> None:
    """Train from `trainer.position` to the end of its epochs.

    The update minimises the sum of `loss_fn`'s terms, each times its `weights` entry (1 when
    absent); progress reports the terms unweighted. `batches` plans each epoch's steps (default:
    shuffled slices of `batch_size`); `report` is added to every progress report (e.g. the stage).
    Checkpoints (through hooks.checkpoint) at every epoch end, and after the current step when a
    stop is requested, then raises StopRequested.
    """
    model, cfg, pos = trainer.model, trainer.cfg, trainer.position
    encoder = model.encoder
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    batches = batches or ShuffledBatches(len(items), cfg.batch_size, seed, tag)
    weights = weights or {}
    if batches.steps_per_epoch != trainer.steps_per_epoch:
        raise ValueError(f"the trainer expects {trainer.steps_per_epoch} steps an epoch, the batches make "
                         f"{batches.steps_per_epoch}")
    last_report, window_samples, window_start = 0.0, 0, time.perf_counter()
    done_samples, done_steps = 0, 0  # since this call began: the mean step size, for the ETA
    while pos.epoch < trainer.epochs:
        model.train()
        plan = batches.epoch(pos.epoch)
        for step in range(pos.step, trainer.steps_per_epoch):
            if step >= len(plan):
                break
            this = plan[step]
            idx = this.idx
            torch.manual_seed(stable_seed(seed, tag, "dropout", pos.epoch, step))
            batch = to_device(encoder.collate([items[i] for i in idx]), trainer.device)
            losses = loss_fn(model, batch, labels_t[idx].to(trainer.device), this)
            loss = sum(v * weights.get(k, 1.0) for k, v in losses.items())
            trainer.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            trainer.optimizer.step()
            trainer.scheduler.step()
            pos.step = step + 1
            window_samples += len(idx)
            done_samples, done_steps = done_samples + len(idx), done_steps + 1
            now = time.perf_counter()
            last_step = pos.step == trainer.steps_per_epoch
            if now - last_report >= progress_every or last_step:
                rate = window_samples / max(now - window_start, 1e-9)
                steps_left = trainer.total_steps - pos.epoch * trainer.steps_per_epoch - pos.step
                hooks.progress({
                    **(report or {}),
                    "epoch": pos.epoch, "epochs": trainer.epochs,
                    "step": pos.epoch * trainer.steps_per_epoch + pos.step, "total": trainer.total_steps,
                    "losses": {k: round(float(v.detach()), 5) for k, v in losses.items()},
                    "samples_per_s": round(rate, 2), "lr": trainer.scheduler.get_last_lr()[0],
                    "eta_s": round(steps_left * (done_samples / done_steps) / max(rate, 1e-9), 1),
                })
                last_report, window_samples, window_start = now, 0, now
            if hooks.should_stop() and not last_step:
                hooks.checkpoint()
                raise StopRequested()
        pos.epoch, pos.step = pos.epoch + 1, 0
        pos.done = pos.epoch >= trainer.epochs
        hooks.epoch_end(pos.epoch - 1)
        hooks.checkpoint()
        if hooks.should_stop() and not pos.done:
            raise StopRequested()
