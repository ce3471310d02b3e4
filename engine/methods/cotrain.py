"""Co-training (METHODS.md §2, paper 1 Algorithm 1) and self-training (§3): one loop, two wirings.

Each view (a classifier: `lm`, and for co-training `emb`) keeps its own unlabeled pool U_v and
training set D_v. Every round each view is fine-tuned on D_v and evaluated; then each view labels
its pool, keeps the items above its threshold (C_v), draws a random subset S_v of at most
select_fraction·|D|, removes S_v from its own pool and hands it, with its labels, to the view it
teaches: the other view in co-training, itself in self-training.

The pseudocode also labels and selects after the last fine-tuning, where nothing would train on
the result; we skip that last selection.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.live import pool_fields
from engine.methods import register
from engine.methods.base import Method, Params


class PoolParams(Params):
    rounds: int = Field(5, ge=1, le=100, description="rounds s: fine-tune, then label and grow the training sets")
    threshold: float = Field(0.9, ge=0, lt=1, description="confidence t a pseudo label must exceed")
    select_fraction: float = Field(1 / 3, gt=0, le=100,
                                   description="items each view hands over per round, as a share of |D| (paper: 1/3)")
    reinit_each_round: bool = Field(False, description="start each round from the pretrained weights (else continue)")
    threshold_lm: float | None = Field(None, ge=0, lt=1, description="threshold of f_lm's picks (None: threshold)")


class CotrainParams(PoolParams):
    threshold_emb: float | None = Field(None, ge=0, lt=1, description="threshold of f_emb's picks (None: threshold)")


class SelftrainParams(PoolParams):
    pass


class PseudoLabelLoop(Method):
    """The shared loop; subclasses name the views and who teaches whom."""

    views: tuple[str, ...] = ("lm",)
    teaches: dict[str, str] = {"lm": "lm"}
    pseudo_labels = True
    rounds_param = "rounds"

    def setup(self) -> None:
        import numpy as np

        from engine.methods.run_model import make_model

        cfg = self.ctx.config
        self.targets = cfg.task.resolved_targets()
        self.rm = {v: make_model(self.ctx, v, self.model_spec(v), self.ctx.n_labels) for v in self.views}
        self.n = len(self.data.train)
        self.U = self.data.unlabeled
        self.pool = {v: np.arange(len(self.U)) for v in self.views}
        # what each view's training set gained: items of U and the labels its teacher gave them
        self.added = {v: (np.zeros(0, np.int64), np.zeros(0, np.int64)) for v in self.views}
        self.final: dict[str, Any] = {}
        self.initial = ({v: rm.model.trainable_state() for v, rm in self.rm.items()}
                        if self.params.reinit_each_round else {})

    def rounds(self) -> int:
        return self.params.rounds

    def threshold(self, view: str) -> float:
        own = getattr(self.params, f"threshold_{view}", None)
        return self.params.threshold if own is None else own

    def selection_size(self) -> int:
        return int(round(self.params.select_fraction * self.n))

    def models(self) -> dict[str, Any]:
        return {v: rm.model for v, rm in self.rm.items()}

    # ----- state
    def state(self) -> dict[str, Any]:
        return {"pool": {v: p.tolist() for v, p in self.pool.items()},
                "added": {v: [a.tolist(), b.tolist()] for v, (a, b) in self.added.items()}}

    def load(self, state: dict[str, Any]) -> None:
        import numpy as np

        self.pool = {v: np.asarray(p, dtype=np.int64) for v, p in state["pool"].items()}
        self.added = {v: (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
                      for v, (a, b) in state["added"].items()}

    # ----- the round
    def training_set(self, view: str) -> tuple[list[Any], Any]:
        """Features and labels of D_v = D ∪ what the view's teacher handed over."""
        import numpy as np

        rm = self.rm[view]
        d_items = rm.features("train", self.data.train)
        u_items = rm.features("unlabeled", self.U)
        idx, labels = self.added[view]
        return d_items + [u_items[i] for i in idx], np.concatenate([self.data.train.label, labels])

    def train(self, r: int) -> None:
        sets = {}
        for v in self.views:
            self.ctx.phase("featurize", model=v)
            sets[v] = self.training_set(v)
        for v in self.views:
            self.fine_tune_view(v, r, *sets[v])

    def fine_tune_view(self, v: str, r: int, items: list[Any], labels: Any) -> None:
        from engine.methods.run_model import fine_tune

        self.new_trainer(self.rm[v], r, len(labels), self.ctx.config.train.epochs, lr=self.model_lr(v))
        fine_tune(self.ctx, self.rm[v], r, items, labels, self)

    def after_train(self, r: int) -> None:
        from engine.methods.run_model import evaluate

        for v in self.views:
            self.final[v] = evaluate(self.ctx, self.rm[v], self.data.test, r, self.targets)

    def last_round(self, r: int) -> bool:
        return r == self.rounds() - 1

    def pseudo_label(self, r: int) -> None:
        """Each view labels the items still in any pool (one prediction pass per view)."""
        import numpy as np

        from engine.predict import predict_proba

        self.probs: dict[str, Any] = {}
        if self.last_round(r):
            return
        self.remaining = np.unique(np.concatenate([self.pool[v] for v in self.views]))
        for v in self.views:
            self.ctx.phase("predict", model=v, round=r, examples=len(self.remaining))
            items = self.rm[v].features("unlabeled", self.U)
            self.probs[v] = predict_proba(self.rm[v].model, [items[i] for i in self.remaining], self.ctx.device,
                                          self.ctx.config.train.eval_batch_size)

    def after_pseudo_label(self, r: int) -> None:
        if self.last_round(r):
            return
        import numpy as np

        from engine.ops.agreement import agreement

        for a, b in self.agreement_pairs:
            # agreement on the items neither view of the pair has handed over yet
            both = np.intersect1d(self.pool[a], self.pool[b])
            rows = np.searchsorted(self.remaining, both)
            rate, by_lang = agreement(self.probs[a][rows].argmax(1), self.probs[b][rows].argmax(1),
                                      [self.U.lang[i] for i in both])
            self.ctx.emit("agreement", round=r, pair=[a, b], rate=rate, by_lang=by_lang, items=int(len(both)))

    def select(self, r: int) -> None:
        if self.last_round(r):
            return
        import numpy as np

        from engine.ops.selection import confident, precision, random_subset
        from engine.train import stable_seed

        self.ctx.phase("select", round=r)
        sizes: dict[str, dict[str, Any]] = {v: {} for v in self.views}
        handed: dict[str, tuple[Any, Any]] = {}
        for v in self.views:
            rows = np.searchsorted(self.remaining, self.pool[v])
            conf_rows, labels, _ = confident(self.probs[v][rows], self.threshold(v))
            candidates = self.pool[v][conf_rows]
            label_of = dict(zip(candidates.tolist(), labels.tolist()))
            rng = np.random.default_rng(stable_seed(self.ctx.config.seed, "select", v, r))
            picked = random_subset(candidates, self.selection_size(), rng)
            picked_labels = np.asarray([label_of[i] for i in picked.tolist()], dtype=np.int64)
            handed[v] = (picked, picked_labels)
            sizes[v]["C"], sizes[v]["S"] = int(len(candidates)), int(len(picked))
            sizes[v]["precision"] = precision(picked_labels, self.U.label[picked]) if len(picked) else None
        for v, (picked, labels) in handed.items():
            self.pool[v] = np.setdiff1d(self.pool[v], picked, assume_unique=True)
            student = self.teaches[v]
            idx, old = self.added[student]
            self.added[student] = (np.concatenate([idx, picked]), np.concatenate([old, labels]))
        # after the exchange: each view's pool (U) and training set (D); this round's candidates
        # (C) and selection (S), and the precision of the labels it handed over
        sizes = {v: {"U": int(len(self.pool[v])), "D": int(self.n + len(self.added[v][0])), **sizes[v]}
                 for v in self.views}
        self.ctx.emit("pools", round=r, **pool_fields(sizes))

    def after_round(self, r: int) -> None:
        # Back to the pretrained weights now, not when the next round starts: the round's
        # checkpoint then holds them, and a resumed round needs no special case.
        if self.params.reinit_each_round and not self.last_round(r):
            for v, rm in self.rm.items():
                rm.model.load_trainable_state(self.initial[v])

    def results(self) -> dict[str, Any]:
        if not self.final:  # resumed after the last round: evaluate the restored models
            self.after_train(self.round - 1)
        return dict(self.final)


@register
class CoTraining(PseudoLabelLoop):
    name = "cotrain"
    description = "co-training: f_lm and f_emb teach each other with confident pseudo labels"
    Params = CotrainParams
    views = ("lm", "emb")
    uses_models = views
    teaches = {"lm": "emb", "emb": "lm"}
    agreement_pairs = (("lm", "emb"),)


@register
class SelfTraining(PseudoLabelLoop):
    name = "selftrain"
    description = "self-training: f_lm learns from its own confident pseudo labels"
    Params = SelftrainParams
    views = ("lm",)
    uses_models = views
    teaches = {"lm": "lm"}
