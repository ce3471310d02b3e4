"""Labeling a pool: the engine's predictor against one text at a time, on the same model.

Baseline: what the reference UXLA code does, a forward pass per text (no padding at all).
Engine: `engine.predict.predict_proba`, batches sorted by length, dynamically padded, under
inference mode. Both label the same pool of mixed-length texts (chatbot utterances joined in
runs of 1 to 8, so lengths spread from a few tokens to ~128); the script checks they agree and
prints texts/s of each and the ratio.

    python bench/bench_predict.py [--model e5-small] [--texts 3000] [--batch 64] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pool_of_texts(n: int, seed: int = 0) -> list[str]:
    import numpy as np

    from engine.config import TaskConfig
    from engine.tasks import get_task

    data = get_task("topics").load(TaskConfig(target_langs=["it", "ja", "ko", "zh", "uk", "es", "nl", "fa"]), seed)
    lines = data.unlabeled.text + data.train.text
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(lines, size=int(rng.integers(1, 9)))) for _ in range(n)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--texts", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import numpy as np
    import torch

    from engine.config import validate
    from engine.models import build_classifier
    from engine.predict import predict_proba

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = validate({"models": {"lm": args.model}, "train": {"max_length": 128}})
    torch.manual_seed(0)
    model = build_classifier(args.model, 13, cfg).eval()
    texts = pool_of_texts(args.texts)
    items = model.encoder.featurize(texts)
    lengths = [model.encoder.size(x) for x in items]
    device = torch.device("cpu")
    print(f"model {args.model}, {len(texts)} texts, tokens per text: min {min(lengths)}, "
          f"median {int(np.median(lengths))}, max {max(lengths)}; torch threads {torch.get_num_threads()}")

    t0 = time.perf_counter()
    fast = predict_proba(model, items, device, batch_size=args.batch)
    t_engine = time.perf_counter() - t0

    t0 = time.perf_counter()
    naive = np.zeros_like(fast)
    with torch.no_grad():  # the baseline as commonly written: no_grad, batch of one
        for i, item in enumerate(items):
            naive[i] = torch.softmax(model(model.encoder.collate([item])), dim=-1)[0].numpy()
    t_naive = time.perf_counter() - t0

    same = float((fast.argmax(1) == naive.argmax(1)).mean())
    print(f"one text at a time: {len(items) / t_naive:8.1f} texts/s  ({t_naive:.1f} s)")
    print(f"engine predictor:   {len(items) / t_engine:8.1f} texts/s  ({t_engine:.1f} s)")
    print(f"ratio engine / one-at-a-time: {t_naive / t_engine:.2f}x; same labels on {100 * same:.2f}% of texts, "
          f"max prob difference {np.abs(fast - naive).max():.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
