"""`xlu-tui runs ...`: the run history: list, show, watch, stop, resume, clone, rm, export, reindex."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xlu_tui.commands.common import (EXIT_FAILED, DetachOpt, GpusOpt, JsonOpt, NameOpt, RunArg, RunsDirOpt, SetOpt,
                                     check_models, command_folder, command_hint, launch, open_store, print_json, say,
                                     sentence)

runs_app = typer.Typer(no_args_is_help=True, help="The run history: list, show, watch, stop, resume, clone, export.")


def _store(ctx: typer.Context, runs_dir: Optional[str]):  # noqa: ANN202
    return open_store(command_folder(ctx, runs_dir))


def refuse_damaged(store: Any, run_id: str, verb: str) -> dict[str, Any]:
    """The run's show(); a damaged run cannot be resumed or cloned: one sentence (exit 2)."""
    from engine.config import ConfigError

    info = store.show(run_id)
    if info.get("state") == "damaged":
        raise ConfigError(f"run {run_id} cannot be {verb}: {sentence(info.get('damage'))}; "
                          f"{command_hint(store.root, 'runs', 'show', run_id)} says how to recover")
    return info


# Columns of `runs list`, and the order in which a narrow terminal drops them: the id and the
# name are never cut (users type and scan them), nor are the state and the numbers.
LIST_COLUMNS = ("id", "name", "task", "method", "langs", "state", "round", "mean", "best", "device")
LIST_DROP_ORDER = ("device", "task", "langs")
LIST_SHRINKABLE = {"method": 8}  # may be cut (…) down to this width before it is dropped


def list_layout(rows: list[dict[str, str]], width: int) -> tuple[list[str], dict[str, int]]:
    """The columns of `runs list` that fit in `width`, and their widths."""
    from rich.cells import cell_len

    natural = {c: max([len(c)] + [cell_len(r[c]) for r in rows]) for c in LIST_COLUMNS}
    cols = list(LIST_COLUMNS)

    def total(cs: list[str], widths: dict[str, int]) -> int:
        return sum(widths[c] for c in cs) + 2 * (len(cs) - 1)

    widths = dict(natural)
    for col in LIST_DROP_ORDER:
        if total(cols, widths) <= width:
            break
        cols.remove(col)
    for col, least in LIST_SHRINKABLE.items():
        excess = total(cols, widths) - width
        if excess > 0 and col in cols:
            if widths[col] - excess >= least:
                widths[col] -= excess
            else:
                cols.remove(col)
    return cols, widths  # may still be wider than `width`: then lines run on, names stay whole


@runs_app.command("list")
def runs_list(ctx: typer.Context, as_json: JsonOpt = False,
              state: Annotated[Optional[str], typer.Option("--state", help="only runs in this state "
                                                           "(queued, running, finished, failed, stopped, interrupted, "
                                                           "damaged)")] = None,
              runs_dir: RunsDirOpt = None) -> None:
    """Every run, newest first."""
    from engine.config import ConfigError
    from engine.store import STATES

    if state is not None and state not in STATES:
        raise ConfigError(f"--state is {state!r}; allowed: {', '.join(STATES)}")
    store = _store(ctx, runs_dir)
    rows = store.list_runs()
    if state:
        rows = [r for r in rows if r.get("state") == state]
    if as_json:
        print_json(rows)
        return
    if not rows:
        where = f" {state}" if state else ""
        say(f"no{where} runs in {store.root} yet; start one with: "
            f"{command_hint(store.root, 'run', '--preset', 'demo-finetune')}")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from xlu_tui.format import pct, state_style

    cells = []
    for r in rows:
        targets = r.get("targets") or []
        cells.append({
            "id": r["id"], "name": r.get("name") or "", "task": r.get("task") or "", "method": r.get("method") or "",
            "langs": f"{r.get('source', '')}→{','.join(targets) if len(targets) <= 3 else f'{len(targets)} langs'}",
            "state": r.get("state") or "",
            "round": f"{r['round']}/{r['rounds']}" if r.get("rounds") else "",
            "mean": pct(r.get("latest_mean"), none=""), "best": pct(r.get("best_mean"), none=""),
            "device": r.get("device") or "",
        })
    console = Console()
    cols, widths = list_layout(cells, console.width)
    needed = sum(widths[c] for c in cols) + 2 * (len(cols) - 1)
    if needed > console.width:  # names too long for the terminal: let the lines run on, never cut a name
        console = Console(width=needed)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in cols:
        table.add_column(col, justify="right" if col in ("mean", "best", "round") else "left",
                         width=widths[col], min_width=widths[col],
                         no_wrap=True, overflow="ellipsis" if col in LIST_SHRINKABLE else "fold")
    for c in cells:
        table.add_row(*[Text(c[col], style=state_style(c[col])) if col == "state" else c[col] for col in cols])
    console.print(table)
    # what is wrong with a damaged run, after the table (on stderr: the table stays the same for scripts)
    for r in rows:
        if r.get("state") == "damaged":
            say(f"damaged run {r['id']}: {sentence(r.get('damage'))}; "
                f"{command_hint(store.root, 'runs', 'show', r['id'])} says how to recover", err=True)


@runs_app.command("show")
def runs_show(ctx: typer.Context, run_id: RunArg, as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """A run's config, state and results."""
    from engine.export import round_history

    store = _store(ctx, runs_dir)
    rid = store.resolve(run_id)
    info = store.show(rid)
    try:
        info["rounds"] = round_history(Path(info.get("dir") or store.run_dir(rid)) / "events.jsonl")
    except OSError:  # a damaged run's events may be unreadable too: no rounds then
        info["rounds"] = []
    if as_json:
        print_json(info)
        return
    if info.get("state") == "damaged":
        show_damaged(store, info)
        return
    from xlu_tui.watch import render_show

    render_show(info)


def show_damaged(store: Any, info: dict[str, Any]) -> None:
    """What is wrong with a damaged run, and how to get it back (or rid of it)."""
    from rich.console import Console
    from rich.text import Text

    from xlu_tui.format import state_style

    console = Console(highlight=False)
    rid = info["id"]
    console.print(Text.assemble((f"{info.get('name') or '(name unreadable)'}  ", "bold"), (rid, "dim"), "  ",
                                ("damaged", state_style("damaged"))))
    cfg = info.get("config") or {}
    if cfg:
        task = cfg.get("task") or {}
        console.print(Text(f"task {task.get('name')}  {task.get('source_lang')} → "
                           f"{', '.join(task.get('target_langs') or []) or 'all'}   "
                           f"method {(cfg.get('method') or {}).get('name')}"))
    console.print(Text(f"what is wrong: {sentence(info.get('damage'))}."), soft_wrap=True)
    recovery = info.get("recovery") or (
        f"fix or delete that file, then {command_hint(store.root, 'runs', 'reindex')}; "
        f"or delete the run: {command_hint(store.root, 'runs', 'rm', rid)}")
    console.print(Text(f"to recover: {sentence(recovery)}."), soft_wrap=True)
    console.print(Text(f"folder: {info.get('dir') or store.run_dir(rid)}", style="dim"), soft_wrap=True)


@runs_app.command("watch")
def runs_watch(ctx: typer.Context, run_id: RunArg, as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Follow a run live until it ends (Ctrl-C stops watching, not the run)."""
    from xlu_tui.watch import watch

    store = _store(ctx, runs_dir)
    rid = store.resolve(run_id)
    rc = watch(store, rid, stop_on_interrupt=False, as_json=as_json)
    st = store.status(rid)
    if st.get("state") == "damaged" and not as_json:  # its events replayed; what is wrong comes last
        say(f"damaged: {sentence(st.get('damage'))}; {command_hint(store.root, 'runs', 'show', rid)} "
            "says how to recover")
    raise typer.Exit(rc)


@runs_app.command("stop")
def runs_stop(ctx: typer.Context, run_id: RunArg,
              kill: Annotated[bool, typer.Option("--kill", help="kill at once (resumes from the last checkpoint)")] = False,
              runs_dir: RunsDirOpt = None) -> None:
    """Stop a run after its current step (it checkpoints and can be resumed)."""
    from engine.launcher import LocalLauncher

    store = _store(ctx, runs_dir)
    rid = store.resolve(run_id)
    state = LocalLauncher(store).stop(rid, kill=kill)
    typer.echo(f"run {rid}: {state}" + ("" if state == "stopped" else " (it checkpoints, then ends stopped)"))


@runs_app.command("resume")
def runs_resume(ctx: typer.Context, run_id: RunArg, detach: DetachOpt = False, gpus: GpusOpt = None,
                as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Continue a stopped, failed or interrupted run from its last checkpoint."""
    from engine.config import ConfigError
    from engine.launcher import parse_gpus
    from engine.store import RESUMABLE

    store = _store(ctx, runs_dir)
    rid, devices = store.resolve(run_id), parse_gpus(gpus)
    refuse_damaged(store, rid, "resumed")
    state = store.status(rid).get("state")
    if state not in RESUMABLE:
        raise ConfigError(f"run {rid} is {state}; only {', '.join(RESUMABLE)} runs can be resumed")
    check_models(lambda: store.config(rid))
    raise typer.Exit(launch(store, rid, detach, devices, as_json))


@runs_app.command("clone")
def runs_clone(ctx: typer.Context, run_id: RunArg, set_: SetOpt = None, name: NameOpt = None,
               detach: DetachOpt = False, gpus: GpusOpt = None, as_json: JsonOpt = False,
               runs_dir: RunsDirOpt = None) -> None:
    """Start a new run with a run's config and --set changes."""
    from engine.config import apply_set, validate
    from engine.launcher import parse_gpus

    store = _store(ctx, runs_dir)
    devices = parse_gpus(gpus)
    rid = store.resolve(run_id)
    refuse_damaged(store, rid, "cloned")
    data = store.config_dict(rid)
    data["name"] = ""
    for s in set_ or []:
        apply_set(data, s)
    if name:
        data["name"] = name
    cfg = validate(data)
    check_models(cfg)
    new_id = store.create(cfg)
    raise typer.Exit(launch(store, new_id, detach, devices, as_json))


@runs_app.command("rm")
def runs_rm(ctx: typer.Context, run_ids: Annotated[list[str], typer.Argument(help="runs to delete")],
            yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
            runs_dir: RunsDirOpt = None) -> None:
    """Delete runs (folder and history entry). Every run is checked before any is deleted."""
    from engine.config import ConfigError

    store = _store(ctx, runs_dir)
    ids = list(dict.fromkeys(store.resolve(r) for r in run_ids))  # a run named twice goes once
    for rid in ids:
        if store.status(rid).get("state") == "running":
            others = "; nothing was deleted" if len(ids) > 1 else ""
            raise ConfigError(f"run {rid} is running; stop it first "
                              f"({command_hint(store.root, 'runs', 'stop', rid)}){others}")
    if not yes and sys.stdin.isatty():
        typer.confirm(f"delete {len(ids)} run(s): {', '.join(ids)}?", abort=True)
    from engine.store import RunNotFound

    for rid in ids:
        try:
            store.remove(rid)
        except (FileNotFoundError, RunNotFound):
            say(f"run {rid} was already gone (deleted meanwhile by another process)", err=True)
            continue
        typer.echo(f"deleted {rid}")


def writable_output(output: Path) -> None:
    """`-o FILE` names a file that can be written, before anything is rendered."""
    from engine.config import ConfigError

    if output.is_dir():
        raise ConfigError(f"-o {output} is a folder; give a file name, like {output / 'results.md'}")
    parent = output.parent
    if not parent.is_dir():
        raise ConfigError(f"-o {output}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise ConfigError(f"-o {output}: cannot write there (permission denied)")


@runs_app.command("export")
def runs_export(ctx: typer.Context,
                run_ids: Annotated[Optional[list[str]], typer.Argument(help="runs (default: every finished run)")] = None,
                fmt: Annotated[str, typer.Option("--format", "-f", help="md, csv, latex or json")] = "md",
                output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to a file")] = None,
                summary: Annotated[bool, typer.Option("--summary", help="one row per run name (the preset's name unless "
                                                      "--name gave another) and model: mean ± sd over seeds, over all, "
                                                      "translated and independent target languages")] = False,
                runs_dir: RunsDirOpt = None) -> None:
    """Per-language results of runs as a table."""
    from engine.config import ConfigError
    from engine.export import FORMATS, render, render_summary

    if fmt not in FORMATS:
        raise ConfigError(f"--format is {fmt!r}; allowed: {', '.join(FORMATS)}")
    if output is not None:
        writable_output(output)
    store = _store(ctx, runs_dir)
    ids = [store.resolve(r) for r in run_ids] if run_ids else [r["id"] for r in store.list_runs() if r["state"] == "finished"]
    runs = [store.show(i) for i in sorted(ids)]
    empty = [r for r in runs if not any(isinstance(v, dict) for v in (r.get("results") or {}).values())]
    if not run_ids and not runs:
        say(f"nothing to export: no finished runs in {store.root} yet", err=True)
        raise typer.Exit(EXIT_FAILED)
    for r in empty:
        say(f"run {r['id']} ({r['name']}) is {r['state']} and has no results yet"
            + ("; nothing to export" if len(empty) == len(runs) else "; left out"), err=True)
    if len(empty) == len(runs):
        raise typer.Exit(EXIT_FAILED)
    runs = [r for r in runs if r not in empty]
    text = (render_summary if summary else render)(runs, fmt)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"-o {output}: cannot write there ({err.strerror or err})") from None
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@runs_app.command("reindex")
def runs_reindex(ctx: typer.Context, runs_dir: RunsDirOpt = None) -> None:
    """Rebuild the history index from the run folders, and repair damaged runs from their event logs."""
    folder = command_folder(ctx, runs_dir)
    store = open_store(folder)
    for row in store.list_runs():
        if row["state"] != "damaged":
            continue
        for done in store.repair(row["id"]):
            say(f"run {row['id']}: {done}")
    n = store.reindex()
    still = [r for r in store.list_runs() if r["state"] == "damaged"]
    typer.echo(f"indexed {n} run(s) in {folder}")
    for r in still:
        say(f"run {r['id']} is still damaged: {r['damage']}; {store.show(r['id'])['recovery']}")
