"""The layout of a run folder, and the rule that nothing under it leads out of it.

Free of heavy imports so the UI can ask "has a checkpoint" without loading torch. A run folder
may come from elsewhere (copied in, unpacked from an archive): a name in it that is a symbolic
link, or a checkpoint tag like `../../x`, must never make the engine read, write or delete
outside the folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.errors import ConfigError

CONFIG_FILE = "config.toml"
STATUS_FILE = "status.json"
RESULTS_FILE = "results.json"
EVENTS_FILE = "events.jsonl"
LOG_FILE = "worker.log"
CHECKPOINTS_DIR = "checkpoints"
LATEST_FILE = "LATEST"


class OutsideRunFolder(ConfigError):
    """A path of a run folder is a link, or leads out of the folder."""


def inside(run_dir: Path, *parts: str) -> Path:
    """`run_dir/parts...`, refused when any step below `run_dir` is a symbolic link or the
    path resolves outside `run_dir` (a missing path is fine: it is about to be made)."""
    path = Path(run_dir).joinpath(*parts)
    step = Path(run_dir)
    for part in Path(*parts).parts if parts else ():
        if part in ("..", "/") or os.sep in part:
            raise OutsideRunFolder(f"{path} leads out of its run folder")
        step = step / part
        if step.is_symlink():
            raise OutsideRunFolder(f"{step.relative_to(run_dir)} in {run_dir} is a symbolic link; "
                                   "a run folder's files must be its own")
    return path


def checkpoints_dir(run_dir: Path) -> Path:
    return inside(run_dir, CHECKPOINTS_DIR)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The folder `checkpoints/LATEST` names, if it holds a checkpoint; None otherwise (also
    when LATEST names something that is not a plain checkpoint tag)."""
    try:
        folder = checkpoints_dir(run_dir)
        tag = inside(folder, LATEST_FILE).read_text(encoding="utf-8").strip()
        path = inside(folder, tag) if tag and not tag.startswith(".") else None
    except (OSError, UnicodeDecodeError, OutsideRunFolder, ValueError):
        return None
    return path if path is not None and (path / "state.json").is_file() else None


def has_checkpoint(run_dir: Path) -> bool:
    return latest_checkpoint(run_dir) is not None
