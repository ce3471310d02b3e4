"""Runs: every run of the folder in one table. Filter as you type, sort, open, start, resume,
clone, stop, delete, mark and compare, export. Running runs update while you look.

A terminal with room for it previews the highlighted run (widgets/preview.py): below the table
when it is tall, beside it when it is wide but short; 80x24 keeps the one-line-a-fact detail."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from xlu_tui.messages import PreviewRead, RunDetails, RunsLoaded
from xlu_tui.format import ACTIVE, duration, langs, parse_iso, pct, state_text, theme_colors, when
from xlu_tui.widgets.preview import PreviewCache, RunPreview, needs_read, read_preview, row_key
from xlu_tui.app import ShowsWorkerErrors


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    drop: int  # columns with a higher number leave first when the terminal is narrow
    width: int  # the most it takes (cell text is cut to this)
    right: bool = False
    sort: Callable[[dict[str, Any]], Any] | None = None


# The name takes what the other columns leave, from NAME_MIN up to its longest (at most NAME_MAX);
# a name cut to fit keeps its start and its end, where runs of one sweep differ.
NAME_MIN, NAME_MAX = 22, 64
NAME_BEATS = 4  # columns dropped for the name to show whole: task, device, id


def fit_middle(text: str, width: int) -> str:
    """`text` in `width` cells, cut in the middle (`demo-fewsho…LA-on-D-only`) when too long."""
    if len(text) <= width:
        return text
    if width < 2:
        return text[:width]
    tail = width // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


def _num(v: Any) -> float:
    return -1.0 if v is None else float(v)


COLUMNS = (
    Column("mark", " ", 0, 1),
    Column("name", "name", 0, NAME_MIN, sort=lambda r: (r.get("name") or "").lower()),
    Column("state", "state", 0, 13, sort=lambda r: r.get("state", "")),
    Column("latest", "mean", 0, 5, True, sort=lambda r: _num(r.get("latest_mean"))),
    Column("best", "best", 1, 5, True, sort=lambda r: _num(r.get("best_mean"))),
    Column("langs", "languages", 1, 14, sort=lambda r: (r.get("source", ""), r.get("targets") or [])),
    Column("round", "round", 2, 5, True, sort=lambda r: (_num(r.get("round")), _num(r.get("rounds")))),
    Column("method", "method", 2, 17, sort=lambda r: r.get("method", "")),  # langadapt+cotrain
    Column("started", "started", 3, 12, sort=lambda r: r.get("started") or r.get("created") or ""),
    Column("task", "task", 4, 8, sort=lambda r: r.get("task", "")),
    Column("device", "device", 4, 8, sort=lambda r: r.get("device") or ""),
    Column("id", "id", 5, 18, sort=lambda r: (r.get("created") or "", r["id"])),  # ids share a minute
)
BY_KEY = {c.key: c for c in COLUMNS}
SORTABLE = [c.key for c in COLUMNS if c.sort]

# Where the preview goes. From the app's -tall breakpoint on there are rows to spare below a table
# of a few runs (the table keeps at least half the height when it has many); a wide but short
# terminal has columns to spare beside it. Below both, the table needs every cell (80x24).
PREVIEW_TALL = 36
PREVIEW_WIDE = 140


def preview_mode(width: int, height: int) -> str:
    """"below", "side" or "" (no preview) for a screen of this size."""
    if height >= PREVIEW_TALL:
        return "below"
    return "side" if width >= PREVIEW_WIDE else ""


def side_width(width: int) -> int:
    """Columns the preview takes beside the table: room for the per-language table and a chart."""
    return max(56, width * 2 // 5)


def damage_lines(r: dict[str, Any], delete: str = "[b]d[/b] deletes it", width: int | None = None) -> list[str]:
    """What is wrong with a damaged run and what to do about it (content markup); `delete` says
    how to delete it from where the lines are shown. With `width`, the sentences are wrapped to
    it (for a place that does not wrap)."""
    import textwrap

    damage = str(r.get("damage") or "a file of its folder cannot be read").strip().rstrip(".")
    recovery = str(r.get("recovery") or "").strip().rstrip(".") or \
        "fix or delete that file, then run xlu-tui runs reindex; or delete the run"
    lines = []
    for prefix, style, text in (("▲ damaged:", "$text-accent", damage), ("to recover:", "dim", recovery)):
        plain = f"{prefix} {text}."
        parts = textwrap.wrap(plain, width, break_on_hyphens=False) if width and width > 20 else [plain]
        first = parts[0]
        lines.append(f"[{style}]{escape(prefix)}[/]{escape(first[len(prefix):])}")
        lines += [escape(p) for p in parts[1:]]
    lines.append(f"{delete} · resume, clone and compare need a readable run")
    return lines


class RunsScreen(ShowsWorkerErrors, Screen):
    HELP = """
## Runs

Every run in the runs folder: running runs on top, then the newest first (queued runs are
the newest). Running runs update live.

- **enter** opens a run (live view, or replay of a finished one); **n** starts a new one
- **r** resumes, **c** clones, **s** stops (**K** kills), **d** deletes (asks first), **e** exports
- **space** marks runs; **v** compares the marked runs
- **/** filters: every word must match a run's name, id, task, method, languages, state or device
- **o** sorts by the next column (**O** reverses); clicking a header sorts by it. Sorted by
  time (the default), running runs stay on top
"""

    HELP_KEYS = [("⏎", "open the run")]  # the table's enter, which opens the highlighted run
    # The footer shows what fits in 80 columns; `?` and the palette list every key.
    BINDINGS = [
        Binding("n", "new", "new"),
        Binding("r", "resume", "resume"),
        Binding("c", "clone", "clone"),
        Binding("s", "stop", "stop"),
        Binding("space", "mark", "mark", key_display="␣"),
        Binding("v", "compare", "compare"),
        Binding("slash", "filter", "filter", key_display="/"),
        Binding("d,delete", "delete", "delete", show=False),
        Binding("e", "export", "export", show=False),
        Binding("o", "sort", "sort by next column", show=False),
        Binding("O", "reverse", "reverse the sort", show=False),
        Binding("K", "kill", "kill", show=False),
        Binding("escape", "clear_filter", "clear filter", show=False),
        Binding("q", "app.quit", "quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.loaded = False
        self.error: str | None = None
        self.marked: list[str] = []
        self.sort_key = "id"
        self.sort_reverse = True
        self.columns: list[Column] = []
        self.widths: dict[str, int] = {}  # the width each shown column has
        self._keys_state: str | None = None  # the highlighted run's state the footer was checked for
        self._shown: list[tuple[Any, ...]] = []
        self.mode = ""  # where the preview is: "below", "side", or "" (none)
        self.previews = PreviewCache()
        self.preview_id: str | None = None  # the run the preview shows, once read (tests wait on it)
        self.recoveries: dict[str, str] = {}  # damaged run -> the store's recovery sentence ("" while read)

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="title-bar")
        yield Input(placeholder="/ filter: name, id, method, language, state…", id="filter")
        with Container(id="runs-body"):
            table: DataTable = DataTable(id="runs", cursor_type="row", zebra_stripes=True)
            yield table
            yield RunPreview(id="run-preview")
            yield Static(id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).focus()
        self.place_preview()
        self._update_title()
        self.load()
        self.set_interval(self.app.list_interval, self._tick)
        # colours of states come from the theme: redraw when it changes
        self.watch(self.app, "theme", lambda _: self.call_after_refresh(self._recolour), init=False)

    def _recolour(self) -> None:
        if self.loaded:
            self.refresh_table(force=True)

    def on_screen_resume(self) -> None:
        self.load()

    def _tick(self) -> None:
        if self.app.screen is self:
            self.load()

    # ----- reading (thread) -------------------------------------------------------------
    @work(thread=True, exclusive=True, group="runs-list", name="listing the runs", exit_on_error=False)
    def load(self) -> None:
        try:
            rows = self.app.store.list_runs()
            self.post_message(RunsLoaded(rows))
        except Exception as err:  # noqa: BLE001 - a broken folder is shown, never a crash
            self.post_message(RunsLoaded([], error=f"{type(err).__name__}: {err}"))

    def on_runs_loaded(self, msg: RunsLoaded) -> None:
        first = not self.loaded
        self.loaded = True
        self.error = msg.error
        self.rows = msg.rows
        ids = {r["id"] for r in self.rows}
        self.marked = [m for m in self.marked if m in ids]
        self.refresh_table(force=first)

    def action_done(self, msg: Any) -> None:
        self.load()

    # ----- the table ----------------------------------------------------------------------
    def on_resize(self) -> None:
        self.place_preview()
        if self.loaded:
            self.refresh_table(force=True)

    def place_preview(self) -> None:
        """Show the preview where the terminal has room for it, or the detail lines where not."""
        width, height = self.size
        self.mode = preview_mode(width, height)
        body = self.query_one("#runs-body")
        body.set_class(self.mode == "below", "-below")
        body.set_class(self.mode == "side", "-side")
        preview = self.query_one(RunPreview)
        preview.display = bool(self.mode)
        preview.styles.width = side_width(width) if self.mode == "side" else None
        self.query_one("#detail").display = not self.mode

    def table_width(self) -> int:
        width = max(self.size.width, 40)
        return width - side_width(width) if self.mode == "side" else width

    def pick_columns(self, width: int) -> list[Column]:
        """The columns that fit in `width`, the least important leaving first; sets `self.widths`.
        The name needs NAME_MIN to stay, and takes what the others leave, up to its longest."""
        cols = list(COLUMNS)
        widths = {c.key: min(c.width, self._content_width(c)) for c in cols}
        name_full = min(self._content_width(BY_KEY["name"]), NAME_MAX)
        need = lambda cs: sum(widths[c.key] + 2 for c in cs) + 2  # noqa: E731
        while need(cols) > width:
            worst = max(cols, key=lambda c: (c.drop, COLUMNS.index(c)))
            if worst.drop == 0:
                break
            cols.remove(worst)
        # a whole name reads better than the task, device and id (the preview and detail say them)
        while widths["name"] + width - need(cols) < name_full:
            extra = [c for c in cols if c.drop >= NAME_BEATS]
            if not extra:
                break
            cols.remove(max(extra, key=lambda c: (c.drop, COLUMNS.index(c))))
        spare = max(width - need(cols), 0)
        widths["name"] = max(widths["name"], min(name_full, widths["name"] + spare))
        self.widths = widths
        return cols

    def _content_width(self, col: Column) -> int:
        widths = [len(col.label) + 2]  # room for the sort arrow
        for r in self.rows[:200]:
            widths.append(len(self.cell_text(col.key, r)))
        return max(widths)

    def visible_rows(self) -> list[dict[str, Any]]:
        words = self.query_one("#filter", Input).value.lower().split()
        rows = [r for r in self.rows if all(w in self.haystack(r) for w in words)]
        col = BY_KEY.get(self.sort_key)
        if col and col.sort:
            rows.sort(key=lambda r: (col.sort(r), r["id"]), reverse=self.sort_reverse)
        if self.sort_key == "id":
            # by time, running runs stay on top: a queue of new runs does not push them out of sight
            rows.sort(key=lambda r: r.get("state") != "running")
        return rows

    def haystack(self, r: dict[str, Any]) -> str:
        return " ".join(str(x) for x in (r.get("name"), r["id"], r.get("task"), r.get("method"),
                                         r.get("source"), " ".join(r.get("targets") or []), r.get("state"),
                                         r.get("device"), r.get("preset"))).lower()

    def cell_text(self, key: str, r: dict[str, Any]) -> str:
        if key == "mark":
            return "◆" if r["id"] in self.marked else " "
        if key == "name":  # a damaged run whose config cannot be read has no name: its id says which
            return r.get("name") or (r["id"] if r.get("state") == "damaged" else "")
        if key == "state":
            return f"x {r.get('state', '')}"
        if key == "latest":
            return pct(r.get("latest_mean"), "")
        if key == "best":
            return pct(r.get("best_mean"), "")
        if key == "langs":
            if not r.get("source") and not r.get("targets"):
                return ""
            return langs(r.get("source", ""), r.get("targets") or [])
        if key == "round":
            return f"{r['round']}/{r['rounds']}" if r.get("rounds") else ""
        if key == "method":
            return r.get("method", "")
        if key == "started":
            return when(r.get("started") or r.get("created"), self.app.clock())
        if key == "task":
            return r.get("task", "")
        if key == "device":
            return r.get("device") or ""
        if key == "id":
            return r["id"]
        return ""

    def cell(self, col: Column, r: dict[str, Any]) -> Any:
        theme = theme_colors(self.app)
        if col.key == "state":
            return state_text(r.get("state", ""), theme)
        text = self.cell_text(col.key, r)
        width = self.widths.get(col.key, col.width)
        if col.key == "name":
            text = fit_middle(text, width)
        elif len(text) > width:
            text = text[: width - 1] + "…"
        if col.key == "mark":
            return Text(text, style=f"bold {theme.get('text-accent', '')}")
        if col.key == "latest" and r.get("state") in ACTIVE:
            return Text(text, style="bold", justify="right")
        return Text(text, justify="right" if col.right else "left")

    def refresh_table(self, force: bool = False) -> None:
        table = self.query_one("#runs", DataTable)
        rows = self.visible_rows()
        columns = self.pick_columns(self.table_width())
        shown = [tuple(self.cell_text(c.key, r) for c in columns) + (r["id"],) for r in rows]
        shown.append(tuple(self.widths.get(c.key, 0) for c in columns))
        same_columns = [c.key for c in columns] == [c.key for c in self.columns]
        if not force and same_columns and shown == self._shown:
            self.show_detail()
            return
        current = self.current_id()
        table.clear(columns=True)
        self.columns = columns
        keys = [c.key for c in columns]
        # ids sort by creation, as `started` does: the arrow goes on `started` when it is shown
        arrow_on = "started" if self.sort_key == "id" and "started" in keys else self.sort_key
        for c in columns:
            label = c.label
            if c.key == arrow_on:
                label += " ▼" if self.sort_reverse else " ▲"
            table.add_column(Text(label, justify="right" if c.right else "left"), key=c.key,
                             width=self.widths[c.key])
        for r in rows:
            table.add_row(*[self.cell(c, r) for c in columns], key=r["id"])
        self._shown = shown
        if current is not None and current in [r["id"] for r in rows]:
            table.move_cursor(row=table.get_row_index(current), animate=False)
        self._update_title()
        self.show_detail()

    def current_id(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None

    def current_row(self) -> dict[str, Any] | None:
        rid = self.current_id()
        return next((r for r in self.rows if r["id"] == rid), None)

    def _update_title(self) -> None:
        n = len(self.rows)
        running = sum(1 for r in self.rows if r.get("state") == "running")
        queued = sum(1 for r in self.rows if r.get("state") == "queued")
        parts = [f"[b]xlu-tui[/b]  runs in {escape(self.app.runs_label)}"]
        counts = f"{n} run{'s' if n != 1 else ''}"
        if running:
            counts += f" · [$text-success]{running} running[/]"
        if queued:
            counts += f" · [$text-warning]{queued} queued[/]"
        if self.marked:
            counts += f" · [$text-accent]{len(self.marked)} marked[/]"
        self.query_one("#title", Static).update(f"{parts[0]}  [dim]│[/]  {counts}")

    @on(DataTable.RowHighlighted)
    def show_detail(self) -> None:
        r = self.current_row()
        state = r.get("state", "") if r else ""
        if state != self._keys_state:  # the footer offers stop for a running or queued run only
            self._keys_state = state
            self.refresh_bindings()
        text = self.detail_text()
        if not self.mode:
            self.query_one("#detail", Static).update(text)
            return
        preview = self.query_one(RunPreview)
        preview.show_head(text)
        r = self.current_row()
        if r is None:
            preview.show_run(None, None)
            return
        entry = self.previews.get(r["id"])
        self.draw_preview(r)  # at once from what was read before; the read below brings the rest
        # (the row's state is recorded when a read is folded, not when asked for: a read cancelled
        # by a move of the highlight is asked for again when the highlight comes back)
        if needs_read(entry, r):
            self.read_preview(r["id"], entry.offset if entry else 0, entry is None or entry.config is None)

    def detail_text(self) -> str:
        """What is said of the highlighted run (or of the folder, when there is no run to show)."""
        r = self.current_row()
        if self.error:
            return f"[$text-error]cannot read the runs folder:[/] {self.error}"
        if not self.rows and self.loaded:
            return (f"No runs in {escape(self.app.runs_label)} yet.\nPress [b]n[/b] to start one: the preset "
                    "demo-finetune needs no network.")
        if r is None:
            return "[dim]no run matches the filter (esc clears it)[/]" if self.rows else ""
        # the preview shows the config and results in full; its head keeps what the table cannot say
        return self.detail_markup(r, brief=bool(self.mode))

    def draw_preview(self, r: dict[str, Any]) -> None:
        entry = self.previews.get(r["id"])
        self.query_one(RunPreview).show_run(r, entry)
        if entry is not None and entry.read:
            self.preview_id = r["id"]

    # ----- the preview's reading (thread) ------------------------------------------------------
    @work(thread=True, exclusive=True, group="preview", name="reading the preview", exit_on_error=False)
    def read_preview(self, run_id: str, start: int, need_config: bool) -> None:
        msg = read_preview(self.app.store, run_id, start, need_config)
        if not get_current_worker().is_cancelled:  # the highlight moved on: a newer read follows
            self.post_message(msg)

    @work(thread=True, group="recovery", name="reading how to recover the run", exit_on_error=False)
    def read_recovery(self, run_id: str) -> None:
        try:
            info = self.app.store.show(run_id)
        except Exception:  # noqa: BLE001 - deleted meanwhile: the generic advice stays
            return
        self.post_message(RunDetails(run_id, info))

    def on_run_details(self, msg: RunDetails) -> None:
        if msg.info is not None and msg.info.get("recovery"):
            self.recoveries[msg.run_id] = str(msg.info["recovery"])
            if self.current_id() == msg.run_id:
                self.show_detail()

    def on_preview_read(self, msg: PreviewRead) -> None:
        entry = self.previews.apply(msg)
        if entry is None:
            return
        r = self.current_row()
        if r is not None and r["id"] == msg.run_id:
            entry.row_key = row_key(r)
            self.draw_preview(r)

    def detail_markup(self, r: dict[str, Any], brief: bool = False) -> str:
        state = r.get("state", "")
        now = self.app.clock()
        started, ended = parse_iso(r.get("started")), parse_iso(r.get("ended"))
        took = ""
        if started and ended:
            took = f" · took {duration(ended - started)}"
        elif started and state == "running":
            took = f" · running for {duration(now - started)}"
        targets = ", ".join(r.get("targets") or []) or "all"
        lines = [
            f"[b]{escape(r.get('name') or '')}[/b]  [dim]{r['id']}[/]  {self._state_markup(state)}"
            f"  [dim]{escape(r.get('device') or '')}{took}[/]",
        ]
        if not brief and (r.get("task") or r.get("source")):
            lines.append(f"{escape(r.get('task', ''))} {escape(r.get('source', ''))} → {escape(targets)}   "
                         f"method [b]{escape(r.get('method', ''))}[/b]   seed {r.get('seed')}")
        err = r.get("error")
        if state == "damaged":
            # the store's recovery sentence comes with show(): read once, in a thread
            recovery = self.recoveries.get(r["id"])
            if recovery is None:
                self.recoveries[r["id"]] = ""
                self.read_recovery(r["id"])
            lines += damage_lines({**r, "recovery": r.get("recovery") or recovery},
                                  width=None if self.mode else max(self.size.width - 2, 40))
            return "\n".join(lines)
        if state == "failed" and err:
            lines.append(f"[$text-error]✗ {escape(str(err.get('class')))}: {escape(str(err.get('message')))}[/]")
            lines.append(f"[dim]hint:[/] {escape(str(err.get('hint')))}")
            lines.append("[b]r[/b] resume · [b]c[/b] clone · [b]enter[/b] the whole story")
        elif state in ("stopped", "interrupted"):
            lines.append(f"[$text-warning]{state}[/]: resumes from its last checkpoint · "
                         "[b]r[/b] resume · [b]c[/b] clone")
        if brief:
            return "\n".join(lines)
        results = r.get("results") or {}
        for model, values in list(results.items())[:2]:
            if isinstance(values, dict):
                cells = "  ".join(f"{k} {pct(v)}" for k, v in values.items() if k != "mean")
                lines.append(f"{escape(model)}: {cells}  [b]mean {pct(values.get('mean'))}[/b]")
        return "\n".join(lines)

    @staticmethod
    def _state_markup(state: str) -> str:
        from xlu_tui.format import state_markup

        return state_markup(state)

    # ----- filter and sort -----------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one("#runs", DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.query_one("#runs", DataTable).focus()

    def action_sort(self) -> None:
        keys = [c.key for c in self.columns if c.key in SORTABLE]
        cur = "started" if self.sort_key == "id" else self.sort_key
        nxt = keys[(keys.index(cur) + 1) % len(keys)] if cur in keys else keys[0]
        self.sort_by(nxt)

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if key == "started":
            key = "id"  # ids sort by creation time, and every run has one
        self.sort_key = key
        # numbers and times read best high-to-low; names low-to-high
        self.sort_reverse = (key in ("id", "latest", "best", "round")) if reverse is None else reverse
        self.refresh_table(force=True)

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.refresh_table(force=True)

    @on(DataTable.HeaderSelected)
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == "mark":
            return
        same = key == self.sort_key or (key == "started" and self.sort_key == "id")
        if same:
            self.action_reverse()
        else:
            self.sort_by(key)

    # ----- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("stop", "kill"):
            r = self.current_row()
            return r is None or r.get("state") in ACTIVE
        return True

    def _need_run(self) -> dict[str, Any] | None:
        r = self.current_row()
        if r is None:
            self.notify("no run selected", severity="warning")
        return r

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        r = self._need_run()
        if r:
            self.app.open_run(r["id"])

    def action_new(self) -> None:
        self.app.new_run()

    def action_clone(self) -> None:
        r = self._need_run()
        if r and not self.app.refuse_damaged(r, "cloned"):
            self.app.new_run(clone_of=r["id"])

    def action_resume(self) -> None:
        r = self._need_run()
        if r and not self.app.refuse_damaged(r, "resumed"):
            self.app.resume_run(r["id"])

    def action_stop(self) -> None:
        r = self._need_run()
        if r:
            self.app.stop_run(r["id"])

    def action_kill(self) -> None:
        r = self._need_run()
        if r:
            self.app.stop_run(r["id"], kill=True)

    def action_delete(self) -> None:
        r = self._need_run()
        if r:
            self.app.delete_run(r["id"], r.get("name", ""))

    def action_mark(self) -> None:
        r = self._need_run()
        if not r:
            return
        if r["id"] in self.marked:
            self.marked.remove(r["id"])
        else:
            self.marked.append(r["id"])
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        self.refresh_table(force=True)
        if row + 1 < table.row_count:
            table.move_cursor(row=row + 1, animate=False)

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.notify("mark two or more runs with space, then press v", severity="warning")
            return
        by_id = {r["id"]: r for r in self.rows}
        for rid in self.marked:
            if rid in by_id and self.app.refuse_damaged(by_id[rid], "compared", "; unmark it (space) to compare the others"):
                return
        order = {r["id"]: i for i, r in enumerate(self.visible_rows())}
        self.app.compare_runs(sorted(self.marked, key=lambda i: order.get(i, len(order))))

    def action_export(self) -> None:
        from xlu_tui.screens.dialogs import ExportScreen

        if self.marked:
            ids, what = list(self.marked), f"{len(self.marked)} marked run(s)"
        else:
            ids = [r["id"] for r in self.visible_rows() if r.get("state") == "finished"]
            what = f"every finished run shown ({len(ids)})"
        if not ids:
            self.notify("no finished run to export; mark runs with space", severity="warning")
            return
        self.app.push_screen(ExportScreen(ids, what))

    # ----- palette -----------------------------------------------------------------------------
    def commands(self) -> Iterable[SystemCommand]:
        r = self.current_row()
        name = f" {r.get('name') or r['id']}" if r else ""
        yield SystemCommand("New run", "Pick a task, languages, method and preset; launch", self.action_new)
        damaged = bool(r) and r.get("state") == "damaged"
        if r:
            yield SystemCommand(f"Open run{name}", "What is wrong with it and how to recover" if damaged
                                else "Live view of the highlighted run", self.action_open)
        if r and not damaged:
            yield SystemCommand(f"Clone run{name}", "A new run from its config, to change", self.action_clone)
        if r:
            if r.get("state") in ("failed", "stopped", "interrupted"):
                yield SystemCommand(f"Resume run{name}", "Continue from its last checkpoint", self.action_resume)
            if r.get("state") in ("running", "queued"):
                yield SystemCommand(f"Stop run{name}", "Stop after the current step (resumable)", self.action_stop)
                yield SystemCommand(f"Kill run{name}", "Kill at once (resumes from the last checkpoint)",
                                    self.action_kill)
            else:
                yield SystemCommand(f"Delete run{name}", "Delete its folder and history entry (asks first)",
                                    self.action_delete)
            yield SystemCommand(f"Mark run{name}", "Mark or unmark it for compare and export", self.action_mark)
        if len(self.marked) >= 2:
            yield SystemCommand("Compare marked runs", "Config differences, results and curves side by side",
                                self.action_compare)
        yield SystemCommand("Export results", "Results as Markdown, CSV, LaTeX or JSON", self.action_export)
        yield SystemCommand("Filter runs", "Type to keep the runs that match", self.action_filter)
        for c in self.columns:
            if c.key in SORTABLE and c.key != "mark":
                yield SystemCommand(f"Sort by {c.label}", "Order the table by this column",
                                    lambda k=c.key: self.sort_by(k))
