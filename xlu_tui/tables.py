"""What the live screen's panels show, as Rich Text built from a folded run (`LiveRun`).

Pure functions of the run and the theme's colours, so the screen only decides when to redraw.
Tables are laid out here as plain aligned text: a Rich Table is measured and rendered again
on every repaint, which costs more than the rest of the screen under a stream of events.
"""
from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text

from engine.live import LiveRun
from engine.methods import find_method_info

from xlu_tui.widgets.chart import ChartData, Series
from xlu_tui.format import delta, number, pct, point_labels, round_label, short
from xlu_tui.widgets.progress import sparkline

class TextTable:
    """Columns of text separated by one space, a bold header, an optional caption."""

    def __init__(self, caption: str | None = None, caption_style: str = "", title: str | None = None,
                 **_: Any) -> None:
        self.columns: list[tuple[str, str, str]] = []  # header, justify, style
        self.rows: list[list[Text]] = []
        self.caption, self.caption_style, self.title = caption, caption_style, title

    def add_column(self, header: Any, justify: str = "left", style: str = "", **_: Any) -> None:
        self.columns.append((str(header), justify, style))

    def add_row(self, *cells: Any, **_: Any) -> None:
        row = []
        for (_, _, style), cell in zip(self.columns, cells):
            text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
            if style and not text.style:
                text.stylize(style)
            row.append(text)
        self.rows.append(row)

    def render(self) -> Text:
        widths = [max([len(h)] + [r[i].cell_len for r in self.rows]) for i, (h, _, _) in enumerate(self.columns)]
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.title:
            out.append(self.title + "\n", style="dim")

        def line(cells: list[Text]) -> None:
            for i, (cell, width, (_, justify, _)) in enumerate(zip(cells, widths, self.columns)):
                pad = " " * (width - cell.cell_len)
                if i:
                    out.append(" ")
                if justify == "right":
                    out.append(pad)
                    out.append_text(cell)
                else:
                    out.append_text(cell)
                    if i < len(cells) - 1:
                        out.append(pad)
            out.append("\n")

        line([Text(h, style="bold") for h, _, _ in self.columns])
        for row in self.rows:
            line(row)
        if self.caption:
            out.append(self.caption, style=self.caption_style or "dim")
        else:
            out.rstrip()
        return out


def point_label(live: LiveRun, point: tuple[int, int]) -> str:
    """An evaluation point as the run's chart labels it (`r2`, `e3`)."""
    points = live.evaluation_points()
    return dict(zip(points, point_labels(points))).get(point, "?")


def best_markup(live: LiveRun, view: str) -> str:
    """`best mean 61.2 at r2` for a view of the run (empty before an evaluation)."""
    best = live.best(view) if view else None
    return f"best mean {pct(best[1])} at {point_label(live, best[0])}" if best else ""


def chart_data(live: LiveRun, view: str) -> ChartData:
    points = live.evaluation_points()
    by_point = live.series(view) if view else {}
    series = []
    for lang in live.languages():
        series.append(Series(lang, [_pct(by_point.get(p, {}).get(lang)) for p in points]))
    means = live.means(view) if view else {}
    if points:
        series.append(Series("mean", [_pct(means.get(p)) for p in points], bold=True))
    return ChartData(x_labels=point_labels(points), series=series, title="",
                     empty_text="no evaluation yet: the chart fills in as the run evaluates")


def _pct(v: Any) -> float | None:
    return None if v is None else 100 * float(v)


def lang_table(live: LiveRun, view: str, theme: dict[str, str], rounds: int | None = None) -> Text:
    """Per language: zero-shot (the model trained on the source alone: the end of the first
    round), latest, best, and the change from zero-shot. A run of one round (fine-tuning) is
    zero-shot throughout; there the change is from its first evaluation."""
    by_point = live.series(view)
    points = sorted(by_point)
    if not points:
        return Text("no evaluation yet", style=theme.get("foreground-muted", "dim"))
    single = live.single_round(view, rounds)
    zero = live.zero_shot_point(view, rounds)
    latest = points[-1]
    source = live.data.get("source")
    table = TextTable(
        caption="* source: not in the mean" if source in live.languages() else None,
        caption_style=theme.get("foreground-muted", "dim"))
    table.add_column("lang")
    table.add_column("first" if single else "0-shot", justify="right")
    table.add_column("latest", justify="right")
    table.add_column("best", justify="right")
    table.add_column("Δ", justify="right")
    up, down = theme.get("text-success", "green"), theme.get("text-error", "red")

    def row(label: str, z: Any, last: Any, best: Any, style: str = "") -> None:
        d = delta(last, z)
        dstyle = up if d.startswith("+") else down if d.startswith("-") else ""
        table.add_row(Text(label, style=style), pct(z), Text(pct(last), style=style), pct(best),
                      Text(d, style=dstyle))

    for lang in live.languages():
        vals = [by_point[p].get(lang) for p in points if by_point[p].get(lang) is not None]
        row(lang + ("*" if lang == source else ""), by_point[zero].get(lang), by_point[latest].get(lang),
            max(vals) if vals else None, style="dim" if lang == source else "")

    means = live.means(view)
    best = live.best(view)
    table.add_row(Text("mean", style="bold"), pct(means[zero]), Text(pct(means[latest]), style="bold"),
                  pct(best[1] if best else None), Text(delta(means[latest], means[zero]), style="bold"),
                  end_section=False)
    return table.render()


def _short_count(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = float(v)
        if abs(v) >= 1e6:
            return f"{v / 1e6:.1f}M"
        if abs(v) >= 1e4:
            return f"{v / 1e3:.0f}k"
        return f"{v:,.0f}"
    return "–" if v is None else str(v)


def _rounds_that_fit(n: int, width: int, label_w: int, col_w: int = 7) -> int:
    """How many of the latest rounds fit beside the row labels (all, when the width is unknown)."""
    if width <= 0:
        return n
    return max(1, min(n, (width - label_w) // col_w))


def pools_table(live: LiveRun, theme: dict[str, str], width: int = 0) -> Text:
    """Pool and set sizes of each model (rows: `U_a`, `S_b`, ...) per round (columns, the latest
    that fit)."""
    if not live.pools:
        # short lines: beside the log, an empty panel takes no more width than its text
        return Text("no pools yet:\nthey appear once\nround 1 has\npseudo-labelled",
                    style=theme.get("foreground-muted", "dim"))
    models = live.pool_models()
    rows = [(f"{name}_{m}", name, m) for name in live.pool_sets() for m in models
            if any(name in (by.get(m) or {}) for by in live.pools.values())]
    rounds = sorted(live.pools)
    label_w = max([len(k) for k, _, _ in rows] + [5]) + 1
    rounds = rounds[-_rounds_that_fit(len(rounds), width, label_w):]
    table = TextTable()
    table.add_column("round", style="bold")
    for r in rounds:
        table.add_column(round_label(r), justify="right")
    for label, name, m in rows:
        table.add_row(label, *[_short_count((live.pools[r].get(m) or {}).get(name)) for r in rounds])
    return table.render()


def agreement_table(live: LiveRun, theme: dict[str, str], width: int = 0) -> Text:
    """Agreement rate (%) of each model pair, overall and per language (rows), per round
    (columns), then the precision of each model's pseudo-labels where gold labels are known (a
    method with one view, like self-training, has only the precision)."""
    pairs = live.pairs()
    prec_models = [m for m in live.pool_models() if any(live.precision(r, m) is not None for r in live.pools)]
    measured = {r for r in live.pools if any(live.precision(r, m) is not None for m in prec_models)}
    shown = set(live.agreement) | measured
    if not shown:
        return Text("no agreement yet:\nmeasured once\nround 1 has\nlabelled the pool",
                    style=theme.get("foreground-muted", "dim"))
    langs: list[str] = []
    for by_pair in live.agreement.values():
        for a in by_pair.values():
            langs += [x for x in (a.get("by_lang") or {}) if x not in langs]
    rounds = sorted(shown)
    rounds = rounds[-_rounds_that_fit(len(rounds), width, max([len(x) for x in langs] + [10]) + 1):]
    caption = [f"% of U where {' and '.join(map(str, pair))} agree" for pair in pairs]
    if prec_models:
        caption.append("prec: % of pseudo-labels right")
    table = TextTable(caption="\n".join(caption) or None, caption_style=theme.get("foreground-muted", "dim"))
    table.add_column("round", style="bold")
    for r in rounds:
        table.add_column(round_label(r), justify="right")
    for pair in pairs:
        def cell(r: int, pair: tuple[str, ...] = pair) -> dict[str, Any]:
            return live.agreement.get(r, {}).get(pair) or {}

        # one pair: its rows are `all` and the languages; several: each pair's rows say which
        name = "all" if len(pairs) == 1 else "/".join(pair)
        prefix = "" if len(pairs) == 1 else "  "
        table.add_row(Text(name, style="bold"), *[Text(pct(cell(r).get("rate")), style="bold") for r in rounds])
        for x in langs:
            table.add_row(prefix + x, *[pct((cell(r).get("by_lang") or {}).get(x)) for r in rounds])
    for m in prec_models:
        table.add_row(Text(f"prec S_{m}", style=theme.get("text-primary", "")),
                      *[pct(live.precision(r, m)) for r in rounds])
    return table.render()


def losses_table(history: dict[tuple[str, str], Any], progress: dict[str, Any], theme: dict[str, str],
                 width: int = 0) -> Text:
    """Every loss term that has arrived, per model: its latest value and its history.

    Methods name their own terms (ce, la, sa, ...) and the panel shows whatever comes; a term the
    step being trained no longer reports (the other model's, or an earlier stage's) is dimmed, so
    the rows in full colour are the ones moving now."""
    if not history:
        return Text("no training step yet", style=theme.get("foreground-muted", "dim"))
    models = list(dict.fromkeys(model for model, _ in history))
    # a model's terms together
    rows = sorted(((k, list(v)) for k, v in history.items()), key=lambda kv: models.index(kv[0][0]))
    # the sparkline takes what the model, term and value columns leave
    used = ((max(map(len, models + ["model"])) + 1) if len(models) > 1 else 0) \
        + max([len(n) for _, n in history] + [len("term")]) + 1 + len("0.03658") + 1
    spark_width = max(6, width - used) if width else 24
    now_model, now_terms = str(progress.get("model") or ""), set(progress.get("losses") or {})
    muted = theme.get("foreground-muted", "dim")
    # the rates are not loss terms: a line of their own under the table
    rates = [f"lr {progress['lr']:.2e}" if progress.get("lr") is not None else "",
             f"{progress['samples_per_s']:.0f} samples/s" if progress.get("samples_per_s") else ""]
    table = TextTable(caption=" · ".join(filter(None, rates)) or None, caption_style=muted)
    if len(models) > 1:
        table.add_column("model")
    table.add_column("term")
    table.add_column("now", justify="right")
    table.add_column("history")
    shown_model = None
    for (model, name), values in rows:
        current = model == now_model and name in now_terms
        style = "" if current else muted
        cells = [Text(escape(name), style=style), Text(loss_value(values[-1]) if values else "–", style=style),
                 Text(sparkline(values, spark_width), style=theme.get("text-primary", "") if current else muted)]
        if len(models) > 1:
            cells.insert(0, Text(model if model != shown_model else "", style="bold" if model == now_model else muted))
            shown_model = model
        table.add_row(*cells)
    return table.render()


def loss_value(v: Any) -> str:
    """A loss with 4 significant digits, trailing zeros kept so a column reads alike: 0.3390,
    0.3265, 0.03658, 2.500."""
    try:
        text = f"{float(v):#.4g}"
    except (TypeError, ValueError):
        return "–" if v is None else str(v)
    return text.rstrip(".") if "e" not in text else text


def run_facts(live: LiveRun, config: dict[str, Any], status: dict[str, Any]) -> str:
    """Content markup: the data and settings behind the numbers (fills a tall side panel)."""
    lines = []
    sizes = live.data.get("sizes") or {}
    if sizes:
        test = sizes.get("test") or {}
        lines.append(f"[b]data[/b]  |D| {number(sizes.get('D'))} · |U| {number(sizes.get('U'))}"
                     + (f" · |Dbi| {number(sizes.get('Dbi'))}" if sizes.get("Dbi") else ""))
        lines.append(f"      test {' · '.join(f'{k} {v}' for k, v in test.items())}")
    task, models = config.get("task") or {}, config.get("models") or {}
    train, method = config.get("train") or {}, config.get("method") or {}
    if config:
        lines.append(f"[b]task[/b]  {escape(str(task.get('name', '')))} {escape(str(task.get('source_lang', '')))} → "
                     f"{escape(', '.join(task.get('target_langs') or []) or 'all')}")
        # as a person reads them: 1/3 as 0.3333, booleans as TOML writes them
        params = " ".join(f"{k}={number(v) if isinstance(v, float) else short(v)}" for k, v in method.items()
                          if k != "name")
        lines.append(f"[b]method[/b]  {escape(str(method.get('name', '')))}  [dim]{escape(params)}[/]")
        # the models the method declares, each with the spec the config gives its role
        info = find_method_info(method.get("name"))
        roles = list(info.models) if info else live.models()
        lines.append("[b]models[/b]  " + " · ".join(
            escape(f"{role} {models[role]}" if isinstance(models.get(role), str) else role) for role in roles))
        lines.append(f"[b]train[/b]  {train.get('epochs')} epochs · batch {train.get('batch_size')} · "
                     f"lr {train.get('lr')} · max_length {train.get('max_length')} · seed {config.get('seed')}")
    return "\n".join(lines)
