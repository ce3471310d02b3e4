"""A run's model and what every method does with one: build it with its features, fine-tune it, evaluate it.

Imports torch: methods import this inside their hooks, never at module top.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.context import RunContext
from engine.models import build_classifier
from engine.models.base import TextClassifier
from engine.predict import accuracy_by_lang, predict_proba
from engine.tasks.base import Examples
from engine.train import FitHooks, Trainer, fit, stable_seed


@dataclass
class RunModel:
    """One classifier of a run (`lm`, `emb`, ...), its trainer and its featurized data."""

    key: str
    spec: str
    model: TextClassifier
    trainer: Trainer | None = None
    _features: dict[str, list[Any]] = field(default_factory=dict)

    def features(self, name: str, examples: Examples) -> list[Any]:
        """Featurize a named example set once (tokenisation is the same every epoch)."""
        if name not in self._features:
            self._features[name] = self.model.encoder.featurize(examples.text, examples.text_pair)
        return self._features[name]


def make_model(ctx: RunContext, key: str, spec: str, n_labels: int) -> RunModel:
    import torch

    torch.manual_seed(stable_seed(ctx.config.seed, key, "init"))  # the head's initial weights
    ctx.phase("load-model", model=key, spec=spec)
    model = build_classifier(spec, n_labels, ctx.config, progress=lambda msg: ctx.log(f"{key}: {msg}"))
    model.to(ctx.device)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())
    ctx.log(f"{key}: {spec} — {n_train:,} of {n_all:,} parameters train")
    return RunModel(key, spec, model)


def fine_tune(ctx: RunContext, rm: RunModel, round: int, items: list[Any], labels: np.ndarray,
              method: Any, on_epoch_end: Any = None, loss_fn: Any = None, weights: Any = None,
              batches: Any = None, stage: int | None = None) -> None:
    """Train `rm` from its trainer's position to the end, checkpointing every epoch.

    `stage` (1, 2, ...) numbers the fine-tunings of one model in a round that has several: its
    events say so, and its steps are seeded apart; `loss_fn`, `weights` and `batches` as in `fit`.
    """
    trainer = rm.trainer
    assert trainer is not None, "call new_trainer first"
    if trainer.position.done:
        return
    label = {"stage": stage} if stage is not None else {}
    ctx.phase("train", model=rm.key, round=round, examples=len(items), epochs=trainer.epochs, **label)

    def progress(info: dict[str, Any]) -> None:
        ctx.emit("progress", model=rm.key, round=round, **info)

    def epoch_end(epoch: int) -> None:
        if on_epoch_end:
            on_epoch_end(epoch)  # may evaluate, which changes the phase
        if not trainer.position.done:
            ctx.phase("train", model=rm.key, round=round, examples=len(items), epochs=trainer.epochs, **label)

    hooks = FitHooks(
        progress=progress,
        epoch_end=epoch_end,
        checkpoint=lambda: method.checkpoint(round, model=rm.key, stage=stage, epoch=trainer.position.epoch),
        should_stop=ctx.should_stop,
    )
    kwargs = {"loss_fn": loss_fn} if loss_fn is not None else {}
    # A model fine-tuned once a round keeps the tag runs were always seeded with.
    tag = f"{rm.key}/{round}" + (f"/stage-{stage}" if stage is not None else "")
    fit(trainer, items, labels, seed=ctx.config.seed, tag=tag, hooks=hooks, weights=weights,
        batches=batches, report=label, **kwargs)


def evaluate(ctx: RunContext, rm: RunModel, test: dict[str, Examples], round: int,
             targets: list[str], **extra: Any) -> dict[str, float]:
    """Accuracy per language on the test sets; emits a `metrics` event. Returns values + mean."""
    ctx.phase("eval", model=rm.key, round=round)
    values: dict[str, float] = {}
    for lang, ex in test.items():
        probs = predict_proba(rm.model, rm.features(f"test/{lang}", ex), ctx.device,
                              ctx.config.train.eval_batch_size)
        values.update(accuracy_by_lang(probs, ex.label, [lang] * len(ex)))
    mean = ctx.metrics(round, rm.key, "test", values, targets, **extra)
    return {**values, "mean": mean if not math.isnan(mean) else None}
