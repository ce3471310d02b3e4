"""`runs watch` and `runs show`: a live Rich view of a run in a plain terminal."""
from __future__ import annotations

import json
import time
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from engine.events import Tail
from engine.live import LiveRun

from xlu_tui.format import duration, pct, state_style



# --------------------------------------------------------------------------- tables that fit

Column = tuple[str, str]  # (header, justify)


def fit_tables(key: list[Column], groups: list[list[Column]], rows: list[list[str]], width: int,
               title: str = "", key_style: str = "", bold: tuple[str, ...] = ()) -> list[Table]:
    """Tables that show every cell whole within `width` columns.

    `rows` hold the cells of `key` then of each group, in order. Each column is as wide as its
    widest cell and never shrinks; when the columns do not fit in one table, the groups are
    spread over several tables (a group only split when it alone is too wide), each repeating
    the key columns, so a number is never cut to `11…`.
    """
    cols = key + [c for g in groups for c in g]
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows if i < len(r)]) for i, (h, _) in enumerate(cols)]
    gap = 2  # padding (0, 1) between columns; no padding at the edges
    nkey = len(key)
    key_w = sum(widths[:nkey]) + gap * max(nkey - 1, 0)

    def cost(idx: list[int]) -> int:
        return sum(widths[i] + gap for i in idx)

    chunks: list[list[int]] = []
    start = nkey
    units: list[list[int]] = []
    for g in groups:
        idx = list(range(start, start + len(g)))
        start += len(g)
        if key_w + cost(idx) <= width or len(idx) == 1:
            units.append(idx)
        else:  # a group too wide alone: its columns go one by one
            units += [[i] for i in idx]
    current: list[int] = []
    for unit in units:
        if current and key_w + cost(current + unit) > width:
            chunks.append(current)
            current = []
        current = current + unit
    if current or not chunks:
        chunks.append(current)
    tables = []
    for n, chunk in enumerate(chunks):
        table = Table(box=None, header_style="bold", pad_edge=False, title=title if n == 0 else None,
                      title_justify="left", title_style="bold")
        for i in list(range(nkey)) + chunk:
            header, justify = cols[i]
            style = key_style if i < nkey else ("bold" if header in bold else "")
            table.add_column(header, justify=justify, no_wrap=True, min_width=widths[i], width=widths[i],
                             style=style or None)
        for r in rows:
            table.add_row(*[r[i] if i < len(r) else "" for i in list(range(nkey)) + chunk])
        tables.append(table)
    return tables


def metrics_table(live: LiveRun, width: int = 120) -> list[Table]:
    langs = sorted(live.languages(), key=lambda x: (x != live.data.get("source"), x))
    source = live.data.get("source")
    rows = []
    for model in sorted(live.metrics):
        last = live.latest(model)
        if not last:
            continue
        where = f"{last.get('round')}" + (f" ep {last['epoch']}" if last.get("epoch") else "")
        rows.append([model, where, *[pct(last["values"].get(x)) for x in langs], pct(last.get("mean")),
                     pct(live.best_mean(model))])
    groups = [[(x + (" (src)" if x == source else ""), "right")] for x in langs] + [[("mean", "right"), ("best", "right")]]
    return fit_tables([("model", "left"), ("round", "left")], groups, rows, width, bold=("mean",))


POOL_COLUMNS = ("U", "C", "S", "D")  # the sets a model's pools show first, in this order


def pool_columns(live: LiveRun) -> list[str]:
    """The sets of the run's pools, the usual four first."""
    sets = live.pool_sets()
    return [k for k in POOL_COLUMNS if k in sets] + [k for k in sets if k not in POOL_COLUMNS]


def pair_header(live: LiveRun, pair: tuple[str, ...]) -> str:
    return "agree" if len(live.pairs()) <= 1 else f"agree {'/'.join(pair)}"


def pools_table(live: LiveRun, width: int = 120) -> list[Table]:
    """Per round: each model's pool, candidates, selections, training set and the precision of
    its pseudo labels, then the agreement of each pair."""
    models, sets, pairs = live.pool_models(), pool_columns(live), live.pairs()
    groups = [[(f"{k}_{m}", "right") for k in sets] + [(f"prec S_{m}", "right")] for m in models]
    if pairs:
        groups.append([(pair_header(live, p), "right") for p in pairs])
    rows = []
    for r in sorted(live.pools):
        cells = [str(r)]
        for m in models:
            sizes = live.pools[r].get(m) or {}
            cells += [str(sizes.get(k, "")) for k in sets]
            cells.append(pct(sizes.get("precision")))
        cells += [pct((live.agreement.get(r, {}).get(p) or {}).get("rate")) for p in pairs]
        rows.append(cells)
    return fit_tables([("round", "left")], groups, rows, width)


def render(live: LiveRun, name: str = "", width: int = 120) -> Group:
    state = live.state
    head = Text.assemble((f"{name or live.run_id}  ", "bold"), (state, state_style(state)),
                         f"  phase: {live.phase or '–'}")
    if live.data.get("sizes"):
        s = live.data["sizes"]
        head.append(f"  |D|={s.get('D')} |U|={s.get('U')} targets={','.join(live.data.get('targets', []))}")
    parts: list[Any] = [head]
    p = live.progress
    if p and state == "running":
        total = p.get("total") or 1
        step = min(p.get("step") or 0, total)
        losses = " ".join(f"{k}={v:.4f}" for k, v in (p.get("losses") or {}).items())
        line = Table.grid(padding=(0, 1))
        stage = f" stage {p['stage']}" if p.get("stage") is not None else ""
        line.add_row(Text(f"{p.get('model', '')} train{stage}", style="cyan"),
                     ProgressBar(total=total, completed=step, width=40),
                     Text(f"{step}/{total}  ep {p.get('epoch', 0) + 1}/{p.get('epochs', '?')}  "
                          f"{p.get('samples_per_s', 0):.1f} samples/s  ETA {duration(live.eta_seconds())}  {losses}"))
        parts.append(line)
    if live.metrics:
        parts += metrics_table(live, width)
    if live.pools:
        parts += pools_table(live, width)
    if live.error:
        parts.append(Panel(_error_markup(live.error), title="failed", border_style="red"))
    tail = list(live.log)[-5:]
    if tail:
        parts.append(Text("\n".join(m for _, _, m in tail), style="dim"))
    return Group(*parts)


def _error_markup(e: dict[str, Any]) -> str:
    """A failure's class, message and hint as Rich markup: their own brackets shown as written."""
    cls, message, hint = e.get("class") or e.get("error") or "error", e.get("message"), e.get("hint")
    return (f"{escape(str(cls))}: {escape(str(message if message is not None else '–'))}\n"
            f"[dim]hint:[/] {escape(str(hint if hint is not None else '–'))}")


def damage_note(damaged: int, repaired: int = 0) -> str:
    """What reading a run's events skipped, in a sentence; empty when nothing was."""
    parts = []
    if damaged:
        parts.append(f"{damaged} line{'s' if damaged != 1 else ''} of events.jsonl "
                     f"{'were' if damaged != 1 else 'was'} damaged and skipped")
    if repaired:
        parts.append(f"{repaired} event{'s' if repaired != 1 else ''} lost damaged fields")
    return "; ".join(parts)


def watch(store: Any, run_id: str, stop_on_interrupt: bool, as_json: bool = False) -> int:
    """Follow a run until it leaves running/queued. Exit code: 0 finished, 1 otherwise.

    With `stop_on_interrupt`, Ctrl-C asks the run to stop (it checkpoints and can be resumed);
    otherwise Ctrl-C only stops watching.
    """
    from rich.live import Live

    from engine.launcher import LocalLauncher

    from xlu_tui.commands.common import command_hint

    name = store.show(run_id).get("name", "")
    live = LiveRun(run_id=run_id)
    console = Console()

    def hint(*words: str) -> str:
        return command_hint(store.root, *words)

    def say(text: str | Text) -> None:  # never wrapped inside a command the user may copy
        console.print(text if isinstance(text, Text) else Text(text), soft_wrap=True)

    def is_over() -> bool:
        return store.status(run_id).get("state") not in ("running", "queued")

    tail = Tail(store.run_dir(run_id) / "events.jsonl")

    def end_view() -> None:
        if view and view.is_started:
            view.stop()
            if not console.is_terminal:  # Rich leaves a file's last line open
                console.line()

    view = None if as_json else Live(render(live, name, console.width), console=console, refresh_per_second=4)
    try:
        if view:
            view.start()
        while True:
            over = is_over()  # asked before reading, so the last events are read before leaving
            events = tail.poll()
            for ev in events:
                live.apply(ev)
                if as_json:
                    print(json.dumps(ev, ensure_ascii=False), flush=True)
            if view:
                view.update(render(live, name, console.width))  # one redraw per poll, however many events came
            if not events:
                if over:
                    break
                time.sleep(0.25)
    except KeyboardInterrupt:
        end_view()
        if stop_on_interrupt and store.status(run_id).get("state") == "running":
            LocalLauncher(store).stop(run_id)
            say(f"stopping run {run_id} after its current step; resume with: {hint('runs', 'resume', run_id)}")
            return 1
        say(f"stopped watching; run {run_id} goes on ({hint('runs', 'watch', run_id)})")
        return 0
    finally:
        end_view()
    state = store.status(run_id).get("state")
    note = damage_note(tail.damaged, tail.repaired)
    if note:  # on stderr with --json: stdout stays one event a line
        if as_json:
            Console(stderr=True).print(Text(note, style="yellow"), soft_wrap=True)
        else:
            say(Text(note, style="yellow"))
    if not as_json:
        if state == "finished":
            say(Text.assemble(("finished", "bold blue"), f": {hint('runs', 'show', run_id)}"))
        elif state in ("failed", "stopped", "interrupted"):
            say(Text.assemble((state, state_style(state)), f": resume with {hint('runs', 'resume', run_id)}"))
    return 0 if state == "finished" else 1


def _when(stamp: str | None, day: str) -> str:
    """A timestamp; only its time of day when it falls on `day`."""
    if not stamp:
        return "–"
    return stamp[11:19] if day and stamp[:10] == day and len(stamp) >= 19 else stamp


def models_line(cfg: dict[str, Any]) -> str:
    """The run's models as its method declares them, each with the spec its config gives it:
    `lm e5-small · emb use`."""
    from engine.methods import find_method_info

    info = find_method_info((cfg.get("method") or {}).get("name"))
    specs = cfg.get("models") or {}
    roles = list(info.models) if info else [k for k, v in specs.items() if isinstance(v, str) and k != "pooling"]
    return " · ".join(f"{role} {specs[role]}" if isinstance(specs.get(role), str) else role for role in roles)


def render_show(info: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    width = console.width
    st = info.get("status", {})
    console.print(Text.assemble((f"{info['name']}  ", "bold"), (info["id"], "dim"), "  ",
                                (info["state"], state_style(info["state"]))))
    cfg = info["config"]
    task = cfg.get("task", {})
    console.print(f"task {task.get('name')}  {task.get('source_lang')} → {', '.join(task.get('target_langs') or []) or 'all'}"
                  f"   method {cfg.get('method', {}).get('name')}", markup=False, highlight=False)
    console.print(f"{models_line(cfg)}   seed {cfg.get('seed')}   device {st.get('device') or '–'}",
                  markup=False, highlight=False)
    created = st.get("created") or ""
    day = created[:10]
    console.print(f"created {created or '–'}  started {_when(st.get('started'), day)}  ended {_when(st.get('ended'), day)}",
                  markup=False, highlight=False)
    if isinstance(st.get("error"), dict):
        e = st["error"]
        console.print(Panel(_error_markup(e), title="failed", border_style="red"))
    history = info.get("rounds")
    history = [] if history is None else history  # (round_history's list says what was skipped)
    if any("pools" in r for r in history):
        # the metrics of each round, then each model's pools: split over tables, never cut
        models = list(dict.fromkeys(m for r in history for m in (r.get("pools") or {})))
        sets = list(dict.fromkeys(k for r in history for p in (r.get("pools") or {}).values() for k in p
                                  if k != "precision"))
        sets = [k for k in POOL_COLUMNS if k in sets] + [k for k in sets if k not in POOL_COLUMNS]
        pairs = list(dict.fromkeys(tuple(a.get("pair") or ()) for r in history for a in r.get("agreement") or []))
        rows = []
        for r in history:
            agree = {tuple(a.get("pair") or ()): a for a in r.get("agreement") or []}
            cells = [str(r["round"])]
            cells += [pct((r["metrics"].get(m) or {}).get("mean")) for m in models]
            cells += [pct((agree.get(p) or {}).get("rate")) for p in pairs] or ["–"]
            for m in models:
                sizes = (r.get("pools") or {}).get(m) or {}
                cells += [str(sizes.get(k, "")) for k in sets]
                cells.append(pct(sizes.get("precision")))
            rows.append(cells)
        agree_headers = [("agree" if len(pairs) <= 1 else f"agree {'/'.join(p)}", "right") for p in pairs]
        groups = [[(f"{m} mean", "right") for m in models] + (agree_headers or [("agree", "right")])]
        groups += [[(f"{k}_{m}", "right") for k in sets] + [(f"prec S_{m}", "right")] for m in models]
        for table in fit_tables([("round", "left")], groups, rows, width, title="rounds"):
            console.print(table)
    results = info.get("results") or {}
    if results:
        langs = sorted({x for v in results.values() for x in v if x != "mean"},
                       key=lambda x: (x != task.get("source_lang"), x))
        rows = [[model, *[pct(values.get(x)) for x in langs], pct(values.get("mean"))]
                for model, values in results.items()]
        groups = [[(x, "right")] for x in langs] + [[("mean", "right")]]
        for table in fit_tables([("model", "left")], groups, rows, width, title="results", bold=("mean",)):
            console.print(table)
    note = damage_note(getattr(history, "damaged", 0), getattr(history, "repaired", 0))
    if note:
        console.print(Text(note, style="yellow"), soft_wrap=True)
    console.print(Text(info["dir"], style="dim"), soft_wrap=True)
