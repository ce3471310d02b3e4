"""What every task hands to a method: columnar example sets and the task's description.

Columns (not lists of objects) because pools reach millions of items and methods move
them around by index arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

NO_LABEL = -1  # gold label unknown (or hidden)

TextKind = Literal["single", "pair", "tokens"]


@dataclass
class Examples:
    """A set of examples, one entry per column per example.

    `label` holds the gold label where the data has one (NO_LABEL otherwise); for the
    unlabeled pool U it is kept only to measure pseudo-label precision, never trained on.
    `group` ties translations of the same item together (empty string when none).
    """

    text: list[str]
    label: np.ndarray
    lang: list[str]
    id: list[str]
    text_pair: list[str] | None = None
    group: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.label = np.asarray(self.label, dtype=np.int64)
        if not self.group:
            self.group = [""] * len(self.text)
        n = len(self.text)
        sizes = {len(self.label), len(self.lang), len(self.id), len(self.group)}
        if self.text_pair is not None:
            sizes.add(len(self.text_pair))
        if sizes != {n}:
            raise ValueError(f"Examples columns differ in length: {sorted(sizes | {n})}")

    def __len__(self) -> int:
        return len(self.text)

    def subset(self, index: Sequence[int] | np.ndarray) -> "Examples":
        idx = np.asarray(index, dtype=np.int64)
        pick = lambda col: [col[i] for i in idx]  # noqa: E731
        return Examples(
            text=pick(self.text),
            label=self.label[idx],
            lang=pick(self.lang),
            id=pick(self.id),
            text_pair=pick(self.text_pair) if self.text_pair is not None else None,
            group=pick(self.group),
        )

    def with_labels(self, labels: np.ndarray) -> "Examples":
        """The same texts carrying other labels (pseudo labels)."""
        out = self.subset(np.arange(len(self)))
        out.label = np.asarray(labels, dtype=np.int64).copy()
        return out

    def languages(self) -> list[str]:
        return sorted(set(self.lang))

    def by_lang(self) -> dict[str, np.ndarray]:
        """Index array of the examples of each language."""
        out: dict[str, list[int]] = {}
        for i, lang in enumerate(self.lang):
            out.setdefault(lang, []).append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in sorted(out.items())}

    @staticmethod
    def concat(parts: Sequence["Examples"]) -> "Examples":
        parts = [p for p in parts if len(p)] or list(parts[:1])
        if not parts:
            return Examples.empty()
        pairs = [p.text_pair for p in parts]
        has_pair = pairs[0] is not None
        if any((tp is not None) != has_pair for tp in pairs):
            raise ValueError("cannot join single-text and pair examples")
        return Examples(
            text=[t for p in parts for t in p.text],
            label=np.concatenate([p.label for p in parts]),
            lang=[x for p in parts for x in p.lang],
            id=[x for p in parts for x in p.id],
            text_pair=[x for p in parts for x in p.text_pair] if has_pair else None,  # type: ignore[union-attr]
            group=[x for p in parts for x in p.group],
        )

    @staticmethod
    def empty(pair: bool = False) -> "Examples":
        return Examples(text=[], label=np.zeros(0, dtype=np.int64), lang=[], id=[],
                        text_pair=[] if pair else None)


@dataclass
class TaskData:
    """Everything a run draws from a task.

    train: D, labeled source-language examples.
    unlabeled: U, all target languages pooled (gold labels kept only for precision).
    parallel: Dbi, translations of source items (same label), pooled; `group` links a
        translation to its source item in `parallel_source`.
    test: per language, labeled test sets (source language included when it has one).
    """

    train: Examples
    unlabeled: Examples
    test: dict[str, Examples]
    parallel: Examples | None = None
    parallel_source: Examples | None = None
    notes: list[str] = field(default_factory=list)

    def sizes(self) -> dict[str, object]:
        return {
            "D": len(self.train),
            "U": len(self.unlabeled),
            "Dbi": len(self.parallel) if self.parallel is not None else 0,
            "test": {k: len(v) for k, v in self.test.items()},
        }
