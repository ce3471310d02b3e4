"""New run: a form over the engine's RunConfig, validated as you type with the engine's messages.

The fields and their controls come from `xlu_tui.widgets.config_form` (the config's models and
the chosen method's declared parameters); this screen lays them out, fills them from a preset or
a run (a clone marks what changed), and shows the size of the work before launching
(`engine.estimate`).
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any, Iterable

from rich.markup import escape
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Select, SelectionList, Static
from textual.worker import get_current_worker

from engine.config import ConfigError, RunConfig, drop_path, get_path, preset_data, preset_names, set_path, validate
from engine.estimate import method_rounds, throughput_estimate
from engine.methods import method_names
from engine.tasks import get_task

from xlu_tui.app import ShowsWorkerErrors
from xlu_tui.format import duration, short
from xlu_tui.messages import EstimateReady, PresetRead, RunDetails
from xlu_tui.widgets.config_form import (OMIT, ONLY_FOR_TASK, TOP_FIELDS, FieldRow, FieldSpec, base_specs, control_for,
                                         field_of_error, method_specs, read_control, same_value, target_options,
                                         task_sources)
from xlu_tui.widgets.method_help import ParamHelp, about_markup

NO_PRESET = "(defaults)"
DEFAULT_PRESET = "demo-finetune"  # what a new run starts from
ESTIMATE_DELAY = 0.4  # seconds of no typing before the data is sized
_SIZES: dict[str, dict[str, Any]] = {}  # task settings and seed -> set sizes (the data never changes)


class NewRunScreen(ShowsWorkerErrors, Screen):
    HELP = """
## New run

Every field is the engine's config; its help is the field's own description. The form is
checked as you type with the engine's messages. **ctrl+r** launches, **ctrl+s** saves the
config as TOML (run it later with `xlu-tui run FILE`).

A clone starts from the run's config; **●** marks what you changed.
"""

    BINDINGS = [
        Binding("ctrl+r", "launch", "launch", priority=True),
        Binding("ctrl+s", "save", "save TOML", priority=True),
        Binding("escape", "back", "back"),
        Binding("ctrl+z", "reset", "reset", show=False),
    ]

    def __init__(self, clone_of: str | None = None, preset: str | None = None) -> None:
        super().__init__()
        self.clone_of = clone_of
        self.clone_name = ""
        self.start_preset = preset
        self.base: dict[str, Any] = {}
        self.base_label = ""
        self.specs: list[FieldSpec] = base_specs()
        self.method_fields: list[FieldSpec] = []
        self.task_shown = ""
        self.method_shown = ""
        self.preset_shown = ""
        self.source_shown = ""
        self.config: RunConfig | None = None
        self.error: str | None = None
        self.ready = False
        self._check_pending = False
        self.estimate_key = ""
        self.estimate: EstimateReady | None = None
        self._estimate_timer: Any = None
        self._shown_text: dict[str, str] = {}
        self._changes_rows = -1
        self.preset_descriptions: dict[str, str] = {}
        self._rows: dict[str, FieldRow] = {}

    # ----- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("New run", id="new-title", classes="title-bar")
        with Horizontal(id="new-body"):
            yield VerticalScroll(Static("reading…", classes="muted"), id="form")
            with Vertical(id="side"):
                yield Static(id="validity")
                yield Static(id="estimate")
                # preset and method described, with each parameter's help (tall terminals)
                with VerticalScroll(id="about-box"):
                    yield Static(id="about")
                yield Static(id="changes")
                with Horizontal(id="side-buttons"):
                    yield Button("launch ^r", id="launch", variant="success", compact=True)
                    yield Button("save TOML ^s", id="save", compact=True)
        yield Static(id="field-help-line")
        yield Footer(compact=True)

    def form_widgets(self, data: dict[str, Any], preset: str) -> list[Widget]:
        """Every section and field, each control holding its value from `data` from the start
        (filling a built form would restyle it field by field). Sections are boxes, so a wide
        terminal lays them out in two columns."""
        task = get_path(data, "task.name", "topics")
        method = get_path(data, "method.name", "finetune")

        def section(title: str, rows: list[Widget]) -> Vertical:
            box = Vertical(*rows, classes="section")
            box.border_title = title
            return box

        def rows_of(wanted: Any) -> list[Widget]:
            out = []
            for spec in self.specs:
                if wanted(spec.path):
                    row = self.make_row(spec, get_path(data, spec.path, spec.default), data)
                    if spec.path in ONLY_FOR_TASK:
                        row.display = task in ONLY_FOR_TASK[spec.path]
                    out.append(row)
            return out

        names = list(self.preset_descriptions) or preset_names()
        preset_row = self.make_row(FieldSpec("preset", "choice", "the demo, or a paper's setting: fills the form",
                                             NO_PRESET, False, (NO_PRESET, *names)), preset)
        method_row = self.make_row(FieldSpec("method.name", "choice", "the adaptation method", "finetune", False,
                                             tuple(method_names())), method)
        self.method_fields = method_specs(method)
        params = data.get("method") or {}
        method_params_box = Vertical(*[self.make_row(s, params.get(s.label, s.default)) for s in self.method_fields],
                                     id="method-params")
        out = [
            section("Run", [preset_row, *rows_of(lambda p: p in TOP_FIELDS)]),
            section("Method", [method_row, method_params_box]),
            section("Task", rows_of(lambda p: p.startswith("task."))),
            section("Training", rows_of(lambda p: p.startswith("train."))),
            section("Models", rows_of(lambda p: p.startswith("models."))),
        ]
        self.task_shown, self.method_shown, self.preset_shown = task, method, preset
        self.source_shown = get_path(data, "task.source_lang", "")
        return out

    def make_row(self, spec: FieldSpec, value: Any, data: dict[str, Any] | None = None) -> FieldRow:
        data = data or {}
        row = FieldRow(spec, control_for(spec, value, get_path(data, "task.name", "topics"),
                                         get_path(data, "task.source_lang", "")))
        self._rows[spec.path] = row
        return row

    def show(self, selector: str, markup: str, layout: bool = False) -> None:
        """Update a Static only when its text changes. The side's boxes have fixed heights, so an
        update repaints them without laying out the form's hundred-odd widgets again; `layout`
        for one whose height follows its text."""
        old = self._shown_text.get(selector)
        if old != markup:
            # a box as tall as its text is laid out again when its number of lines changes
            layout = layout or old is None or old.count("\n") != markup.count("\n")
            self._shown_text[selector] = markup
            self.query_one(selector, Static).update(markup, layout=layout)

    def all_specs(self) -> list[FieldSpec]:
        return self.specs + self.method_fields

    def row(self, path: str) -> FieldRow | None:
        row = self._rows.get(path)
        return row if row is not None and row.is_attached else None

    def control(self, path: str) -> Widget:
        row = self.row(path)
        if row is None:
            raise KeyError(path)
        return row.control

    # ----- filling --------------------------------------------------------------------------
    async def on_mount(self) -> None:
        if self.clone_of:
            self.query_one("#new-title", Static).update(f"Clone of run {self.clone_of} · reading…")
            self.read_clone()
            return
        self.read_preset(self.start_preset)

    @work(thread=True, exclusive=True, group="read-config", name="reading the run to clone",
          exit_on_error=False)
    def read_clone(self) -> None:
        try:
            info = self.app.store.show(self.app.store.resolve(self.clone_of or ""))
            self.post_message(RunDetails(info["id"], info))
        except Exception as err:  # noqa: BLE001
            self.post_message(RunDetails(self.clone_of or "", None, error=f"{type(err).__name__}: {err}"))

    async def on_run_details(self, msg: RunDetails) -> None:
        if msg.info is None:
            self.notify(f"cannot read run {msg.run_id}: {msg.error}", severity="error")
            self.clone_of = None
            self.read_preset(NO_PRESET)
            return
        if msg.info.get("state") == "damaged" or not msg.info.get("config"):
            self.app.refuse_damaged({**msg.info, "state": "damaged"}, "cloned")
            self.app.pop_screen()
            return
        data = copy.deepcopy(msg.info.get("config") or {})
        self.clone_name = msg.info.get("name") or ""
        # The clone keeps the run's name: runs of one name group in `runs export --summary`
        # (a seed sweep); type another for a variant.
        data["name"] = self.clone_name
        try:
            data = validate(data).to_dict()  # resolved, and checked against today's engine
        except ConfigError as err:
            self.notify(f"the config of run {msg.run_id} no longer validates: {err}", severity="warning")
        self.base = data
        self.base_label = f"run {self.clone_name or msg.run_id}"
        self.query_one("#new-title", Static).update(
            f"[b]Clone[/b] of run [b]{escape(self.clone_name)}[/b] [dim]{msg.run_id}[/]  ·  "
            f"[$text-accent]●[/] marks what you change")
        await self.fill(data, preset=data.get("preset") or NO_PRESET)

    @work(thread=True, exclusive=True, group="read-preset", name="reading the preset", exit_on_error=False)
    def read_preset(self, preset: str | None) -> None:
        """Presets are files of the engine: read (and validated) here, off the app's thread.
        No preset named: the offline demo when the engine has it."""
        names = preset_names()
        if preset is None:
            preset = DEFAULT_PRESET if DEFAULT_PRESET in names else NO_PRESET
        error = None
        try:
            data = RunConfig().to_dict() if preset == NO_PRESET else validate(preset_data(preset)).to_dict()
        except ConfigError as err:
            error, data = f"preset {preset}: {err}", RunConfig().to_dict()
        descriptions = {}
        for name in names:
            try:
                descriptions[name] = str(preset_data(name).get("description") or "")
            except ConfigError:
                descriptions[name] = ""
        self.post_message(PresetRead(preset, data, error, descriptions))

    async def on_preset_read(self, msg: PresetRead) -> None:
        self.preset_descriptions = msg.descriptions
        if msg.error:
            self.notify(msg.error, severity="error")
        if not self.clone_of:
            self.base = copy.deepcopy(msg.data)
            self.base_label = "the defaults" if msg.name == NO_PRESET else f"preset {msg.name}"
            self.query_one("#new-title", Static).update(
                f"[b]New run[/b] from {escape(self.base_label)}  ·  [$text-accent]●[/] marks what you change")
        await self.fill(msg.data, preset=msg.name)

    async def fill(self, data: dict[str, Any], preset: str) -> None:
        """(Re)build the form holding `data`."""
        self.ready = False
        form = self.query_one("#form", VerticalScroll)
        self._rows.clear()
        names = list(self.preset_descriptions) or preset_names()
        widgets = self.form_widgets(data, preset if preset in (NO_PRESET, *names) else NO_PRESET)
        with self.app.batch_update():
            await form.remove_children()
            await form.mount_all(widgets)
        self.ready = True
        self.control("preset").focus()
        self.schedule_check()

    def apply_task(self, task: str, source: str | None, targets: list[str]) -> None:
        """Source and target choices are the task's own languages."""
        sources = task_sources(task)
        if not sources:
            return
        self.task_shown = task
        src = self.control("task.source_lang")
        assert isinstance(src, Select)
        source = source if source in sources else sources[0]
        self.source_shown = source
        with src.prevent(Select.Changed):
            src.set_options([(x, x) for x in sources])
            src.value = source
        sel = self.control("task.target_langs")
        assert isinstance(sel, SelectionList)
        with sel.prevent(SelectionList.SelectedChanged):
            sel.clear_options()
            sel.add_options(target_options(task, source, targets))
        for path, tasks in ONLY_FOR_TASK.items():
            row = self.row(path)
            if row is not None:
                row.display = task in tasks

    async def apply_method(self, method: str, values: dict[str, Any]) -> None:
        """The method's declared parameters become fields; values come from `values` or defaults."""
        self.method_shown = method
        box = self.query_one("#method-params", Vertical)
        for spec in self.method_fields:
            self._rows.pop(spec.path, None)
        self.method_fields = method_specs(method)
        rows = [self.make_row(spec, values.get(spec.label, spec.default)) for spec in self.method_fields]
        with self.app.batch_update():
            await box.remove_children()
            if rows:
                await box.mount_all(rows)

    def method_reference(self, spec: FieldSpec, method: str) -> Any:
        """What a method parameter is unless the user changes it: the base's value when the base
        has this method, else the method's default."""
        if get_path(self.base, "method.name") == method:
            return get_path(self.base, spec.path, spec.default)
        return spec.default

    # ----- reading the form -------------------------------------------------------------------
    def value_of(self, spec: FieldSpec) -> Any:
        return read_control(spec, self.control(spec.path), get_path(self.base, spec.path) or [])

    def collect(self) -> dict[str, Any]:
        data = copy.deepcopy(self.base)
        data.pop("method", None)
        for spec in self.specs:
            row = self.row(spec.path)
            if row is not None and not row.display:
                continue
            v = self.value_of(spec)
            if v is OMIT:
                drop_path(data, spec.path)
            else:
                set_path(data, spec.path, v)
        method = {"name": self.value_of_path("method.name")}
        for spec in self.method_fields:
            v = self.value_of(spec)
            if v is not OMIT:
                method[spec.label] = v
        data["method"] = method
        preset = self.value_of_path("preset")
        data["preset"] = "" if preset == NO_PRESET else preset
        return data

    def value_of_path(self, path: str) -> Any:
        widget = self.control(path)
        return widget.value if isinstance(widget, (Select, Input, Checkbox)) else None

    # ----- checking as you type -----------------------------------------------------------------
    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    def changed(self) -> None:
        self.schedule_check()

    @on(Select.Changed)
    async def select_changed(self, event: Select.Changed) -> None:
        if not self.ready or event.value != event.select.value:
            return  # a stale event: the form was rebuilt since (a Select posts one when mounted)
        wid = event.select.id or ""
        if wid == "f-preset":
            if event.value != self.preset_shown:
                self.read_preset(str(event.value))
            return
        targets = lambda: self.value_of(FieldSpec("task.target_langs", "langs", "", []))  # noqa: E731
        if wid == "f-task-name" and event.value != self.task_shown:
            self.apply_task(str(event.value), None, targets())
        elif wid == "f-task-source_lang" and event.value != self.source_shown:
            self.apply_task(self.task_shown, str(event.value), targets())
        elif wid == "f-method-name" and event.value != self.method_shown:
            # The new method's parameters hold the base's values (same method) or their defaults;
            # a value the user changed carries over to a parameter of the same name.
            method = str(event.value)
            keep = {s.label: v for s in self.method_fields
                    if (v := self.value_of(s)) is not OMIT and not same_value(v, self.method_reference(s, self.method_shown))}
            start = {s.label: self.method_reference(s, method) for s in method_specs(method)}
            await self.apply_method(method, {**start, **keep})
        self.schedule_check()

    def schedule_check(self) -> None:
        # One check per refresh, however many fields changed at once (a preset fills them all).
        if self.ready and not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self.check)

    def check(self) -> None:
        self._check_pending = False
        data = self.collect()
        try:
            self.config = validate(data)
            self.error = None
        except ConfigError as err:
            self.config, self.error = None, str(err)
        except Exception as err:  # noqa: BLE001 - an engine bug is shown beside the form, never a crash
            why = f"{type(err).__name__}: {err}"
            self.config = None
            self.error = (f"method.name is {data['method']['name']}: the engine cannot load it ({why})"
                          if isinstance(err, ImportError) else f"the engine could not check this config ({why})")

        bad = field_of_error(self.error) if self.error else ""
        for spec in self.all_specs():
            row = self.row(spec.path)
            if row is not None:
                row.set_error(self.error if spec.path == bad or (bad and spec.path == bad.rsplit(".", 1)[0]) else None)
        self.mark_changes(data)
        self.render_validity()
        self.render_about(data)
        focused = self.focused
        while focused is not None and not isinstance(focused, FieldRow):
            focused = focused.parent  # type: ignore[assignment]
        if isinstance(focused, FieldRow):
            self.show_field_help(focused)
        if self.config is not None:
            self.request_estimate(self.config)

    def mark_changes(self, data: dict[str, Any]) -> None:
        changed = []
        for spec in self.all_specs():
            row = self.row(spec.path)
            if row is None:
                continue
            now, was = get_path(data, spec.path), get_path(self.base, spec.path)
            if spec in self.method_fields:
                # another method than the base's: a change is a value off the method's default
                was = self.method_reference(spec, data["method"]["name"])
            is_changed = not same_value(now, was)
            row.set_changed(is_changed, was)
            if is_changed:
                changed.append((spec.path, was, now))
        preset_row = self.row("preset")
        if preset_row is not None:
            preset_row.set_changed(False, None)
        method_row = self.row("method.name")
        if method_row is not None:
            was = get_path(self.base, "method.name")
            method_row.set_changed(data["method"]["name"] != was, was)
            if data["method"]["name"] != was:
                changed.insert(0, ("method.name", was, data["method"]["name"]))
        lines = [f"[b]{len(changed)} change{'s' if len(changed) != 1 else ''}[/b] from {escape(self.base_label)}"]
        for path, was, now in changed[:8]:
            lines.append(f" [$text-accent]●[/] {escape(path)}: "
                         f"[dim]{escape(short(was, 14))}[/] → {escape(short(now, 14))}")
        if len(changed) > 8:
            lines.append(f"   … and {len(changed) - 8} more")
        text = "\n".join(lines) if changed else f"[dim]no change from {escape(self.base_label)}[/]"
        # On a tall terminal the box is as tall as its lines: lay out again only when their number
        # changes, not on every key typed into a changed field.
        rows = text.count("\n")
        self.show("#changes", text, layout=rows != self._changes_rows)
        self._changes_rows = rows

    def render_validity(self) -> None:
        # the box is as tall as the message (wrapped whole): laid out again when it changes
        if self.error:
            self.show("#validity", f"[$text-error]✗ {escape(self.error)}[/]", layout=True)
        else:
            assert self.config is not None
            self.show("#validity", f"[$text-success]✓ ready to launch[/]  [dim]{escape(self.config.display_name())}[/]",
                      layout=True)
        self.query_one("#launch", Button).disabled = self.error is not None
        self.query_one("#save", Button).disabled = self.error is not None

    def render_about(self, data: dict[str, Any]) -> None:
        preset = self.value_of_path("preset")
        preset = "" if preset in (None, NO_PRESET) else str(preset)
        method = data.get("method") or {}
        params = [ParamHelp(s.label, s.help, s.default, method.get(s.label, s.default)) for s in self.method_fields]
        self.show("#about", about_markup(preset, self.preset_descriptions.get(preset, ""),
                                         str(data.get("description") or ""), str(method.get("name", "")), params),
                  layout=True)  # its height follows the text: another method, other parameters

    # ----- the size of the work -----------------------------------------------------------------
    def request_estimate(self, cfg: RunConfig) -> None:
        key = cfg.model_dump_json(include={"task", "seed", "models", "train", "method"})
        if key == self.estimate_key:
            self.render_estimate()
            return
        self.estimate_key = key
        self.render_estimate(pending=True)
        # Sizing loads the task's data: wait until typing pauses, and never twice for one task setting.
        if self._estimate_timer is not None:
            self._estimate_timer.stop()
        self._estimate_timer = self.set_timer(ESTIMATE_DELAY, lambda: self.compute_estimate(cfg, key))

    @work(thread=True, exclusive=True, group="estimate", name="sizing the work", exit_on_error=False)
    def compute_estimate(self, cfg: RunConfig, key: str) -> None:
        data_key = cfg.model_dump_json(include={"task", "seed"})
        try:
            if data_key not in _SIZES:
                _SIZES[data_key] = get_task(cfg.task.name).load(cfg.task, cfg.seed).sizes()
            sizes = _SIZES[data_key]
        except Exception as err:  # noqa: BLE001 - the engine's sentence, shown beside the form
            sentence = str(err).splitlines()[0] if str(err) else type(err).__name__
            self.post_message(EstimateReady(key, None, error=sentence))
            return
        if get_current_worker().is_cancelled:
            return
        seconds, basis = throughput_estimate(self.app.store, cfg, sizes)
        self.post_message(EstimateReady(key, sizes, seconds, basis))

    def on_estimate_ready(self, msg: EstimateReady) -> None:
        if msg.key != self.estimate_key:
            return  # the form changed since
        self.estimate = msg
        self.render_estimate()

    def render_estimate(self, pending: bool = False) -> None:
        cfg = self.config
        if cfg is None:
            self.show("#estimate", "")
            return
        msg = self.estimate if self.estimate and self.estimate.key == self.estimate_key else None
        if pending or msg is None:
            self.show("#estimate", "[b]The work[/b]\n[dim]sizing the data sets…[/]")
            return
        if msg.error:
            self.show("#estimate", f"[b]The work[/b]\n[$text-warning]{escape(msg.error)}[/]")
            return
        s = msg.sizes or {}
        test = s.get("test") or {}
        rounds = method_rounds(cfg)
        steps = math.ceil((s.get("D") or 0) / cfg.train.batch_size) * cfg.train.epochs
        n_targets = len(cfg.task.resolved_targets())
        lines = [
            "[b]The work[/b]",
            f"|D|   {s.get('D', 0):>6,} labeled {escape(cfg.task.source_lang)}",
            f"|U|   {s.get('U', 0):>6,} unlabeled, {n_targets} lang{'s' if n_targets != 1 else ''}",
        ]
        if s.get("Dbi"):
            lines.append(f"|Dbi| {s['Dbi']:>6,} translation pairs")
        lines.append(f"test  {sum(test.values()):>6,} in {len(test)} langs")
        lines.append(f"{rounds} round{'s' if rounds != 1 else ''} · {steps:,} steps ({cfg.train.epochs} epochs)")
        if msg.seconds is not None:
            if rounds > 1:  # each round fine-tunes on D (and what it labelled): at least this
                lines.append(f"time  ≈ {duration(rounds * msg.seconds)} the run "
                             f"({rounds} rounds × {duration(msg.seconds)})")
            else:
                lines.append(f"time  ≈ {duration(msg.seconds)} the run")
            lines.append(f"[dim]{escape(msg.basis)}[/]")
        else:
            lines.append(f"time  [dim]{escape(msg.basis)}[/]")
        self.show("#estimate", "\n".join(lines))

    # ----- focus help ------------------------------------------------------------------------
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        node: Any = event.widget
        while node is not None and not isinstance(node, FieldRow):
            node = node.parent
        if isinstance(node, FieldRow):
            self.show_field_help(node)
        else:
            self.show("#field-help-line", "")

    def show_field_help(self, row: FieldRow) -> None:
        if row.error:
            self.show("#field-help-line", f"[$text-error]{escape(row.error)}[/]")
        else:
            self.show("#field-help-line", f"[b]{escape(row.spec.path)}[/b]  {escape(row.spec.help)}")

    # ----- actions -----------------------------------------------------------------------------
    def _valid(self, doing: str = "launch") -> RunConfig | None:
        """The config, or None after saying why it cannot be launched (or saved)."""
        self.check()
        if self.config is None:
            title = "cannot save the config" if doing == "save" else "cannot launch"
            self.notify(self.error or "the form is not valid", title=title, severity="error")
        return self.config

    @on(Button.Pressed, "#launch")
    def action_launch(self) -> None:
        cfg = self._valid()
        if cfg is not None:
            self.query_one("#launch", Button).disabled = True
            self.app.launch(cfg)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        from xlu_tui.screens.dialogs import SaveConfigScreen

        cfg = self._valid("save")
        if cfg is None:
            return
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", cfg.display_name())
        default = Path(f"{stem}.toml")  # in the current folder

        def write(path: Path | None) -> None:
            if path is None:
                return
            try:
                path.write_text(cfg.to_toml(), encoding="utf-8")
            except OSError as err:
                self.notify(f"cannot write {path}: {err.strerror}", severity="error")
                return
            self.notify(f"wrote {path}; run it with: xlu-tui run {path}")

        self.app.push_screen(SaveConfigScreen(default), write)

    def action_back(self) -> None:
        self.app.pop_screen()

    async def action_reset(self) -> None:
        await self.fill(copy.deepcopy(self.base), preset=self.base.get("preset") or NO_PRESET)

    def action_done(self, msg: Any) -> None:
        if msg.verb == "launch" and msg.error:
            self.query_one("#launch", Button).disabled = False

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Launch this run", "Create the run and start it (ctrl+r)", self.action_launch)
        yield SystemCommand("Save config as TOML", "Write the config to a file (ctrl+s)", self.action_save)
        yield SystemCommand("Reset the form", f"Back to {self.base_label}", self.action_reset)
        for name, description in self.preset_descriptions.items():
            yield SystemCommand(f"Start from preset {name}", description[:80], lambda n=name: self.read_preset(n))
        yield SystemCommand("Back to runs", "Leave without launching", self.action_back)

