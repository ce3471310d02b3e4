"""How often two models give the same label, overall and per language."""
from __future__ import annotations

import numpy as np


def agreement(pred_a: np.ndarray, pred_b: np.ndarray, langs: list[str]) -> tuple[float | None, dict[str, float]]:
    """(rate over all items, rate per language); None when there are no items."""
    if len(pred_a) == 0:
        return None, {}
    same = pred_a == pred_b
    lang_arr = np.asarray(langs)
    by_lang = {str(x): float(same[lang_arr == x].mean()) for x in sorted(set(langs))}
    return float(same.mean()), by_lang
