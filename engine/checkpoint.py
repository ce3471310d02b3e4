"""Checkpoints: the latest resumable state of a run, written whole or not at all.

A checkpoint is a folder under `checkpoints/` holding each model's trainable weights
(safetensors), each trainer's optimizer/schedule/position (torch.save) and the method's own
state (`state.json`: round, pools, ...). It is written under a temporary name, renamed into
place, and only then named in `checkpoints/LATEST`; older ones are removed after that.
"""
from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine.store import atomic_write_text

LATEST = "LATEST"


def save(folder: Path, tag: str, models: dict[str, Any], trainers: dict[str, Any], state: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{tag}-{secrets.token_hex(3)}"
    tmp.mkdir()
    for name, model in models.items():
        save_file(model.trainable_state(), str(tmp / f"{name}.safetensors"))
    for name, trainer in trainers.items():
        if trainer is not None:
            torch.save(trainer.state_dict(), tmp / f"{name}.trainer.pt")
    (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
    final = folder / tag
    if final.exists():  # re-saving a tag (e.g. after a resume): move the old one out first
        final.rename(folder / f".old-{tag}-{secrets.token_hex(3)}")
    tmp.rename(final)
    atomic_write_text(folder / LATEST, tag + "\n")
    for old in folder.iterdir():  # keep only the newest; leftovers of a crash go too
        if old.is_dir() and old.name != tag:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest(folder: Path) -> Path | None:
    try:
        tag = (folder / LATEST).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / tag
    return path if (path / "state.json").is_file() else None


def load_state(path: Path) -> dict[str, Any]:
    return json.loads((path / "state.json").read_text(encoding="utf-8"))


def load_model(path: Path, name: str, model: Any) -> None:
    model.load_trainable_state(load_file(str(path / f"{name}.safetensors")))


def load_trainer(path: Path, name: str, trainer: Any) -> bool:
    file = path / f"{name}.trainer.pt"
    if not file.is_file():
        return False
    trainer.load_state_dict(torch.load(file, map_location="cpu", weights_only=False))
    return True
