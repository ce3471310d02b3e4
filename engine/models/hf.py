"""Hugging Face encoders: any AutoModel id or local folder, fine-tuned end to end."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from engine.models.base import Encoder


class ModelLoadError(RuntimeError):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def own_pooling(source: str) -> tuple[str, str]:
    """(pooling, prefix) the model was trained with, when its folder says so; else (cls, '')."""
    folder = Path(source)
    if not folder.is_dir():
        return "cls", ""
    ours = folder / "xlu_pooling.json"
    if ours.is_file():
        spec = json.loads(ours.read_text())
        return spec.get("pooling", "cls"), spec.get("prefix", "")
    # sentence-transformers folders describe their pooling in 1_Pooling/config.json
    st = folder / "1_Pooling" / "config.json"
    if st.is_file():
        spec = json.loads(st.read_text())
        if spec.get("pooling_mode_mean_tokens"):
            return "mean", ""
    return "cls", ""


def load_pretrained(source: str) -> tuple[Any, Any]:
    """Tokenizer and model from an id or folder, with an error that says what to do."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # bars belong in a terminal, not in worker.log
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    try:
        tok = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except Exception as err:  # noqa: BLE001 - OSError, ValueError, safetensors' own: one sentence naming the model
        if Path(source).is_dir():
            hint = f"the folder {source} must hold a transformers model (config.json, weights, tokenizer)"
        elif offline:
            hint = (f"HF_HUB_OFFLINE is set and {source} is not in the Hugging Face cache; "
                    f"download it once with network (huggingface-cli download {source}) or give a local folder")
        else:
            hint = (f"check the model id {source!r} on the Hugging Face hub, your network, "
                    "or give a local folder")
        raise ModelLoadError(f"cannot load model {source!r}: {(str(err).splitlines() or [type(err).__name__])[0]}", hint) from err
    return tok, model


class HFEncoder(Encoder):
    def __init__(self, source: str, pooling: str = "auto", max_length: int = 128,
                 freeze_embeddings: bool = False):
        super().__init__()
        own, prefix = own_pooling(source)
        self.pooling = own if pooling == "auto" else pooling
        self.prefix = prefix
        self.max_length = max_length
        self.tokenizer, self.model = load_pretrained(source)
        self.dim = int(self.model.config.hidden_size)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        if freeze_embeddings:
            self.model.get_input_embeddings().requires_grad_(False)

    def featurize(self, texts: list[str], pairs: list[str] | None = None) -> list[Any]:
        if self.prefix:
            texts = [self.prefix + t for t in texts]
            pairs = [self.prefix + t for t in pairs] if pairs is not None else None
        enc = self.tokenizer(texts, pairs, truncation=True, max_length=self.max_length,
                             padding=False, return_token_type_ids=True)
        types = enc.get("token_type_ids") or [[0] * len(x) for x in enc["input_ids"]]
        return list(zip(enc["input_ids"], types))

    def size(self, item: Any) -> int:
        return len(item[0])

    def collate(self, items: list[Any]) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids, _ in items)
        ids = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        types = torch.zeros((len(items), width), dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for i, (x, t) in enumerate(items):
            ids[i, : len(x)] = torch.tensor(x)
            types[i, : len(t)] = torch.tensor(t)
            mask[i, : len(x)] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        if getattr(self.model.config, "type_vocab_size", 0) and self.model.config.type_vocab_size > 1:
            batch["token_type_ids"] = types
        return batch

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        hidden = self.model(**batch).last_hidden_state
        if self.pooling == "mean":
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return hidden[:, 0]
