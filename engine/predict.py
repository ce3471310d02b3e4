"""The one predictor: batched, sorted by length, dynamically padded, under inference mode.

Sorting by length means each batch pads to nearly its own length, which is where most of the
speed over one-text-at-a-time labeling comes from (bench/bench_predict.py measures it).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from engine.models.base import TextClassifier
from engine.train import to_device


def predict_proba(model: TextClassifier, items: list[Any], device: torch.device, batch_size: int = 64,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Class probabilities [N, C] for the featurized `items`, in their original order."""
    n_labels = model.head.out_features
    out = np.zeros((len(items), n_labels), dtype=np.float32)
    if not items:
        return out
    encoder = model.encoder
    order = np.argsort([-encoder.size(x) for x in items], kind="stable")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start: start + batch_size]
                batch = to_device(encoder.collate([items[i] for i in idx]), device)
                out[idx] = torch.softmax(model(batch).float(), dim=-1).cpu().numpy()
                if progress:
                    progress(min(start + batch_size, len(order)), len(order))
    finally:
        model.train(was_training)
    return out


def accuracy_by_lang(probs: np.ndarray, labels: np.ndarray, langs: list[str]) -> dict[str, float]:
    pred = probs.argmax(-1)
    out: dict[str, float] = {}
    for lang in sorted(set(langs)):
        mask = np.array([x == lang for x in langs])
        out[lang] = float((pred[mask] == labels[mask]).mean()) if mask.any() else float("nan")
    return out
