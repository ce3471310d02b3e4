"""Checkpoints: the latest resumable state of a run, written whole or not at all.

A checkpoint is a folder under `checkpoints/` holding each model's trainable weights
(safetensors), each trainer's optimizer/schedule/position (tensors in safetensors, the rest in
JSON) and the method's own state (`state.json`: round, pools, ...). Nothing is pickled: a run
folder copied in from elsewhere can hold data, never code. It is written under a temporary
name, every file synced, renamed into place, and only then named in `checkpoints/LATEST`;
older ones are removed after that, never following a link out of the run folder.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine import layout
from engine.store import atomic_write_text, fsync_dir

LATEST = layout.LATEST_FILE


# --------------------------------------------------------------------------- trainer state as data

def _split(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON tree of `value` with its tensors moved into `tensors` (keys kept with their types:
    an optimizer's state is keyed by int)."""
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value.detach().to("cpu").contiguous().clone()
        return {"__tensor__": key}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _split(v, tensors) for k, v in value.items()}
        return {"__items__": [[k, _split(v, tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_split(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_split(v, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def _join(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(tree, dict):
        if "__tensor__" in tree:
            return tensors[tree["__tensor__"]]
        if "__items__" in tree:
            return {k: _join(v, tensors) for k, v in tree["__items__"]}
        if "__tuple__" in tree:
            return tuple(_join(v, tensors) for v in tree["__tuple__"])
        return {k: _join(v, tensors) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_join(v, tensors) for v in tree]
    return tree


def _write_synced(path: Path, write: Any) -> None:
    write(path)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def save_trainer(folder: Path, name: str, state: dict[str, Any]) -> None:
    tensors: dict[str, torch.Tensor] = {}
    tree = _split(state, tensors)
    _write_synced(folder / f"{name}.trainer.safetensors", lambda p: save_file(tensors, str(p)))
    _write_synced(folder / f"{name}.trainer.json", lambda p: p.write_text(json.dumps(tree), encoding="utf-8"))


# --------------------------------------------------------------------------- save and load

def save(folder: Path, tag: str, models: dict[str, Any], trainers: dict[str, Any], state: dict[str, Any]) -> Path:
    run_dir = folder.parent
    folder = layout.checkpoints_dir(run_dir)  # refuses a checkpoints/ that is a link
    folder.mkdir(exist_ok=True)
    tmp = folder / f".tmp-{tag}-{secrets.token_hex(3)}"
    tmp.mkdir()
    try:
        for name, model in models.items():
            _write_synced(tmp / f"{name}.safetensors", lambda p, m=model: save_file(m.trainable_state(), str(p)))
        for name, trainer in trainers.items():
            if trainer is not None:
                save_trainer(tmp, name, trainer.state_dict())
        _write_synced(tmp / "state.json", lambda p: p.write_text(json.dumps(state), encoding="utf-8"))
        fsync_dir(tmp)
        final = layout.inside(folder, tag)
        if final.exists():  # re-saving a tag (e.g. after a resume): move the old one out first
            final.rename(folder / f".old-{tag}-{secrets.token_hex(3)}")
        tmp.rename(final)
        fsync_dir(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed save (disk full) leaves nothing half-made
        raise
    atomic_write_text(folder / LATEST, tag + "\n")
    _remove_all_but(folder, keep=tag)
    return final


def _remove_all_but(folder: Path, keep: str | None) -> None:
    """Old checkpoints and leftovers of a crash go; a link is unlinked, never followed."""
    for old in folder.iterdir():
        if old.name == keep or old.name == LATEST:
            continue
        if old.is_symlink() or not old.is_dir():
            if old.name.startswith(".") or old.is_symlink():
                old.unlink(missing_ok=True)
            continue
        shutil.rmtree(old, ignore_errors=True)


def discard(run_dir: Path) -> None:
    """Remove every checkpoint of a run that has ended for good (finished): nothing resumes it,
    and a clone starts from its config."""
    try:
        folder = layout.checkpoints_dir(run_dir)
    except layout.OutsideRunFolder:
        return
    if not folder.is_dir():
        return
    (folder / LATEST).unlink(missing_ok=True)
    _remove_all_but(folder, keep=None)


def load_state(path: Path) -> dict[str, Any]:
    return json.loads((path / "state.json").read_text(encoding="utf-8"))


def load_model(path: Path, name: str, model: Any) -> None:
    model.load_trainable_state(load_file(str(path / f"{name}.safetensors")))


def load_trainer(path: Path, name: str, trainer: Any) -> bool:
    tensors_file, tree_file = path / f"{name}.trainer.safetensors", path / f"{name}.trainer.json"
    if tensors_file.is_file() and tree_file.is_file():
        tree = json.loads(tree_file.read_text(encoding="utf-8"))
        trainer.load_state_dict(_join(tree, load_file(str(tensors_file))))
        return True
    old = path / f"{name}.trainer.pt"  # runs checkpointed before this format: tensors and plain data only
    if old.is_file():
        trainer.load_state_dict(torch.load(old, map_location="cpu", weights_only=True))
        return True
    return False
