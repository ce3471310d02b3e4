"""`xlu-tui run`: create a run from a preset and/or a config file, then start it (detached, watched
line by line, or in the app on its live screen)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xlu_tui.commands.common import (EXIT_OK, DetachOpt, GpusOpt, JsonOpt, NameOpt, RunsDirOpt, SetOpt, check_models,
                                     command_folder, command_hint, interactive, launch, open_store, say)


def how_long_here(store: Any, cfg: Any) -> str:
    """The sentence `run --app` says before the run starts: earlier runs here, what was measured."""
    from engine.errors import ConfigError
    from engine.estimate import earlier_durations, how_long, machine, primary_spec, throughput_estimate

    try:
        rows = store.list_runs()
    except ConfigError:  # the runs folder itself is wrong (a file, not writable): said before anything
        raise
    except Exception:  # noqa: BLE001 - a runs folder that cannot be listed says nothing of time
        rows = []
    speed = None
    if not earlier_durations(rows, cfg.preset) and any(r.get("state") in ("finished", "stopped", "running")
                                                       for r in rows):
        try:  # no earlier run of this preset: the speed earlier runs of its model reached here
            from engine.estimate import method_rounds
            from engine.tasks import get_task

            sizes = get_task(cfg.task.name).load(cfg.task, cfg.seed).sizes()
            seconds, basis = throughput_estimate(store, cfg, sizes)
            if seconds:
                speed = (seconds, basis, method_rounds(cfg))
        except Exception:  # noqa: BLE001 - no estimate is better than no run
            speed = None
    return how_long(cfg.preset or None, rows, machine(), speed, lm=primary_spec(cfg))


def open_app(folder: Path, store: Any, run_id: str) -> int:
    """The app on the run's live screen (the runs list beneath); the run goes on once it closes."""
    from xlu_tui.app import make_app

    make_app(folder, open_run=run_id).run()
    state = store.status(run_id).get("state", "")
    if state in ("running", "queued"):
        say(f"run {run_id} goes on ({state}): {command_hint(store.root, 'runs', 'watch', run_id)} follows it, "
            f"{command_hint(store.root)} opens the app again")
    else:
        say(f"run {run_id} {state}: {command_hint(store.root, 'runs', 'show', run_id)}")
    return EXIT_OK


def run(ctx: typer.Context,
        config: Annotated[Optional[Path], typer.Argument(help="a TOML config file")] = None,
        preset: Annotated[Optional[str], typer.Option("--preset", "-p", help="start from a preset (xlu-tui presets list)")] = None,
        set_: SetOpt = None, name: NameOpt = None, detach: DetachOpt = False, gpus: GpusOpt = None,
        open_in_app: Annotated[bool, typer.Option("--app", help="open the app on the run's live screen (the run goes "
                                                  "on when the app closes); without a terminal, the line view")] = False,
        as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Start a run: a preset and/or a config file, with --set overrides."""
    from engine.config import ConfigError, build
    from engine.launcher import parse_gpus

    if open_in_app and (detach or as_json):
        raise ConfigError(f"--app and {'--detach' if detach else '--json'} do not go together: "
                          "--app follows the run in the app, give one of them")
    folder = command_folder(ctx, runs_dir)
    store = open_store(folder)
    cfg, devices = build(config, preset, set_ or [], name), parse_gpus(gpus)  # all checks before a run exists
    check_models(cfg)
    if open_in_app:
        say(how_long_here(store, cfg))
    run_id = store.create(cfg)
    if not open_in_app:
        raise typer.Exit(launch(store, run_id, detach, devices, as_json))
    from engine.launcher import LocalLauncher

    state = LocalLauncher(store).start(run_id, devices)
    if interactive():
        say(f"run {run_id} {state}; opening the app on it (q quits the app, the run goes on)")
        raise typer.Exit(open_app(folder, store, run_id))
    from xlu_tui.watch import watch

    say(f"run {run_id} {state}; not a terminal, so no app: the line view follows it "
        f"(Ctrl-C leaves the run running; open the app later with: {command_hint(store.root)})")
    raise typer.Exit(watch(store, run_id, stop_on_interrupt=False, as_json=False))
