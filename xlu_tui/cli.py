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
# Accepted before the subcommand (`xlu-tui --runs-dir X runs list`) and on every command that
# touches runs (`xlu-tui runs list --runs-dir X`); the one closest to the command wins, then
# XLU_RUNS_DIR, then ./runs.
RunsDirOpt = Annotated[Optional[str], typer.Option("--runs-dir", metavar="DIR",
                                                    help="folder of runs and their history "
                                                         "[default: $XLU_RUNS_DIR, else ./runs]")]
DEFAULT_RUNS_DIR = Path("runs")


class State:
    runs_dir: Path = DEFAULT_RUNS_DIR


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


def _store(runs_dir: Optional[str] = None):  # noqa: ANN202
    from engine.store import RunStore

    path = runs_dir_path(runs_dir)
    if path is not None:
        State.runs_dir = path
    return RunStore(State.runs_dir)


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


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context, runs_dir: RunsDirOpt = None) -> None:
    # an empty XLU_RUNS_DIR means the default, as an unset one does
    State.runs_dir = runs_dir_path(runs_dir) or Path(os.environ.get("XLU_RUNS_DIR") or DEFAULT_RUNS_DIR)
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
        say(f"run {run_id} {state}; follow it with: {command_hint(store.root, 'runs', 'watch', run_id)}")
        return EXIT_OK
    from xlu_tui.watch import watch

    return watch(store, run_id, stop_on_interrupt=True, as_json=as_json)


def _check_models(cfg: Any) -> None:
    """Every model the config names can be loaded (a ConfigError if not), before a run exists.
    `cfg` is a RunConfig or a function that reads one (read only when there is a check)."""
    try:
        from engine.models.check import check_models
    except ImportError:  # pragma: no cover - the check arrives with its own change
        return
    check_models(cfg() if callable(cfg) else cfg)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _how_long_here(store: Any, cfg: Any) -> str:
    """The sentence `run --app` says before the run starts: earlier runs here, what was measured."""
    from xlu_tui.estimate import earlier_durations, how_long, machine, method_rounds, throughput_estimate

    from engine.errors import ConfigError

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
            from engine.tasks import get_task

            sizes = get_task(cfg.task.name).load(cfg.task, cfg.seed).sizes()
            seconds, basis = throughput_estimate(store, cfg, sizes)
            if seconds:
                speed = (seconds, basis, method_rounds(cfg))
        except Exception:  # noqa: BLE001 - no estimate is better than no run
            speed = None
    return how_long(cfg.preset or None, rows, machine(), speed, lm=cfg.models.lm)


def _open_app(store: Any, run_id: str) -> int:
    """The app on the run's live screen (the runs list beneath); the run goes on once it closes."""
    from xlu_tui.app import make_app

    make_app(State.runs_dir, open_run=run_id).run()
    state = store.status(run_id).get("state", "")
    if state in ("running", "queued"):
        say(f"run {run_id} goes on ({state}): {command_hint(store.root, 'runs', 'watch', run_id)} follows it, "
            f"{command_hint(store.root)} opens the app again")
    else:
        say(f"run {run_id} {state}: {command_hint(store.root, 'runs', 'show', run_id)}")
    return EXIT_OK


@app.command()
def run(config: Annotated[Optional[Path], typer.Argument(help="a TOML config file")] = None,
        preset: Annotated[Optional[str], typer.Option("--preset", "-p", help="start from a preset (xlu-tui presets list)")] = None,
        set_: SetOpt = None, name: NameOpt = None, detach: DetachOpt = False, gpus: GpusOpt = None,
        open_app: Annotated[bool, typer.Option("--app", help="open the app on the run's live screen (the run goes "
                                               "on when the app closes); without a terminal, the line view")] = False,
        as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Start a run: a preset and/or a config file, with --set overrides."""
    from engine.config import ConfigError, build
    from engine.launcher import parse_gpus

    if open_app and (detach or as_json):
        raise ConfigError(f"--app and {'--detach' if detach else '--json'} do not go together: "
                          "--app follows the run in the app, give one of them")
    store = _store(runs_dir)
    cfg, devices = build(config, preset, set_ or [], name), parse_gpus(gpus)  # all checks before a run exists
    _check_models(cfg)
    if open_app:
        say(_how_long_here(store, cfg))
    run_id = store.create(cfg)
    if not open_app:
        raise typer.Exit(_launch(run_id, detach, devices, as_json))
    from engine.launcher import LocalLauncher

    state = LocalLauncher(store).start(run_id, devices)
    if _interactive():
        say(f"run {run_id} {state}; opening the app on it (q quits the app, the run goes on)")
        raise typer.Exit(_open_app(store, run_id))
    from xlu_tui.watch import watch

    say(f"run {run_id} {state}; not a terminal, so no app: the line view follows it "
        f"(Ctrl-C leaves the run running; open the app later with: {command_hint(store.root)})")
    raise typer.Exit(watch(store, run_id, stop_on_interrupt=False, as_json=False))


# --------------------------------------------------------------------------- runs

def _state_style(state: str) -> str:
    return {"running": "bold green", "queued": "yellow", "finished": "blue", "failed": "bold red",
            "stopped": "magenta", "interrupted": "bold magenta", "damaged": "bold reverse red"}.get(state, "")


def _refuse_damaged(store: Any, run_id: str, verb: str) -> dict[str, Any]:
    """The run's show(); a damaged run cannot be resumed or cloned: one sentence (exit 2)."""
    from engine.config import ConfigError

    info = store.show(run_id)
    if info.get("state") == "damaged":
        raise ConfigError(f"run {run_id} cannot be {verb}: {_sentence(info.get('damage'))}; "
                          f"{command_hint(store.root, 'runs', 'show', run_id)} says how to recover")
    return info


def _sentence(text: Any) -> str:
    return str(text or "a file of its folder cannot be read").strip().rstrip(".")


def _pct(v: Any) -> str:
    return "" if v is None else f"{100 * float(v):.1f}"


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
def runs_list(as_json: JsonOpt = False,
              state: Annotated[Optional[str], typer.Option("--state", help="only runs in this state "
                                                           "(queued, running, finished, failed, stopped, interrupted, "
                                                           "damaged)")] = None,
              runs_dir: RunsDirOpt = None) -> None:
    """Every run, newest first."""
    from engine.config import ConfigError
    from engine.store import STATES

    if state is not None and state not in STATES:
        raise ConfigError(f"--state is {state!r}; allowed: {', '.join(STATES)}")
    store = _store(runs_dir)
    rows = store.list_runs()
    if state:
        rows = [r for r in rows if r.get("state") == state]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        where = f" {state}" if state else ""
        say(f"no{where} runs in {store.root} yet; start one with: "
            f"{command_hint(store.root, 'run', '--preset', 'demo-finetune')}")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = []
    for r in rows:
        targets = r.get("targets") or []
        cells.append({
            "id": r["id"], "name": r.get("name") or "", "task": r.get("task") or "", "method": r.get("method") or "",
            "langs": f"{r.get('source', '')}→{','.join(targets) if len(targets) <= 3 else f'{len(targets)} langs'}",
            "state": r.get("state") or "",
            "round": f"{r['round']}/{r['rounds']}" if r.get("rounds") else "",
            "mean": _pct(r.get("latest_mean")), "best": _pct(r.get("best_mean")), "device": r.get("device") or "",
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
        table.add_row(*[Text(c[col], style=_state_style(c[col])) if col == "state" else c[col] for col in cols])
    console.print(table)
    # what is wrong with a damaged run, after the table (on stderr: the table stays the same for scripts)
    for r in rows:
        if r.get("state") == "damaged":
            say(f"damaged run {r['id']}: {_sentence(r.get('damage'))}; "
                f"{command_hint(store.root, 'runs', 'show', r['id'])} says how to recover", err=True)


@runs_app.command("show")
def runs_show(run_id: RunArg, as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """A run's config, state and results."""
    from engine.export import round_history

    store = _store(runs_dir)
    rid = store.resolve(run_id)
    info = store.show(rid)
    try:
        info["rounds"] = round_history(Path(info.get("dir") or store.run_dir(rid)) / "events.jsonl")
    except OSError:  # a damaged run's events may be unreadable too: no rounds then
        info["rounds"] = []
    if as_json:
        _print_json(info)
        return
    if info.get("state") == "damaged":
        _show_damaged(store, info)
        return
    from xlu_tui.watch import render_show

    render_show(info)


def _show_damaged(store: Any, info: dict[str, Any]) -> None:
    """What is wrong with a damaged run, and how to get it back (or rid of it)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    rid = info["id"]
    console.print(Text.assemble((f"{info.get('name') or '(name unreadable)'}  ", "bold"), (rid, "dim"), "  ",
                                ("damaged", _state_style("damaged"))))
    cfg = info.get("config") or {}
    if cfg:
        task = cfg.get("task") or {}
        console.print(Text(f"task {task.get('name')}  {task.get('source_lang')} → "
                           f"{', '.join(task.get('target_langs') or []) or 'all'}   "
                           f"method {(cfg.get('method') or {}).get('name')}"))
    console.print(Text(f"what is wrong: {_sentence(info.get('damage'))}."), soft_wrap=True)
    recovery = info.get("recovery") or (
        f"fix or delete that file, then {command_hint(store.root, 'runs', 'reindex')}; "
        f"or delete the run: {command_hint(store.root, 'runs', 'rm', rid)}")
    console.print(Text(f"to recover: {_sentence(recovery)}."), soft_wrap=True)
    console.print(Text(f"folder: {info.get('dir') or store.run_dir(rid)}", style="dim"), soft_wrap=True)


@runs_app.command("watch")
def runs_watch(run_id: RunArg, as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Follow a run live until it ends (Ctrl-C stops watching, not the run)."""
    from xlu_tui.watch import watch

    store = _store(runs_dir)
    rid = store.resolve(run_id)
    rc = watch(store, rid, stop_on_interrupt=False, as_json=as_json)
    st = store.status(rid)
    if st.get("state") == "damaged" and not as_json:  # its events replayed; what is wrong comes last
        say(f"damaged: {_sentence(st.get('damage'))}; {command_hint(store.root, 'runs', 'show', rid)} "
            "says how to recover")
    raise typer.Exit(rc)


@runs_app.command("stop")
def runs_stop(run_id: RunArg,
              kill: Annotated[bool, typer.Option("--kill", help="kill at once (resumes from the last checkpoint)")] = False,
              runs_dir: RunsDirOpt = None) -> None:
    """Stop a run after its current step (it checkpoints and can be resumed)."""
    from engine.launcher import LocalLauncher

    store = _store(runs_dir)
    rid = store.resolve(run_id)
    state = LocalLauncher(store).stop(rid, kill=kill)
    typer.echo(f"run {rid}: {state}" + ("" if state == "stopped" else " (it checkpoints, then ends stopped)"))


@runs_app.command("resume")
def runs_resume(run_id: RunArg, detach: DetachOpt = False, gpus: GpusOpt = None, as_json: JsonOpt = False,
                runs_dir: RunsDirOpt = None) -> None:
    """Continue a stopped, failed or interrupted run from its last checkpoint."""
    from engine.config import ConfigError
    from engine.launcher import parse_gpus
    from engine.store import RESUMABLE

    store = _store(runs_dir)
    rid, devices = store.resolve(run_id), parse_gpus(gpus)
    _refuse_damaged(store, rid, "resumed")
    state = store.status(rid).get("state")
    if state not in RESUMABLE:
        raise ConfigError(f"run {rid} is {state}; only {', '.join(RESUMABLE)} runs can be resumed")
    _check_models(lambda: store.config(rid))
    raise typer.Exit(_launch(rid, detach, devices, as_json))


@runs_app.command("clone")
def runs_clone(run_id: RunArg, set_: SetOpt = None, name: NameOpt = None, detach: DetachOpt = False,
               gpus: GpusOpt = None, as_json: JsonOpt = False, runs_dir: RunsDirOpt = None) -> None:
    """Start a new run with a run's config and --set changes."""
    from engine.config import apply_set, validate
    from engine.launcher import parse_gpus

    store = _store(runs_dir)
    devices = parse_gpus(gpus)
    rid = store.resolve(run_id)
    _refuse_damaged(store, rid, "cloned")
    data = store.config_dict(rid)
    data["name"] = ""
    for s in set_ or []:
        apply_set(data, s)
    if name:
        data["name"] = name
    cfg = validate(data)
    _check_models(cfg)
    new_id = store.create(cfg)
    raise typer.Exit(_launch(new_id, detach, devices, as_json))


@runs_app.command("rm")
def runs_rm(run_ids: Annotated[list[str], typer.Argument(help="runs to delete")],
            yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
            runs_dir: RunsDirOpt = None) -> None:
    """Delete runs (folder and history entry). Every run is checked before any is deleted."""
    from engine.config import ConfigError

    store = _store(runs_dir)
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


def _writable_output(output: Path) -> None:
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
def runs_export(run_ids: Annotated[Optional[list[str]], typer.Argument(help="runs (default: every finished run)")] = None,
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
        _writable_output(output)
    store = _store(runs_dir)
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
def runs_reindex(runs_dir: RunsDirOpt = None) -> None:
    """Rebuild the history index from the run folders, and repair damaged runs from their event logs."""
    store = _store(runs_dir)
    for row in store.list_runs():
        if row["state"] != "damaged":
            continue
        for done in store.repair(row["id"]):
            say(f"run {row['id']}: {done}")
    n = store.reindex()
    still = [r for r in store.list_runs() if r["state"] == "damaged"]
    typer.echo(f"indexed {n} run(s) in {State.runs_dir}")
    for r in still:
        say(f"run {r['id']} is still damaged: {r['damage']}; {store.show(r['id'])['recovery']}")


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
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    # name, task and method as wide as their widest cell, so columns line up; the description
    # wraps in its own column, or under its preset when the terminal leaves it too little room
    console = Console(highlight=False)
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in ("name", "task", "method")}
    beside = console.width - sum(widths.values()) - 6 >= 40
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("name", "task", "method"):
        table.add_column(col, no_wrap=True, width=widths[col])
    if beside:
        table.add_column("description", ratio=1)
        for r in rows:
            table.add_row(r["name"], r["task"], r["method"], r["description"])
        console.print(table)
        return
    line = "{name:<%d}  {task:<%d}  {method}" % (widths["name"], widths["task"])
    console.print(line.format(name="name", task="task", method="method"), style="bold", markup=False, soft_wrap=True)
    for r in rows:
        console.print(line.format(**r), markup=False, soft_wrap=True)
        console.print(Padding(Text(r["description"], style="dim"), (0, 0, 0, 2)))


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
    from engine.errors import ConfigError, WriteFailed

    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        rc = app(args=argv, standalone_mode=False, prog_name="xlu-tui")
    except ConfigError as err:
        typer.echo(f"error: {err}", err=True)
        return EXIT_BAD_INPUT
    except WriteFailed as err:  # disk full, read-only: not the user's input, but one sentence all the same
        typer.echo(f"error: {err}", err=True)
        return EXIT_FAILED
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
