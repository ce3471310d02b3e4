"""Encoders turn texts into sentence vectors; a TextClassifier puts a dense + softmax head on one.

An encoder works in two steps so that tokenisation happens once per data set, not once per
epoch: `featurize` turns texts into per-example items (token ids, or frozen vectors), and
`collate` pads a batch of items to its own longest (dynamic padding).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Encoder(nn.Module):
    dim: int
    #: False when the encoder's own weights never train (only the head does).
    trainable: bool = True

    def featurize(self, texts: list[str], pairs: list[str] | None = None) -> list[Any]:
        raise NotImplementedError

    def collate(self, items: list[Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def size(self, item: Any) -> int:
        """Cost of an item, for sorting prediction batches by length."""
        return 1

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:  # [B, dim]
        raise NotImplementedError


class TextClassifier(nn.Module):
    """Encoder + dropout + one dense layer over the sentence vector."""

    def __init__(self, encoder: Encoder, n_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.dim, n_labels)

    def embed(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.encoder(**batch)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.dropout(self.embed(batch)))

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The weights a checkpoint must keep: everything that trains (frozen parts reload)."""
        return {k: p.detach().cpu().contiguous() for k, p in self.named_parameters() if p.requires_grad}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        params = dict(self.named_parameters())
        missing = [k for k, p in params.items() if p.requires_grad and k not in state]
        if missing:
            raise ValueError(f"checkpoint lacks {len(missing)} trainable weights, e.g. {missing[0]}")
        with torch.no_grad():
            for k, v in state.items():
                params[k].copy_(v.to(params[k].device))
