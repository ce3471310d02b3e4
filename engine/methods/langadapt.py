"""Training on translation pairs Dbi (METHODS.md §4, paper 1 §3.2).

- `translate-train`: cross-entropy on D ∪ Dbi (Eq. 1).
- `langadapt`: contrastive language adaptation in two stages. Stage 1: CE + λ_LA·L_LA on
  D ∪ Dbi (Eq. 3). Stage 2: CE + λ_SA·L_SA on Dbi at a smaller learning rate (Eq. 5), each
  source text of Dbi an anchor with its translations as positives and source texts of another
  label as negatives. Switches give the paper's Table 4 ablations.
- `langadapt+cotrain`: co-training in which language adaptation is how f_lm is fine-tuned
  every round; f_emb trains on its set and Dbi with cross-entropy.

Dbi is the task's `parallel` (the translations x_i(t), with the label of their source) and
`parallel_source` (row by row, the source x_i each one translates).
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from engine.methods import register
from engine.methods.base import Method, Params
from engine.methods.cotrain import CotrainParams, CoTraining
from engine.methods.finetune import Finetune, FinetuneParams


class AlignmentParams(Params):
    """What language adaptation adds to a fine-tuning: the losses, their data, stage 2."""

    # below 0.01, 1/τ overflows half precision
    tau: float = Field(0.3, ge=0.01, le=10, description="temperature τ of both contrastive losses")
    lambda_la: float = Field(0.5, ge=0, le=100, description="weight λ_LA of label alignment (stage 1)")
    lambda_sa: float = Field(0.5, ge=0, le=100, description="weight λ_SA of semantic alignment (stage 2)")
    la_data: Literal["D+Dbi", "D", "Dbi", "none"] = Field(
        "D+Dbi", description="items label alignment runs over; Table 4: D is -LA(Dbi), Dbi is -LA(D), "
                             "none is -LA(D∪Dbi)")
    semantic_alignment: bool = Field(True, description="add L_SA in stage 2 (false: Table 4's -SA, "
                                                       "stage 2 is CE on the translations)")
    stage2_epochs: int = Field(1, ge=0, le=100, description="epochs of stage 2 on Dbi (0: skip it)")
    stage2_lr: float | None = Field(None, gt=0, le=1, description="learning rate of stage 2 (None: train.lr / 10)")
    sa_negatives: int | None = Field(None, ge=1, le=1024,
                                     description="negatives per anchor (None: as many as it has translations)")


class AdaptParams(FinetuneParams, AlignmentParams):
    pass


class AdaptCotrainParams(CotrainParams, AlignmentParams):
    pass


def _dbi(data: Any) -> tuple[Any, Any, list[Any]]:
    """(translations, stage-2 examples, positives): the stage-2 examples are Dbi's distinct source
    texts (the anchors, rows 0..n-1) followed by the translations; positives[k] are the rows of
    anchor k's translations."""
    import numpy as np

    from engine.tasks.base import Examples

    tr, src = data.parallel, data.parallel_source
    first: dict[str, int] = {}
    for row, sid in enumerate(src.id):
        first.setdefault(sid, row)
    sources = src.subset(list(first.values()))
    anchor_of = {sid: k for k, sid in enumerate(first)}
    positives: list[list[int]] = [[] for _ in first]
    for row, sid in enumerate(src.id):
        positives[anchor_of[sid]].append(len(sources) + row)
    return tr, Examples.concat([sources, tr]), [np.asarray(p, dtype=np.int64) for p in positives]


def _with_alignment(tau: float, la_items: Any, use_sa: bool):
    """The loss of one step: CE on the head's logits, and the contrastive terms on the same
    sentence vectors (one forward pass). `la_items[i]`: item i takes part in L_LA (None: no LA)."""
    import torch
    import torch.nn.functional as F

    from engine.ops.contrastive import label_alignment, semantic_alignment

    def loss(model: Any, batch: dict[str, Any], labels: Any, step: Any) -> dict[str, Any]:
        h = model.embed(batch)
        out = {"ce": F.cross_entropy(model.head(model.dropout(h)), labels)}
        if la_items is not None:
            keep = torch.as_tensor(la_items[step.idx], device=h.device)
            out["la"] = label_alignment(h[keep], labels[keep], tau)
        if use_sa:
            out["sa"] = semantic_alignment(h, [g.anchor for g in step.groups], [g.positives for g in step.groups],
                                           [g.negatives for g in step.groups], tau)
        return out

    return loss


class Adaptation:
    """The two stages of language adaptation of one model (f_lm), given the method's params.
    translate-train is the same first stage with label alignment off and no second stage."""

    def __init__(self, method: Method, params: Any):
        self.method, self.p = method, params
        self.translations, self.stage2_examples, self.positives = _dbi(method.data)

    @property
    def la_data(self) -> str:
        return "none" if self.p.lambda_la == 0 else self.p.la_data

    def stage1(self, rm: Any, r: int, base: Any, base_labels: Any, on_epoch_end: Any = None) -> None:
        """CE (+ λ_LA·L_LA) on the model's training set `base` (features) and the translations."""
        import numpy as np

        from engine.methods.run_model import fine_tune

        ctx = self.method.ctx
        items = base + rm.features("parallel", self.translations)
        labels = np.concatenate([base_labels, self.translations.label])
        n_base = len(base)
        la = {"D+Dbi": np.ones(len(items), bool),
              "D": np.arange(len(items)) < n_base,
              "Dbi": np.arange(len(items)) >= n_base,
              "none": None}[self.la_data]
        self.method.new_trainer(rm, r, len(items), ctx.config.train.epochs, stage=1)
        fine_tune(ctx, rm, r, items, labels, self.method, on_epoch_end=on_epoch_end,
                  loss_fn=_with_alignment(self.p.tau, la, False), weights={"la": self.p.lambda_la}, stage=1)

    def stage2(self, rm: Any, r: int, on_epoch_end: Any = None) -> None:
        """CE + λ_SA·L_SA on Dbi's sources and translations, at the smaller learning rate; without
        semantic alignment (-SA), CE alone on the translations at that learning rate."""
        from engine.batches import AlignmentBatches
        from engine.methods.run_model import fine_tune

        ctx = self.method.ctx
        lr = self.p.stage2_lr or ctx.config.train.lr / 10
        epochs = self.p.stage2_epochs
        if not self.p.semantic_alignment:
            tr = self.translations
            self.method.new_trainer(rm, r, len(tr), epochs, lr=lr, stage=2)
            fine_tune(ctx, rm, r, rm.features("parallel", tr), tr.label, self.method, on_epoch_end=on_epoch_end,
                      stage=2)
            return
        ex = self.stage2_examples
        batches = AlignmentBatches(anchors=list(range(len(self.positives))), positives=self.positives,
                                   labels=ex.label, batch_size=ctx.config.train.batch_size,
                                   seed=ctx.config.seed, tag=f"{rm.key}/{r}/align", negatives=self.p.sa_negatives)
        self.method.new_trainer(rm, r, len(ex), epochs, lr=lr, stage=2, steps=batches.steps_per_epoch)
        fine_tune(ctx, rm, r, rm.features("stage2", ex), ex.label, self.method, on_epoch_end=on_epoch_end,
                  loss_fn=_with_alignment(self.p.tau, None, True), weights={"sa": self.p.lambda_sa},
                  batches=batches, stage=2)


@register
class TranslateTrain(Finetune):
    name = "translate-train"
    description = "translate-train: fine-tune f_lm on D and the translation pairs Dbi (cross-entropy)"
    Params = FinetuneParams
    needs_parallel = True

    def setup(self) -> None:
        super().setup()
        self.adapt = Adaptation(self, self.adapt_params())

    def adapt_params(self) -> Any:
        # translate-train is stage 1 of language adaptation with no label alignment
        return AdaptParams(lambda_la=0, stage2_epochs=0, eval_each_epoch=self.params.eval_each_epoch)

    def epochs(self) -> int:
        return self.ctx.config.train.epochs + self.adapt.p.stage2_epochs

    def train(self, r: int) -> None:
        self.ctx.phase("featurize", model="lm", examples=len(self.data.train))
        self.adapt.stage1(self.lm, r, self.lm.features("train", self.data.train), self.data.train.label,
                          on_epoch_end=self.after_epoch(r))
        if self.adapt.p.stage2_epochs:
            self.adapt.stage2(self.lm, r, on_epoch_end=self.after_epoch(r, first=self.ctx.config.train.epochs))


@register
class LangAdapt(TranslateTrain):
    name = "langadapt"
    description = "contrastive language adaptation of f_lm on D and Dbi: label, then semantic alignment"
    Params = AdaptParams

    def adapt_params(self) -> Any:
        return self.params


@register
class LangAdaptCoTraining(CoTraining):
    name = "langadapt+cotrain"
    description = "co-training in which f_lm is fine-tuned by language adaptation on its set and Dbi"
    Params = AdaptCotrainParams
    needs_parallel = True
    #: the view fine-tuned by language adaptation; the others train on their set and Dbi with CE
    adapted = "lm"

    def setup(self) -> None:
        super().setup()
        self.adapt = Adaptation(self, self.params)

    def fine_tune_view(self, v: str, r: int, items: list[Any], labels: Any) -> None:
        import numpy as np

        from engine.methods.run_model import fine_tune

        rm = self.rm[v]
        if v == self.adapted:
            self.adapt.stage1(rm, r, items, labels)
            if self.params.stage2_epochs:
                self.adapt.stage2(rm, r)
            return
        # f_emb: its set and the translations, cross-entropy
        tr = self.adapt.translations
        items = items + rm.features("parallel", tr)
        labels = np.concatenate([labels, tr.label])
        self.new_trainer(rm, r, len(items), self.ctx.config.train.epochs, lr=self.model_lr(v))
        fine_tune(self.ctx, rm, r, items, labels, self)
