"""The runs screen's preview of the highlighted run: its accuracy curve, means, per-language table
and key config, on a terminal with room for them.

The run is folded with the live screen's `LiveRun` and drawn with the same chart and panel
functions, so a preview and the run opened look alike. Reading happens in the screen's thread
worker (`read_preview`); folding and drawing on the app's thread.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from engine.events import read_events
from engine.live import LiveRun

from xlu_tui.messages import PreviewRead
from xlu_tui.widgets.chart import LineChart
from xlu_tui.format import ACTIVE, pct, theme_colors
from xlu_tui.tables import best_markup, chart_data, lang_table, point_label, run_facts
from xlu_tui.widgets.progress import ProgressLine

CACHE_SIZE = 32  # folded runs kept, so moving back to a run redraws it at once


def read_preview(store: Any, run_id: str, start: int, need_config: bool) -> PreviewRead:
    """Events appended since byte `start` (in a thread). Of the progress events only the last is
    kept: the fold keeps only the latest anyway, and a long run writes tens of thousands of them,
    which would otherwise be folded on the app's thread."""
    config = None
    if need_config:
        try:
            config = store.config_dict(run_id)
        except Exception:  # noqa: BLE001 - a damaged config.toml: the events still tell the run
            config = {}
    try:
        events, end = read_events(store.events_path(run_id), start)
    except Exception as err:  # noqa: BLE001 - a run deleted or half-written: said in the preview
        return PreviewRead(run_id, start, start, error=f"{type(err).__name__}: {err}")
    last_progress = max((i for i, e in enumerate(events) if e.get("type") == "progress"), default=-1)
    events = [e for i, e in enumerate(events) if e.get("type") != "progress" or i == last_progress]
    return PreviewRead(run_id, start, end, events, config)


@dataclass
class Folded:
    """One run as far as it has been read."""

    live: LiveRun
    offset: int = 0
    config: dict[str, Any] | None = None
    read: bool = False  # read at least once
    row_key: Any = None  # the table row's state when last read: a change asks for a new read
    error: str | None = None


@dataclass
class PreviewCache:
    runs: OrderedDict[str, Folded] = field(default_factory=OrderedDict)

    def get(self, run_id: str) -> Folded | None:
        if run_id in self.runs:
            self.runs.move_to_end(run_id)
        return self.runs.get(run_id)

    def entry(self, run_id: str) -> Folded:
        got = self.get(run_id)
        if got is None:
            got = self.runs[run_id] = Folded(LiveRun(run_id=run_id))
            while len(self.runs) > CACHE_SIZE:
                self.runs.popitem(last=False)
        return got

    def apply(self, msg: PreviewRead) -> Folded | None:
        """Fold a read into its run; None when it overlaps what is folded already (stale)."""
        entry = self.entry(msg.run_id)
        if msg.start != entry.offset:
            return None
        if msg.config is not None:
            entry.config = msg.config
        entry.live.apply_all(msg.events)
        entry.offset, entry.read, entry.error = msg.end, True, msg.error
        return entry


def needs_read(entry: Folded | None, row: dict[str, Any]) -> bool:
    """A run is read when first shown, while it is active (its events grow), and when its row
    changed since the last read (it finished, was resumed, ...)."""
    return entry is None or row.get("state") in ACTIVE or entry.row_key != row_key(row)


def row_key(row: dict[str, Any]) -> Any:
    return (row.get("state"), row.get("round"), row.get("latest_mean"), row.get("ended"))


def means_markup(live: LiveRun) -> str:
    """Latest and best mean over the target languages, per model, and where the best was."""
    lines = []
    for model in live.models():
        latest = live.series(model)
        last = latest[max(latest)] if latest else {}
        best = live.best(model)
        where = f" at {point_label(live, best[0])}" if best else ""
        lines.append(f"[b]{escape(model)}[/b]  mean [b]{pct(last.get('mean'))}[/b] latest · "
                     f"best {pct(best[1] if best else None)}{where}")
    return "\n".join(lines)


class RunPreview(Vertical):
    """What the table's detail line says of the run (across the top: an error and its hint are
    long), then the chart (with a progress line while the run trains) beside a column with the
    means, the per-language table and the config."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="pv-head")
        with Horizontal(id="pv-main"):
            with Vertical(id="pv-chart-box"):
                yield LineChart(id="pv-chart")
                yield ProgressLine(id="pv-progress")
            with VerticalScroll(id="pv-side"):
                yield Static(id="pv-means")
                yield Static(id="pv-langs")
                yield Static(id="pv-facts")

    def on_mount(self) -> None:
        self.query_one("#pv-chart-box").border_title = "accuracy %"

    def _changed(self, name: str, key: Any) -> bool:
        key = (key, self.app.theme)
        if self._drawn.get(name) == key:
            return False
        self._drawn[name] = key
        return True

    def _text(self, selector: str, content: Any, key: Any = None) -> None:
        if self._changed(selector, content if key is None else key):
            widget = self.query_one(selector, Static)
            widget.update(content)
            widget.display = bool(content)  # an empty block would still leave its margin

    def show_head(self, markup: str) -> None:
        self._text("#pv-head", markup)

    def show_run(self, row: dict[str, Any] | None, entry: Folded | None) -> None:
        """Draw `row`'s run as folded in `entry` (None: not read yet); no row: text only."""
        box = self.query_one("#pv-chart-box")
        self.query_one("#pv-main").display = row is not None
        if row is None:
            for sel in ("#pv-means", "#pv-langs", "#pv-facts"):
                self._text(sel, "")
            return
        live = entry.live if entry is not None else LiveRun(run_id=row["id"])
        views = live.views()
        view = views[0] if views else ""
        state = row.get("state", "")
        # A run that ended before evaluating has no curve to wait for: its text takes the width.
        no_chart = entry is not None and entry.read and not views and state not in ACTIVE
        box.display = not no_chart
        self.query_one("#pv-main").set_class(no_chart, "-no-chart")
        chart = self.query_one("#pv-chart", LineChart)
        metrics = tuple((m, len(rows)) for m, rows in live.metrics.items())
        if self._changed("chart", (row["id"], view, metrics, bool(live.data), entry is not None and entry.read)):
            data = chart_data(live, view)
            if entry is None or not entry.read:
                data.empty_text = "reading the run…"
            elif entry.error:
                data.empty_text = f"cannot read the events: {entry.error}"
            chart.update(data)
            more = f"  [dim]enter for {escape(', '.join(views[1:]))}[/]" if len(views) > 1 else ""
            box.border_title = f"accuracy % · [b]{escape(view)}[/b]{more}" if view else "accuracy %"
            box.border_subtitle = best_markup(live, view)
        progress = self.query_one("#pv-progress", ProgressLine)
        progress.display = state in ACTIVE
        if state in ACTIVE:
            progress.set(live.progress, state, live.phase, "queued: waiting for a free device"
                         if state == "queued" else "")
        ended = f"[dim]no evaluation: the run ended in phase {escape(live.phase)}, before its first[/]" \
            if live.phase else "[dim]no evaluation: the run ended before its first[/]"
        self._text("#pv-means", ended if no_chart else means_markup(live))
        theme = theme_colors(self.app)
        if view:
            self._text("#pv-langs", lang_table(live, view, theme, row.get("rounds")), key=(row["id"], view, metrics))
        else:
            self._text("#pv-langs", "")
        self._text("#pv-facts", run_facts(live, entry.config or {}, row) if entry is not None else "")
