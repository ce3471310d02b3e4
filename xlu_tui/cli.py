"""The headless face: `xlu-tui run | runs ... | presets ... | doctor`.

Heavy imports live inside the commands so `xlu-tui --help` stays fast; `main()` turns bad
input into one sentence and exit code 2 (a traceback only with XLU_DEBUG=1).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

app = typer.Typer(no_args_is_help=False, add_completion=False, rich_markup_mode=None,
                  help="Run and watch cross-lingual adaptation of multilingual language models.")
runs_app = typer.Typer(no_args_is_help=True, help="The run history: list, show, watch, stop, resume, clone, export.")
presets_app = typer.Typer(no_args_is_help=True, help="Named run settings: the offline demo and the papers' settings.")
app.add_typer(runs_app, name="runs")
app.add_typer(presets_app, name="presets")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

# Shared options, declared once.
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", "-s", help="override a config field: key=value (repeatable)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
DetachOpt = Annotated[bool, typer.Option("--detach", "-d", help="return at once; the run goes on in the background")]
GpusOpt = Annotated[Optional[str], typer.Option("--gpus", help="GPU indices (0,1) or cpu; default: a free GPU, else the CPU")]
NameOpt = Annotated[Optional[str], typer.Option("--name", "-n", help="a name for the run")]
RunArg = Annotated[str, typer.Argument(help="run id, its last 4 characters, or its name")]


class State:
    runs_dir: Path = Path("runs")


def _store():  # noqa: ANN202
    from engine.store import RunStore

    return RunStore(State.runs_dir)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          runs_dir: Annotated[Optional[Path], typer.Option("--runs-dir", envvar="XLU_RUNS_DIR",
                                                           help="folder of runs and their history [default: ./runs]")] = None) -> None:
    State.runs_dir = runs_dir or Path("runs")
    if ctx.invoked_subcommand is None:
        try:
            from xlu_tui.app import make_app
        except ImportError:  # the app arrives with the Textual issue; until then, the help
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        make_app(runs_dir=State.runs_dir).run()


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=1, ensure_ascii=False, default=str))


def _launch(run_id: str, detach: bool, gpus: Optional[list[int]], as_json: bool) -> int:
    """Start (or queue) a created run; then return at once, or watch it to its end."""
    from engine.launcher import LocalLauncher

    store = _store()
    state = LocalLauncher(store).start(run_id, gpus)
    if as_json and detach:
        _print_json({"id": run_id, "state": state, "dir": str(store.run_dir(run_id))})
        return EXIT_OK
    if detach:
        typer.echo(f"run {run_id} {state}; follow it with: xlu-tui runs watch {run_id}")
        return EXIT_OK
    from xlu_tui.watch import watch

    return watch(store, run_id, stop_on_interrupt=True, as_json=as_json)


@app.command()
def run(config: Annotated[Optional[Path], typer.Argument(help="a TOML config file")] = None,
        preset: Annotated[Optional[str], typer.Option("--preset", "-p", help="start from a preset (xlu-tui presets list)")] = None,
        set_: SetOpt = None, name: NameOpt = None, detach: DetachOpt = False, gpus: GpusOpt = None,
        as_json: JsonOpt = False) -> None:
    """Start a run: a preset and/or a config file, with --set overrides."""
    from engine.config import build
    from engine.launcher import parse_gpus

    cfg, devices = build(config, preset, set_ or [], name), parse_gpus(gpus)  # all checks before a run exists
    run_id = _store().create(cfg)
    raise typer.Exit(_launch(run_id, detach, devices, as_json))


# --------------------------------------------------------------------------- runs

def _state_style(state: str) -> str:
    return {"running": "bold green", "queued": "yellow", "finished": "blue", "failed": "bold red",
            "stopped": "magenta", "interrupted": "bold magenta"}.get(state, "")


def _pct(v: Any) -> str:
    return "" if v is None else f"{100 * float(v):.1f}"


@runs_app.command("list")
def runs_list(as_json: JsonOpt = False,
              state: Annotated[Optional[str], typer.Option("--state", help="only runs in this state")] = None) -> None:
    """Every run, newest first."""
    rows = _store().list_runs()
    if state:
        rows = [r for r in rows if r.get("state") == state]
    if as_json:
        _print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    cols = ["id", "name", "task", "method", "langs", "state", "round", "mean", "best", "device"]
    if console.width < 120:  # an 80-column terminal keeps what tells runs apart
        cols = [c for c in cols if c not in ("task", "device")]
    table = Table(box=None, header_style="bold")
    for col in cols:
        # ids and states must stay whole: users type and scan them
        table.add_column(col, justify="right" if col in ("mean", "best", "round") else "left",
                         no_wrap=col in ("id", "state", "langs"), min_width=len(col))
    for r in rows:
        targets = r.get("targets") or []
        cells = {
            "id": r["id"], "name": r.get("name", ""), "task": r.get("task", ""), "method": r.get("method", ""),
            "langs": f"{r.get('source', '')}→{','.join(targets) if len(targets) <= 3 else f'{len(targets)} langs'}",
            "state": f"[{_state_style(r['state'])}]{r['state']}[/]",
            "round": f"{r['round']}/{r['rounds']}" if r.get("rounds") else "",
            "mean": _pct(r.get("latest_mean")), "best": _pct(r.get("best_mean")), "device": r.get("device") or "",
        }
        table.add_row(*[cells[c] for c in cols])
    if not rows:
        console.print(f"no runs in {State.runs_dir} yet; start one with: xlu-tui run --preset demo-finetune")
    else:
        console.print(table)


@runs_app.command("show")
def runs_show(run_id: RunArg, as_json: JsonOpt = False) -> None:
    """A run's config, state and results."""
    from engine.export import round_history

    store = _store()
    info = store.show(store.resolve(run_id))
    info["rounds"] = round_history(Path(info["dir"]) / "events.jsonl")
    if as_json:
        _print_json(info)
        return
    from xlu_tui.watch import render_show

    render_show(info)


@runs_app.command("watch")
def runs_watch(run_id: RunArg, as_json: JsonOpt = False) -> None:
    """Follow a run live until it ends (Ctrl-C stops watching, not the run)."""
    from xlu_tui.watch import watch

    store = _store()
    raise typer.Exit(watch(store, store.resolve(run_id), stop_on_interrupt=False, as_json=as_json))


@runs_app.command("stop")
def runs_stop(run_id: RunArg,
              kill: Annotated[bool, typer.Option("--kill", help="kill at once (resumes from the last checkpoint)")] = False) -> None:
    """Stop a run after its current step (it checkpoints and can be resumed)."""
    from engine.launcher import LocalLauncher

    store = _store()
    rid = store.resolve(run_id)
    state = LocalLauncher(store).stop(rid, kill=kill)
    typer.echo(f"run {rid}: {state}" + ("" if state == "stopped" else " (it checkpoints, then ends stopped)"))


@runs_app.command("resume")
def runs_resume(run_id: RunArg, detach: DetachOpt = False, gpus: GpusOpt = None, as_json: JsonOpt = False) -> None:
    """Continue a stopped, failed or interrupted run from its last checkpoint."""
    from engine.config import ConfigError
    from engine.launcher import parse_gpus
    from engine.store import RESUMABLE

    store = _store()
    rid, devices = store.resolve(run_id), parse_gpus(gpus)
    state = store.status(rid).get("state")
    if state not in RESUMABLE:
        raise ConfigError(f"run {rid} is {state}; only {', '.join(RESUMABLE)} runs can be resumed")
    raise typer.Exit(_launch(rid, detach, devices, as_json))


@runs_app.command("clone")
def runs_clone(run_id: RunArg, set_: SetOpt = None, name: NameOpt = None, detach: DetachOpt = False,
               gpus: GpusOpt = None, as_json: JsonOpt = False) -> None:
    """Start a new run with a run's config and --set changes."""
    from engine.config import apply_set, validate
    from engine.launcher import parse_gpus

    store = _store()
    devices = parse_gpus(gpus)
    data = store.config_dict(store.resolve(run_id))
    data["name"] = ""
    for s in set_ or []:
        apply_set(data, s)
    if name:
        data["name"] = name
    new_id = store.create(validate(data))
    raise typer.Exit(_launch(new_id, detach, devices, as_json))


@runs_app.command("rm")
def runs_rm(run_ids: Annotated[list[str], typer.Argument(help="runs to delete")],
            yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False) -> None:
    """Delete runs (folder and history entry)."""
    store = _store()
    ids = [store.resolve(r) for r in run_ids]
    if not yes and sys.stdin.isatty():
        typer.confirm(f"delete {len(ids)} run(s): {', '.join(ids)}?", abort=True)
    for rid in ids:
        store.remove(rid)
        typer.echo(f"deleted {rid}")


@runs_app.command("export")
def runs_export(run_ids: Annotated[Optional[list[str]], typer.Argument(help="runs (default: every finished run)")] = None,
                fmt: Annotated[str, typer.Option("--format", "-f", help="md, csv, latex or json")] = "md",
                output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to a file")] = None,
                summary: Annotated[bool, typer.Option("--summary", help="one row per run name and model: mean ± sd over "
                                                      "seeds, over all, translated and independent target languages")] = False) -> None:
    """Per-language results of runs as a table."""
    from engine.config import ConfigError
    from engine.export import FORMATS, render, render_summary

    if fmt not in FORMATS:
        raise ConfigError(f"--format is {fmt!r}; allowed: {', '.join(FORMATS)}")
    store = _store()
    ids = [store.resolve(r) for r in run_ids] if run_ids else [r["id"] for r in store.list_runs() if r["state"] == "finished"]
    text = (render_summary if summary else render)([store.show(i) for i in sorted(ids)], fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@runs_app.command("reindex")
def runs_reindex() -> None:
    """Rebuild the history index from the run folders."""
    n = _store().reindex()
    typer.echo(f"indexed {n} run(s) in {State.runs_dir}")


# --------------------------------------------------------------------------- presets, doctor

@presets_app.command("list")
def presets_list(as_json: JsonOpt = False) -> None:
    """Every preset with its task and method."""
    from engine.config import preset_data, preset_names

    rows = []
    for name in preset_names():
        d = preset_data(name)
        rows.append({"name": name, "task": d.get("task", {}).get("name", "topics"),
                     "method": d.get("method", {}).get("name", "finetune"),
                     "description": d.get("description", "")})
    if as_json:
        _print_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        typer.echo(f"{r['name']:<{width}}  {r['task']:<8} {r['method']:<10} {r['description']}")


@presets_app.command("show")
def presets_show(name: Annotated[str, typer.Argument(help="preset name")]) -> None:
    """The fully resolved config of a preset, as TOML."""
    from engine.config import build

    typer.echo(build(preset=name).to_toml(), nl=False)


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """What this machine has: GPUs, torch and its CUDA, offline state, which presets can run."""
    from xlu_tui.doctor import report

    raise typer.Exit(report(as_json))


def main(argv: list[str] | None = None) -> int:
    from engine.errors import ConfigError

    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        rc = app(args=argv, standalone_mode=False, prog_name="xlu-tui")
    except ConfigError as err:
        typer.echo(f"error: {err}", err=True)
        return EXIT_BAD_INPUT
    except typer.Exit as ex:
        return ex.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001
        if isinstance(err, typer.TyperException) and hasattr(err, "show"):  # usage errors: exit 2
            err.show()
            return getattr(err, "exit_code", EXIT_BAD_INPUT)
        if os.environ.get("XLU_DEBUG"):
            raise
        typer.echo(f"error: {type(err).__name__}: {err} (set XLU_DEBUG=1 for the traceback)", err=True)
        return EXIT_FAILED
    return rc if isinstance(rc, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
