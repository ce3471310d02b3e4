"""The config form's pieces: fields from the engine's config models and a method's declared
parameters (kind from the annotation, help from the description), the control each field gets,
and how a control's value is read back into a config dict.

A field the engine adds shows up here with no change; the New run screen lays the rows out.
"""
from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from engine.config import ModelsConfig, RunConfig, TaskConfig, TrainConfig, parse_value
from engine.methods import method_params
from engine.tasks import get_task, task_names

from xlu_tui.format import short

OMIT = object()  # a field left empty that the config then does not hold (its default applies)
# Top-level fields the form shows (the rest, like `preset`, follow the base config).
TOP_FIELDS = ("name", "seed", "description")
# Shown only where they apply.
ONLY_FOR_TASK = {"task.data_dir": ("custom",)}


@dataclass
class FieldSpec:
    path: str
    kind: str  # text | number | bool | choice | langs | list
    help: str
    default: Any
    optional: bool = False
    choices: tuple[str, ...] = ()

    @property
    def wid(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def label(self) -> str:
        return self.path.split(".")[-1]


def _bounds(info: Any) -> str:
    parts = []
    for m in info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sign} {v:g}" if isinstance(v, float) else f"{sign} {v}")
    return f" ({', '.join(parts)})" if parts else ""


def spec_of(path: str, info: Any) -> FieldSpec:
    """A form field from a pydantic field: its kind from the annotation, its help from the description."""
    ann = info.annotation
    optional = False
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) < len(typing.get_args(ann))
        ann = args[0] if len(args) == 1 else str
        origin = typing.get_origin(ann)
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    help_text = (info.description or "") + _bounds(info)
    if origin is Literal:
        return FieldSpec(path, "choice", help_text, default, optional, tuple(map(str, typing.get_args(ann))))
    if ann is bool:
        return FieldSpec(path, "bool", help_text, default, optional)
    if ann in (int, float):
        return FieldSpec(path, "number", help_text, default, optional)
    if origin is list:
        return FieldSpec(path, "langs" if path == "task.target_langs" else "list", help_text, default, optional)
    return FieldSpec(path, "text", help_text, default, optional)


def base_specs() -> list[FieldSpec]:
    """The fields of every config section but the method's parameters."""
    specs = []
    for name in TOP_FIELDS:
        specs.append(spec_of(name, RunConfig.model_fields[name]))
    for section, model in (("task", TaskConfig), ("models", ModelsConfig), ("train", TrainConfig)):
        for name, info in model.model_fields.items():
            spec = spec_of(f"{section}.{name}", info)
            if spec.path == "task.name":
                spec = FieldSpec(spec.path, "choice", spec.help, spec.default, False, tuple(task_names()))
            elif spec.path == "task.source_lang":
                spec = FieldSpec(spec.path, "choice", spec.help, spec.default, False, ())
            specs.append(spec)
    return specs


def method_specs(method: str) -> list[FieldSpec]:
    """The fields of a method's declared parameters (none for a method that cannot be loaded)."""
    try:
        params = method_params(method)
    except Exception:  # noqa: BLE001 - unknown, or its module fails to import: validation says which
        return []
    return [spec_of(f"method.{name}", info) for name, info in params.model_fields.items()]


def field_text(v: Any) -> str:
    """A value as its input field holds it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # round-trips exactly: 1/3 stays 1/3, so an untouched field is unchanged
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def field_of_error(message: str) -> str:
    """The dotted field an engine error names first (`train.epochs is 0: ...` -> train.epochs)."""
    m = re.match(r"^([a-z_]+(?:\.[a-z_]+)*)", message)
    return m.group(1) if m else ""


def same_value(a: Any, b: Any) -> bool:
    """Whether a field holds what it held (a float typed as `2` is still 2.0)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b


def task_sources(task: str) -> list[str]:
    try:
        return get_task(task).source_languages()
    except KeyError:
        return []


def target_options(task: str, source: str, chosen: list[str]) -> list[Selection]:
    """The task's languages (only those), the source left out; independent ones say so."""
    try:
        t = get_task(task)
    except KeyError:
        return []
    translated = set(t.translated_languages())
    return [Selection(f"{x}{'' if x in translated else '  (independent)'}", x, x in chosen)
            for x in t.languages() if x != source]


def control_for(spec: FieldSpec, value: Any, task: str, source: str) -> Widget:
    """The control of a field holding `value`; languages are those of `task` (`source` left out
    of the targets)."""
    if spec.path == "task.source_lang":
        sources = task_sources(task)
        value = value if value in sources else (sources[0] if sources else value)
        return Select([(x, x) for x in sources], value=value, allow_blank=False, compact=True, id=spec.wid)
    if spec.kind == "choice":
        choices = [str(c) for c in spec.choices] or [field_text(value)]
        value = str(value) if str(value) in choices else choices[0]
        return Select([(c, c) for c in choices], value=value, allow_blank=False, compact=True, id=spec.wid)
    if spec.kind == "bool":
        return Checkbox("", value=bool(value), compact=True, id=spec.wid)
    if spec.kind == "langs":
        return SelectionList[str](*target_options(task, source, value or []), id=spec.wid, compact=True)
    return Input(value=field_text(value), placeholder="none" if spec.optional else "", compact=True,
                 id=spec.wid, select_on_focus=False)


def read_control(spec: FieldSpec, widget: Widget, base_order: list[Any]) -> Any:
    """The config value a field's control holds, OMIT where the config should not hold the field.
    A language list keeps `base_order` first (an unchanged list stays equal), then the task's."""
    if isinstance(widget, Input):
        text = widget.value.strip()
        if spec.kind == "number":
            if not text:
                return OMIT if spec.optional else None
            return parse_value(text)
        if spec.kind == "list":  # `a, b` or TOML `["a", "b"]`, as --set reads it
            return parse_value(text if text.startswith("[") else f"[{text}]")
        if spec.optional and not text:
            return OMIT
        return widget.value
    if isinstance(widget, (Checkbox, Select)):
        return widget.value
    if isinstance(widget, SelectionList):
        order = {x: i for i, x in enumerate(widget.get_option_at_index(k).value for k in range(widget.option_count))}
        return sorted(widget.selected, key=lambda x: (base_order.index(x) if x in base_order else len(base_order),
                                                      order.get(x, 0)))
    return OMIT


class FieldRow(Horizontal):
    """A label and a control. The field's help shows below the form when the field has focus (and
    as the label's tooltip); the label turns red while the engine has a message about the field.
    Rows restyle only when their state changes, so a form of forty fields stays quick to type in."""

    def __init__(self, spec: FieldSpec, control: Widget) -> None:
        super().__init__(classes="field-row", id=f"row-{spec.wid}")
        self.spec = spec
        self.control = control
        self._changed: bool | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        label = Static(f"  {escape(self.spec.label)}", classes="field-label")
        label.tooltip = self.spec.help
        yield label
        yield self.control

    def set_changed(self, changed: bool, was: Any) -> None:
        if changed == self._changed:
            return
        self._changed = changed
        self.set_class(changed, "-changed")
        label = self.query_one(".field-label", Static)
        label.update(f"{'[$text-accent]●[/] ' if changed else '  '}{escape(self.spec.label)}", layout=False)
        label.tooltip = f"{self.spec.help}\n(was {short(was)})" if changed else self.spec.help

    def set_error(self, message: str | None) -> None:
        if message != self.error:
            self.error = message
            self.set_class(bool(message), "-invalid")
