"""The two contrastive losses of language adaptation (paper 1, §3.2; METHODS.md §4).

Both take sentence vectors h (the vector the classification head reads: [CLS] for a
CLS-pooled model, the mean for e5) and L2-normalise them here, so h_i·h_j is a cosine.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def label_alignment(h: torch.Tensor, labels: torch.Tensor, tau: float) -> torch.Tensor:
    """L_LA (Eq. 2): for each anchor i, the mean over the other items j of its label of
    −log( exp(h_i·h_j/τ) / Σ_{k≠i} exp(h_i·h_k/τ) ).

    The paper sums over the anchors of the batch; we divide that sum by |B|, as cross-entropy
    is a mean, so λ_LA means the same at every batch size. An anchor with no other item of its
    label in the batch adds nothing (the paper's 1/(N_yi − 1) would divide by zero there).
    """
    n = h.shape[0]
    if n < 2:
        return h.sum() * 0.0  # nothing to contrast; keeps the graph for a uniform backward
    z = F.normalize(h, dim=-1)
    sim = z @ z.T / tau
    self_pair = torch.eye(n, dtype=torch.bool, device=h.device)
    # A large finite value, not -inf: a row with nothing but itself would otherwise give inf - inf.
    sim = sim.masked_fill(self_pair, torch.finfo(sim.dtype).min / 2)
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~self_pair
    n_pos = positive.sum(dim=1)
    per_anchor = -(log_prob * positive).sum(dim=1) / n_pos.clamp(min=1)
    return per_anchor.sum() / n


def semantic_alignment(h: torch.Tensor, anchors: Sequence[int], positives: Sequence[Sequence[int]],
                       negatives: Sequence[Sequence[int]], tau: float) -> torch.Tensor:
    """L_SA (Eq. 4), the mean over the anchors given: for anchor i with translations t and
    negatives (texts of another label),
    −Σ_t log( exp(h_i·h_i(t)/τ) / Σ_{k in translations and negatives} exp(h_i·h_k/τ) ).

    `anchors`, `positives` and `negatives` are rows of h.
    """
    z = F.normalize(h, dim=-1)
    terms = []
    for a, pos, neg in zip(anchors, positives, negatives):
        if not pos:
            continue
        others = z[list(pos) + list(neg)]
        logits = others @ z[a] / tau
        log_prob = logits[:len(pos)] - torch.logsumexp(logits, dim=0)
        terms.append(-log_prob.sum())
    if not terms:
        return h.sum() * 0.0
    return torch.stack(terms).mean()
