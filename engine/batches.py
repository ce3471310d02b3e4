"""Which items make each training step: the plain shuffled batches, and the semantic-alignment
batches of contrastive language adaptation (METHODS.md §4, paper 1 Eq. 4).

No torch here: a plan is index arrays, seeded from (seed, tag, epoch) so that a resumed run
takes exactly the steps an uninterrupted one would have taken.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np


def stable_seed(*parts: Any) -> int:
    """A seed from any parts; unlike hash(), the same in every process."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


@dataclass
class AlignmentGroup:
    """One anchor's contrastive batch, as positions in its step's `idx`."""

    anchor: int
    positives: list[int]
    negatives: list[int]


@dataclass
class Step:
    """The items of one optimizer step (indices into the fine-tuning's items), and for semantic
    alignment the anchor groups they form."""

    idx: np.ndarray
    groups: list[AlignmentGroup] = field(default_factory=list)


class Batches(Protocol):
    steps_per_epoch: int

    def epoch(self, epoch: int) -> list[Step]: ...


@dataclass
class ShuffledBatches:
    """Every item once per epoch, in a seeded order, `batch_size` at a time."""

    n: int
    batch_size: int
    seed: int
    tag: str

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.n / self.batch_size))

    def epoch(self, epoch: int) -> list[Step]:
        order = np.random.default_rng(stable_seed(self.seed, self.tag, "order", epoch)).permutation(self.n)
        return [Step(order[s * self.batch_size:(s + 1) * self.batch_size])
                for s in range(self.steps_per_epoch) if s * self.batch_size < self.n]


@dataclass
class AlignmentBatches:
    """Semantic-alignment batches: each source text x_i of Dbi is an anchor with its translations
    x_i(t) as positives and as many source texts of Dbi with another label as negatives (the
    paper's batch of 2b). Anchors are shuffled every epoch and their negatives drawn anew;
    several anchors share one optimizer step so that a step holds about `batch_size` texts.

    anchors: item index of each source text; positives[k]: item indices of anchor k's
    translations; labels: the label of every item.
    """

    anchors: np.ndarray
    positives: Sequence[np.ndarray]
    labels: np.ndarray
    batch_size: int
    seed: int
    tag: str
    negatives: int | None = None  # per anchor; None: as many as it has translations (the paper)

    def __post_init__(self) -> None:
        self.anchors = np.asarray(self.anchors, dtype=np.int64)
        if len(self.anchors) != len(self.positives):
            raise ValueError("every anchor needs its list of translations")
        mean_pos = float(np.mean([len(p) for p in self.positives])) if len(self.positives) else 1.0
        per_anchor = 1 + mean_pos + (self.negatives if self.negatives is not None else mean_pos)
        self.anchors_per_step = max(1, int(self.batch_size // per_anchor))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.anchors) / self.anchors_per_step))

    def negatives_of(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """Source texts of another label than anchor k's, drawn without replacement."""
        label = self.labels[self.anchors[k]]
        others = self.anchors[self.labels[self.anchors] != label]
        want = len(self.positives[k]) if self.negatives is None else self.negatives
        if len(others) <= want:
            return others
        return others[np.sort(rng.choice(len(others), size=want, replace=False))]

    def epoch(self, epoch: int) -> list[Step]:
        rng = np.random.default_rng(stable_seed(self.seed, self.tag, "align", epoch))
        order = rng.permutation(len(self.anchors))
        steps = []
        for s in range(0, len(order), self.anchors_per_step):
            where: dict[int, int] = {}  # item -> position in the step (an item appears once)

            def at(item: int) -> int:
                return where.setdefault(int(item), len(where))

            groups = []
            for k in order[s:s + self.anchors_per_step]:
                negs = self.negatives_of(int(k), rng)
                groups.append(AlignmentGroup(at(self.anchors[k]), [at(i) for i in self.positives[k]],
                                             [at(i) for i in negs]))
            steps.append(Step(np.fromiter(where, dtype=np.int64, count=len(where)), groups))
        return steps
