"""Zero-shot fine-tuning (METHODS.md §1): train f_lm on D, evaluate on every language."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.methods import register
from engine.methods.base import Method, Params


class FinetuneParams(Params):
    eval_each_epoch: bool = Field(True, description="evaluate on the test sets after every epoch")


@register
class Finetune(Method):
    name = "finetune"
    description = "zero-shot fine-tuning of f_lm on the source language (baseline)"
    Params = FinetuneParams
    uses_models = ("lm",)

    def setup(self) -> None:
        from engine.methods.run_model import make_model

        self.targets = self.ctx.config.task.resolved_targets()
        self.lm = make_model(self.ctx, "lm", self.model_spec("lm"), self.ctx.n_labels)
        self.final: dict[str, Any] = {}

    def models(self) -> dict[str, Any]:
        return {"lm": self.lm.model}

    def train(self, r: int) -> None:
        from engine.methods.run_model import fine_tune

        self.new_trainer(self.lm, r, len(self.data.train), self.ctx.config.train.epochs)
        self.ctx.phase("featurize", model="lm", examples=len(self.data.train))
        items = self.lm.features("train", self.data.train)

        fine_tune(self.ctx, self.lm, r, items, self.data.train.label, self, on_epoch_end=self.after_epoch(r))

    def epochs(self) -> int:
        """Epochs of training in all; the final evaluation is numbered with it."""
        return self.ctx.config.train.epochs

    def after_epoch(self, r: int, first: int = 0) -> Any:
        """What runs after each epoch of a fine-tuning that starts after `first` epochs: an
        evaluation, but not after the last epoch of all (after_train does that one)."""
        from engine.methods.run_model import evaluate

        def hook(epoch: int) -> None:
            if self.params.eval_each_epoch and first + epoch + 1 < self.epochs():
                evaluate(self.ctx, self.lm, self.data.test, r, self.targets, epoch=first + epoch + 1)

        return hook

    def after_train(self, r: int) -> None:
        from engine.methods.run_model import evaluate

        self.final = evaluate(self.ctx, self.lm, self.data.test, r, self.targets, epoch=self.epochs())

    def results(self) -> dict[str, Any]:
        if not self.final:  # resumed after the last round: evaluate the restored model
            self.after_train(self.round - 1)
        return {"lm": self.final}
