"""Compare: runs side by side. The config fields that differ (or all), results per language with
the mean and the best round, and their accuracy curves in one chart."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.events import read_events
from engine.live import MEAN_OF_MODELS, LiveRun

from xlu_tui.widgets.chart import DARK_PALETTE, LIGHT_PALETTE, ChartData, LineChart, Series
from xlu_tui.format import ACTIVE, STATE_MARK, pct, point_labels, short, theme_colors
from xlu_tui.tables import point_label
from xlu_tui.app import ShowsWorkerErrors

MEAN = "mean"


@dataclass
class Compared:
    info: dict[str, Any]
    live: LiveRun


@dataclass
class CompareLoaded(Message):
    runs: list[Compared] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


class CompareScreen(ShowsWorkerErrors, Screen):
    HELP = """
## Compare

Runs side by side: the config fields that differ (**a** shows all), results per language
(the best of each row in bold), the mean, and where each run was best; the chart draws their
curves together.

- **l** picks the language of the chart (the mean over target languages first)
- **p** switches between results and config on a narrow terminal
- **m** picks the model (for runs with several)
- **e** exports these runs' results
"""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("a", "all_fields", "all fields"),
        Binding("l", "language", "language"),
        Binding("m", "model", "model"),
        Binding("e", "export", "export"),
        Binding("p", "panel", "results/config", show=False),
        Binding("q", "app.quit", "quit", show=False),
    ]

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.runs: list[Compared] = []
        self.show_all = False
        self.show_config = False  # narrow terminals: the config table instead of the results
        self.language = MEAN
        self.view = ""
        self.loaded = False
        self._diff_rows = 1

    def compose(self) -> ComposeResult:
        yield Static(id="compare-head")
        with Horizontal(id="compare-top"):
            with VerticalScroll(id="diff-box"):
                yield Static(id="diff")
            with VerticalScroll(id="results-box"):
                yield Static(id="results")
        with Vertical(id="compare-chart"):
            yield LineChart(id="cmp-chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#compare-head", Static).update(f"Comparing {len(self.run_ids)} runs · reading…")
        self.query_one("#diff-box").border_title = "config: fields that differ"
        self.query_one("#results-box").border_title = "results (%)"
        self.load()
        self.set_interval(max(self.app.list_interval * 2, 1.0), self._tick)
        self.watch(self.app, "theme", lambda _: self.call_after_refresh(self._recolour), init=False)

    def _recolour(self) -> None:
        if self.loaded:
            self.render_all()

    def _tick(self) -> None:
        if self.app.screen is self and any(c.info.get("state") in ACTIVE for c in self.runs):
            self.load()

    @work(thread=True, exclusive=True, group="compare", name="reading the runs to compare", exit_on_error=False)
    def load(self) -> None:
        store = self.app.store
        runs, errors = [], []
        for rid in self.run_ids:
            try:
                info = store.show(rid)
            except Exception as err:  # noqa: BLE001 - a deleted run drops out, with a word
                errors.append(f"{rid}: {err}")
                continue
            live = LiveRun(run_id=rid)
            events, _ = read_events(store.events_path(rid))
            live.apply_all(events)
            runs.append(Compared(info, live))
        self.post_message(CompareLoaded(runs, errors))

    def on_compare_loaded(self, msg: CompareLoaded) -> None:
        self.runs = msg.runs
        self.loaded = True
        for e in msg.errors:
            self.notify(f"cannot read run {e}", severity="warning")
        views = self.views()
        if self.view not in views:
            self.view = views[0] if views else ""
        self.render_all()

    # ----- what can be shown ---------------------------------------------------------------
    def views(self) -> list[str]:
        models: list[str] = []
        for c in self.runs:
            models += [m for m in c.live.models() if m not in models]
        return models + ([MEAN_OF_MODELS] if len(models) > 1 else [])

    def languages(self) -> list[str]:
        langs: list[str] = []
        for c in self.runs:
            langs += [x for x in c.live.languages() if x not in langs]
        sources = {c.live.data.get("source") for c in self.runs}
        return sorted(langs, key=lambda x: x not in sources)

    def colors(self) -> tuple[str, ...]:
        return DARK_PALETTE if self.app.current_theme.dark else LIGHT_PALETTE

    def label(self, c: Compared) -> str:
        return f"{c.info.get('name') or ''} {c.info['id'][-4:]}".strip()

    def run_view(self, c: Compared) -> str:
        """The view for one run: the chosen model if it has it, else its first."""
        models = c.live.models()
        if self.view == MEAN_OF_MODELS:
            return MEAN_OF_MODELS if len(models) > 1 else (models[0] if models else "")
        return self.view if self.view in models else (models[0] if models else "")

    # ----- drawing -------------------------------------------------------------------------
    def render_all(self) -> None:
        self.render_head()
        self.render_diff()
        self.render_results()
        self.render_chart()
        self.fit_boxes()

    def fit_boxes(self) -> None:
        """Tables take the height they need (within reason); the chart takes the rest. A narrow
        terminal shows the results or the config (p switches) above the chart."""
        diff_h = self._diff_rows + 3
        res_h = len(self.languages()) + 6
        top = self.query_one("#compare-top")
        diff, res = self.query_one("#diff-box"), self.query_one("#results-box")
        if self.has_class("-narrow"):
            diff.display, res.display = self.show_config, not self.show_config
            diff.border_subtitle, res.border_subtitle = "p: results", "p: config"
            h = min(diff_h if self.show_config else res_h, max(self.size.height // 2, 8))
            diff.styles.height = res.styles.height = "100%"
            top.styles.height = h
        else:
            diff.display = res.display = True
            diff.border_subtitle = res.border_subtitle = ""
            h = min(max(diff_h, res_h), max(self.size.height // 2, 8))
            diff.styles.height = res.styles.height = "100%"
            top.styles.height = h

    def on_resize(self) -> None:
        if self.loaded:
            self.render_head()
            self.fit_boxes()

    def render_head(self) -> None:
        colors = self.colors()
        narrow = self.has_class("-narrow")  # the ids' last four characters tell runs apart
        parts = []
        for i, c in enumerate(self.runs):
            state = c.info.get("state", "")
            rid = c.info["id"][-4:] if narrow else c.info["id"]
            parts.append(f"[{colors[i % len(colors)]}]●[/] [b]{escape(c.info.get('name') or '')}[/b] "
                         f"[dim]{rid}[/] {STATE_MARK.get(state, '')} {state}")
        text = "   ".join(parts) or "[dim]no run to compare[/]"
        self.query_one("#compare-head", Static).update(text)

    def render_diff(self) -> None:
        flat = [flatten(c.info.get("config") or {}) for c in self.runs]
        keys: list[str] = []
        for f in flat:
            keys += [k for k in f if k not in keys]
        rows = []
        for k in keys:
            values = [f.get(k) for f in flat]
            differs = any(v != values[0] for v in values[1:])
            if self.show_all or differs:
                rows.append((k, values, differs))
        table = Table(box=None, padding=(0, 1), header_style="bold", show_edge=False)
        table.add_column("field")
        colors = self.colors()
        for i, c in enumerate(self.runs):
            table.add_column(Text(self.label(c), style=f"bold {colors[i % len(colors)]}"), overflow="fold")
        accent = theme_colors(self.app).get("text-accent", "")
        for k, values, differs in rows:
            style = f"bold {accent}" if differs and self.show_all else ""
            table.add_row(Text(k, style=style), *[short(v, 28) for v in values])
        box = self.query_one("#diff-box")
        n_diff = sum(1 for _, _, d in rows if d) if self.show_all else len(rows)
        box.border_title = (f"config: all {len(rows)} fields ({n_diff} differ, bold) · a: only differences"
                            if self.show_all else
                            f"config: {len(rows)} field{'s' if len(rows) != 1 else ''} differ · a: all")
        self.query_one("#diff", Static).update(table if rows else "[dim]the configs are the same[/]")
        self._diff_rows = len(rows) + 1

    def results_of(self, c: Compared) -> tuple[dict[str, Any], bool]:
        """Final results of the chosen view, or the latest evaluation (and False) while unfinished."""
        view = self.run_view(c)
        final = c.live.final(view, c.info.get("results")) if view else None
        if final is not None:
            return final, True
        by_point = c.live.series(view) if view else {}
        if by_point:
            return by_point[max(by_point)], False
        return {}, False

    def best_of(self, c: Compared) -> tuple[str, float | None]:
        view = self.run_view(c)
        best = c.live.best(view) if view else None
        return (point_label(c.live, best[0]), best[1]) if best else ("–", None)

    def render_results(self) -> None:
        colors = self.colors()
        theme = theme_colors(self.app)
        table = Table(box=None, padding=(0, 1), header_style="bold", show_edge=False)
        table.add_column("lang")
        cols = []
        for i, c in enumerate(self.runs):
            values, final = self.results_of(c)
            cols.append(values)
            table.add_column(Text(self.label(c) + ("" if final else " *"), style=f"bold {colors[i % len(colors)]}"),
                             justify="right")
        sources = {c.live.data.get("source") for c in self.runs}
        best_style = f"bold {theme.get('text-success', '')}"

        def add(label: str, cells: list[Any], bold: bool = False, mark_best: bool = True) -> None:
            nums = [v for v in cells if isinstance(v, (int, float))]
            top = max(nums) if nums and mark_best and len(self.runs) > 1 else None
            row = []
            for v in cells:
                text = pct(v) if isinstance(v, (int, float)) or v is None else str(v)
                style = best_style if top is not None and v == top else ("bold" if bold else "")
                row.append(Text(text, style=style))
            table.add_row(Text(label, style="bold" if bold else ("dim" if label in sources else "")), *row)

        for lang in self.languages():
            add(lang + (" src" if lang in sources else ""), [v.get(lang) for v in cols])
        add("mean", [v.get("mean") for v in cols], bold=True)
        bests = [self.best_of(c) for c in self.runs]
        add("best mean", [b[1] for b in bests])
        table.add_row(Text("best at", style="dim"), *[Text(b[0], style="dim") for b in bests])
        box = self.query_one("#results-box")
        view = self.view or "–"
        box.border_title = f"results (%) · {view}" + (" · * latest evaluation, not final" if
                                                        any(not self.results_of(c)[1] for c in self.runs) else "")
        self.query_one("#results", Static).update(table if self.runs else "")

    def render_chart(self) -> None:
        """Each run's evaluations in order. Runs evaluated alike (all by epoch, or all by round)
        share the axis labels; otherwise the axis counts evaluations."""
        series, labels_per_run = [], []
        colors = self.colors()
        for i, c in enumerate(self.runs):
            view = self.run_view(c) if self.view else ""
            by_point = c.live.series(view) if view else {}
            points = sorted(by_point)
            labels_per_run.append(point_labels(points))
            means = c.live.means(view) if view else {}
            values: list[float | None] = []
            for p in points:
                v = means[p] if self.language == MEAN else by_point[p].get(self.language)
                values.append(None if v is None else 100 * v)
            series.append(Series(self.label(c), values, color=colors[i % len(colors)]))
        longest = max(labels_per_run, key=len, default=[])
        same_scheme = all(labels == longest[:len(labels)] for labels in labels_per_run)
        x_labels = longest if same_scheme else [f"#{k + 1}" for k in range(len(longest))]
        self.query_one(LineChart).update(ChartData(x_labels, series, empty_text="no evaluation in these runs yet"))
        what = "mean over target languages" if self.language == MEAN else self.language
        axis = "" if same_scheme else " · by evaluation"
        self.query_one("#compare-chart").border_title = (f"accuracy % · {what} · {self.view or '–'}{axis}  "
                                                         "[dim]l: language  m: model[/]")

    # ----- actions ---------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_all_fields(self) -> None:
        self.show_all = not self.show_all
        self.show_config = True
        self.render_diff()
        self.fit_boxes()

    def action_panel(self) -> None:
        self.show_config = not self.show_config
        self.fit_boxes()

    def action_language(self) -> None:
        options = [MEAN, *self.languages()]
        self.language = options[(options.index(self.language) + 1) % len(options)] if self.language in options else MEAN
        self.render_chart()

    def action_model(self) -> None:
        views = self.views()
        if len(views) < 2:
            self.notify("these runs have one model", timeout=2)
            return
        self.view = views[(views.index(self.view) + 1) % len(views)] if self.view in views else views[0]
        self.render_results()
        self.render_chart()

    def action_export(self) -> None:
        from xlu_tui.screens.dialogs import ExportScreen

        self.app.push_screen(ExportScreen([c.info["id"] for c in self.runs], f"{len(self.runs)} compared runs"))

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Show all config fields" if not self.show_all else "Show only fields that differ",
                            "Toggle the config table (a)", self.action_all_fields)
        yield SystemCommand("Chart: mean over target languages", "Curves of the mean", lambda: self._lang(MEAN))
        for lang in self.languages():
            yield SystemCommand(f"Chart: language {lang}", f"Curves of {lang}", lambda x=lang: self._lang(x))
        for view in self.views():
            yield SystemCommand(f"Model: {view}", "Results and curves of this model", lambda v=view: self._view(v))
        yield SystemCommand("Export these runs", "Results as Markdown, CSV, LaTeX or JSON", self.action_export)
        for c in self.runs:
            yield SystemCommand(f"Open run {self.label(c)}", "Its live view",
                                lambda i=c.info["id"]: self.app.open_run(i))
        yield SystemCommand("Back to runs", "Leave the comparison", self.action_back)

    def _lang(self, lang: str) -> None:
        self.language = lang
        self.render_chart()

    def _view(self, view: str) -> None:
        self.view = view
        self.render_results()
        self.render_chart()
