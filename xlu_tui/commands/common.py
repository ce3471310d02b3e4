"""What every command group shares: the options declared once, the exit codes, how a line is
said, how a pasteable command is written, and which runs folder a command works on.

The runs folder travels in typer's context object (set by the root callback), never in a
module global: a command's own `--runs-dir` wins over the one before the subcommand, then
XLU_RUNS_DIR, then ./runs.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_RUNS_DIR = Path("runs")

SetOpt = Annotated[Optional[list[str]], typer.Option("--set", "-s", help="override a config field: key=value (repeatable)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
DetachOpt = Annotated[bool, typer.Option("--detach", "-d", help="return at once; the run goes on in the background")]
GpusOpt = Annotated[Optional[str], typer.Option("--gpus", help="GPU indices (0,1) or cpu; default: a free GPU, else the CPU")]
NameOpt = Annotated[Optional[str], typer.Option("--name", "-n", help="a name for the run")]
RunArg = Annotated[str, typer.Argument(help="run id, its last 4 characters, or its name")]
# Accepted before the subcommand (`xlu-tui --runs-dir X runs list`) and on every command that
# touches runs (`xlu-tui runs list --runs-dir X`).
RunsDirOpt = Annotated[Optional[str], typer.Option("--runs-dir", metavar="DIR",
                                                    help="folder of runs and their history "
                                                         "[default: $XLU_RUNS_DIR, else ./runs]")]


def runs_dir_path(text: Optional[str]) -> Optional[Path]:
    """`--runs-dir` as given (a str: typer would turn "" into Path("."), the current folder).
    An empty value is refused: it is most often an unset shell variable (`--runs-dir "$RUNS"`)."""
    from engine.errors import ConfigError

    if text is None:
        return None
    if not text.strip():
        raise ConfigError("--runs-dir is empty (an unset shell variable?); give a folder, "
                          "or leave the option out for $XLU_RUNS_DIR, else ./runs")
    return Path(text)


def runs_folder(option: Optional[str]) -> Path:
    """The runs folder of the root command: `--runs-dir`, else XLU_RUNS_DIR (an empty one means the
    default, as an unset one does), else ./runs."""
    return runs_dir_path(option) or Path(os.environ.get("XLU_RUNS_DIR") or DEFAULT_RUNS_DIR)


def command_folder(ctx: typer.Context, option: Optional[str]) -> Path:
    """The runs folder of a command: its own `--runs-dir`, else the root's choice (the context
    object)."""
    given = runs_dir_path(option)
    if given is not None:
        return given
    return ctx.obj if isinstance(ctx.obj, Path) else runs_folder(None)


def open_store(folder: Path):  # noqa: ANN201
    from engine.store import RunStore

    return RunStore(folder)


def command_hint(runs_dir: Path | str, *words: str) -> str:
    """`xlu-tui WORDS`, with `--runs-dir DIR` when the runs live elsewhere than ./runs, so the
    command works when pasted as it is."""
    import shlex

    cmd = ["xlu-tui", *words]
    if Path(runs_dir).expanduser().absolute() != DEFAULT_RUNS_DIR.absolute():
        cmd += ["--runs-dir", str(runs_dir)]
    return " ".join(shlex.quote(w) for w in cmd)


def say(text: str, err: bool = False) -> None:
    """A plain line: no markup, no wrapping inside a command the user may copy."""
    typer.echo(text, err=err)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=1, ensure_ascii=False, default=str))


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def sentence(text: Any) -> str:
    """The store's words on what is wrong with a damaged run, without a full stop."""
    return str(text or "a file of its folder cannot be read").strip().rstrip(".")


def check_models(cfg: Any) -> None:
    """Every model the config names can be loaded (a ConfigError if not), before a run exists.
    `cfg` is a RunConfig or a function that reads one (read only when there is a check)."""
    try:
        from engine.models.check import check_models as check
    except ImportError:  # pragma: no cover - the check arrives with its own change
        return
    check(cfg() if callable(cfg) else cfg)


def launch(store: Any, run_id: str, detach: bool, gpus: Optional[list[int]], as_json: bool) -> int:
    """Start (or queue) a created run; then return at once, or watch it to its end."""
    from engine.launcher import LocalLauncher

    state = LocalLauncher(store).start(run_id, gpus)
    if as_json and detach:
        print_json({"id": run_id, "state": state, "dir": str(store.run_dir(run_id))})
        return EXIT_OK
    if detach:
        say(f"run {run_id} {state}; follow it with: {command_hint(store.root, 'runs', 'watch', run_id)}")
        return EXIT_OK
    from xlu_tui.watch import watch

    return watch(store, run_id, stop_on_interrupt=True, as_json=as_json)
