"""`xlu-tui doctor`: what this machine has and which presets can run on it."""
from __future__ import annotations

import typer

from xlu_tui.commands.common import JsonOpt


def doctor(as_json: JsonOpt = False) -> None:
    """What this machine has: GPUs, torch and its CUDA, offline state, which presets can run."""
    from xlu_tui.doctor import report

    raise typer.Exit(report(as_json))
