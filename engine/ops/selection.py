"""Choosing pseudo-labeled items: by confidence over a threshold, then a random subset."""
from __future__ import annotations

import numpy as np

from engine.tasks.base import NO_LABEL


def confident(probs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows whose confidence (max probability) is above `threshold`: (rows, labels, confidences)."""
    conf = probs.max(axis=1)
    rows = np.flatnonzero(conf > threshold)
    return rows, probs[rows].argmax(axis=1), conf[rows]


def random_subset(items: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """min(size, len(items)) distinct items drawn without replacement, in their original order."""
    size = min(int(size), len(items))
    if size <= 0:
        return items[:0]
    return items[np.sort(rng.choice(len(items), size=size, replace=False))]


def precision(pseudo: np.ndarray, gold: np.ndarray) -> float | None:
    """Share of pseudo labels equal to the gold label, over items that have one (None if none do)."""
    known = gold != NO_LABEL
    if not known.any():
        return None
    return float((pseudo[known] == gold[known]).mean())
