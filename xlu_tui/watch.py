"""`runs watch` and `runs show`: a live Rich view of a run in a plain terminal."""
from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from engine.events import Tail
from engine.live import LiveRun

STATE_STYLE = {"running": "bold green", "queued": "yellow", "finished": "bold blue", "failed": "bold red",
               "stopped": "magenta", "interrupted": "bold magenta"}


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.1f}"


def _duration(s: float | None) -> str:
    if s is None:
        return "–"
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def metrics_table(live: LiveRun) -> Table:
    langs: list[str] = []
    for rows in live.metrics.values():
        for r in rows:
            langs += [x for x in r.get("values", {}) if x not in langs]
    source = live.data.get("source")
    langs.sort(key=lambda x: (x != source, x))
    table = Table(box=None, header_style="bold", title_justify="left")
    table.add_column("model")
    table.add_column("round")
    for x in langs:
        table.add_column(x + (" (src)" if x == source else ""), justify="right")
    table.add_column("mean", justify="right", style="bold")
    table.add_column("best", justify="right")
    for model in sorted(live.metrics):
        last = live.latest(model)
        if not last:
            continue
        where = f"{last.get('round', 0) + 1}" + (f" ep {last['epoch']}" if last.get("epoch") else "")
        table.add_row(model, where, *[_pct(last["values"].get(x)) for x in langs], _pct(last.get("mean")),
                      _pct(live.best_mean(model)))
    return table


def pools_table(live: LiveRun) -> Table:
    """Per round: pool sizes, candidates, selections, training-set sizes, precision, agreement."""
    views = [v for v in ("lm", "emb") if any(f"U_{v}" in p for p in live.pools)]
    agree = {a["round"]: a for a in live.agreement}
    table = Table(box=None, header_style="bold")
    table.add_column("round")
    for v in views:
        for col in ("U", "C", "S", "D", "prec S"):
            table.add_column(f"{col}_{v}" if col != "prec S" else f"prec S_{v}", justify="right")
    if agree:
        table.add_column("agree", justify="right")
    for p in live.pools:
        cells = [str(p["round"] + 1)]
        for v in views:
            cells += [str(p.get(f"{k}_{v}", "")) for k in ("U", "C", "S", "D")]
            cells.append(_pct((p.get("precision") or {}).get(f"S_{v}")))
        if agree:
            cells.append(_pct(agree.get(p["round"], {}).get("rate")))
        table.add_row(*cells)
    return table


def render(live: LiveRun, name: str = "") -> Group:
    state = live.state
    head = Text.assemble((f"{name or live.run_id}  ", "bold"), (state, STATE_STYLE.get(state, "")),
                         f"  phase: {live.phase or '–'}")
    if live.data.get("sizes"):
        s = live.data["sizes"]
        head.append(f"  |D|={s.get('D')} |U|={s.get('U')} targets={','.join(live.data.get('targets', []))}")
    parts: list[Any] = [head]
    p = live.progress
    if p and state == "running":
        total, step = p.get("total") or 1, p.get("step") or 0
        losses = " ".join(f"{k}={v:.4f}" for k, v in (p.get("losses") or {}).items())
        line = Table.grid(padding=(0, 1))
        stage = f" stage {p['stage']}" if p.get("stage") is not None else ""
        line.add_row(Text(f"{p.get('model', '')} train{stage}", style="cyan"),
                     ProgressBar(total=total, completed=step, width=40),
                     Text(f"{step}/{total}  ep {p.get('epoch', 0) + 1}/{p.get('epochs', '?')}  "
                          f"{p.get('samples_per_s', 0):.1f} samples/s  ETA {_duration(live.eta_seconds())}  {losses}"))
        parts.append(line)
    if live.metrics:
        parts.append(metrics_table(live))
    if live.pools:
        parts.append(pools_table(live))
    if live.error:
        parts.append(Panel(f"{live.error['class']}: {live.error['message']}\n[dim]hint:[/] {live.error['hint']}",
                           title="failed", border_style="red"))
    tail = list(live.logs)[-5:]
    if tail:
        parts.append(Text("\n".join(m for _, m in tail), style="dim"))
    return Group(*parts)


def watch(store: Any, run_id: str, stop_on_interrupt: bool, as_json: bool = False) -> int:
    """Follow a run until it leaves running/queued. Exit code: 0 finished, 1 otherwise.

    With `stop_on_interrupt`, Ctrl-C asks the run to stop (it checkpoints and can be resumed);
    otherwise Ctrl-C only stops watching.
    """
    from rich.live import Live

    from engine.launcher import LocalLauncher

    name = store.show(run_id).get("name", "")
    live = LiveRun(run_id=run_id)
    console = Console()

    def is_over() -> bool:
        return store.status(run_id).get("state") not in ("running", "queued")

    tail = Tail(store.run_dir(run_id) / "events.jsonl")
    view = None if as_json else Live(render(live, name), console=console, refresh_per_second=4)
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
                view.update(render(live, name))  # one redraw per poll, however many events came
            if not events:
                if over:
                    break
                time.sleep(0.25)
    except KeyboardInterrupt:
        if view:
            view.stop()
        if stop_on_interrupt and store.status(run_id).get("state") == "running":
            LocalLauncher(store).stop(run_id)
            console.print(f"stopping run {run_id} after its current step; resume with: xlu-tui runs resume {run_id}")
            return 1
        console.print(f"stopped watching; run {run_id} goes on (xlu-tui runs watch {run_id})")
        return 0
    finally:
        if view and view.is_started:
            view.stop()
    state = store.status(run_id).get("state")
    if not as_json:
        if state == "finished":
            console.print(f"[bold blue]finished[/]: xlu-tui runs show {run_id}")
        elif state in ("failed", "stopped", "interrupted"):
            console.print(f"[{STATE_STYLE[state]}]{state}[/]: resume with xlu-tui runs resume {run_id}")
    return 0 if state == "finished" else 1


def render_show(info: dict[str, Any]) -> None:
    console = Console()
    st = info.get("status", {})
    console.print(Text.assemble((f"{info['name']}  ", "bold"), (info["id"], "dim"), "  ",
                                (info["state"], STATE_STYLE.get(info["state"], ""))))
    cfg = info["config"]
    task = cfg.get("task", {})
    console.print(f"task {task.get('name')}  {task.get('source_lang')} → {', '.join(task.get('target_langs') or []) or 'all'}"
                  f"   method {cfg.get('method', {}).get('name')}   lm {cfg.get('models', {}).get('lm')}"
                  f"   seed {cfg.get('seed')}   device {st.get('device', '–')}")
    console.print(f"created {st.get('created', '–')}  started {st.get('started', '–')}  ended {st.get('ended') or '–'}")
    if st.get("error"):
        e = st["error"]
        console.print(Panel(f"{e.get('class')}: {e.get('message')}\n[dim]hint:[/] {e.get('hint')}",
                            title="failed", border_style="red"))
    history = info.get("rounds") or []
    if any("pools" in r for r in history):
        table = Table(header_style="bold", box=None, title="rounds", title_justify="left")
        views = [v for v in ("lm", "emb") if any(f"U_{v}" in (r.get("pools") or {}) for r in history)]
        table.add_column("round")
        for v in views:
            table.add_column(f"{v} mean", justify="right")
            for k in ("U", "C", "S", "D"):
                table.add_column(f"{k}_{v}", justify="right")
            table.add_column(f"prec S_{v}", justify="right")
        table.add_column("agree", justify="right")
        for r in history:
            p = r.get("pools") or {}
            cells = [str(r["round"] + 1)]
            for v in views:
                cells.append(_pct((r["metrics"].get(v) or {}).get("mean")))
                cells += [str(p.get(f"{k}_{v}", "")) for k in ("U", "C", "S", "D")]
                cells.append(_pct((p.get("precision") or {}).get(f"S_{v}")))
            cells.append(_pct((r.get("agreement") or {}).get("rate")))
            table.add_row(*cells)
        console.print(table)
    results = info.get("results") or {}
    if results:
        langs = sorted({x for v in results.values() for x in v if x != "mean"},
                       key=lambda x: (x != task.get("source_lang"), x))
        table = Table(header_style="bold", box=None)
        table.add_column("model")
        for x in langs:
            table.add_column(x, justify="right")
        table.add_column("mean", justify="right", style="bold")
        for model, values in results.items():
            table.add_row(model, *[_pct(values.get(x)) for x in langs], _pct(values.get("mean")))
        console.print(table)
    console.print(f"[dim]{info['dir']}[/]")
