"""The one fine-tune loop: AdamW, linear schedule, dynamic padding, resumable at any step.

Determinism without saving RNG states: the order of each epoch and the dropout of each step
are seeded from (seed, model tag, round, epoch, step). A run resumed from a checkpoint thus
takes exactly the steps an uninterrupted run would have taken.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import TrainConfig
from engine.models.base import TextClassifier


class StopRequested(Exception):
    """Raised after the step in which a stop was asked for, once the state is saved."""


def stable_seed(*parts: Any) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


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
                  {"params": head, "weight_decay": self.cfg.weight_decay, "lr": self.cfg.head_lr or lr}]
        # The fused kernel does the same update about 2x faster on CPU and GPU alike.
        self.optimizer = torch.optim.AdamW([g for g in groups if g["params"]], fused=True)
        self.steps_per_epoch = max(1, math.ceil(self.n_examples / self.cfg.batch_size))
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


def cross_entropy(model: TextClassifier, batch: dict[str, torch.Tensor], labels: torch.Tensor) -> dict[str, torch.Tensor]:
    logits = model(batch)
    return {"ce": F.cross_entropy(logits, labels)}


LossFn = Callable[[TextClassifier, dict[str, torch.Tensor], torch.Tensor], dict[str, torch.Tensor]]


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
        hooks: FitHooks, loss_fn: LossFn = cross_entropy, progress_every: float = 0.5) -> None:
    """Train from `trainer.position` to the end of its epochs.

    Checkpoints (through hooks.checkpoint) at every epoch end, and after the current step
    when a stop is requested, then raises StopRequested.
    """
    model, cfg, pos = trainer.model, trainer.cfg, trainer.position
    encoder = model.encoder
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    bs = cfg.batch_size
    last_report, window_samples, window_start = 0.0, 0, time.perf_counter()
    while pos.epoch < trainer.epochs:
        model.train()
        order = np.random.default_rng(stable_seed(seed, tag, "order", pos.epoch)).permutation(len(items))
        for step in range(pos.step, trainer.steps_per_epoch):
            idx = order[step * bs: (step + 1) * bs]
            if len(idx) == 0:
                break
            torch.manual_seed(stable_seed(seed, tag, "dropout", pos.epoch, step))
            batch = to_device(encoder.collate([items[i] for i in idx]), trainer.device)
            losses = loss_fn(model, batch, labels_t[idx].to(trainer.device))
            loss = sum(losses.values())
            trainer.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            trainer.optimizer.step()
            trainer.scheduler.step()
            pos.step = step + 1
            window_samples += len(idx)
            now = time.perf_counter()
            last_step = pos.step == trainer.steps_per_epoch
            if now - last_report >= progress_every or last_step:
                rate = window_samples / max(now - window_start, 1e-9)
                hooks.progress({
                    "epoch": pos.epoch, "epochs": trainer.epochs,
                    "step": pos.epoch * trainer.steps_per_epoch + pos.step, "total": trainer.total_steps,
                    "losses": {k: round(float(v.detach()), 5) for k, v in losses.items()},
                    "samples_per_s": round(rate, 2), "lr": trainer.scheduler.get_last_lr()[0],
                    "eta_s": round((trainer.total_steps - pos.epoch * trainer.steps_per_epoch - pos.step) * bs / max(rate, 1e-9), 1),
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
