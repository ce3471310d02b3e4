"""What the new-run form's side says about the choice on a tall terminal: the preset's and the
method's own descriptions and the help of every parameter the method declares.

Everything comes from the engine (preset files, the method class, its pydantic Params field
descriptions), so the text follows the engine without a copy here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.markup import escape

from xlu_tui.format import short


@dataclass
class ParamHelp:
    name: str
    help: str  # the field's description and bounds
    default: Any
    value: Any


def method_about(method: str) -> tuple[str, bool]:
    """The method's description and whether it trains on translation pairs (Dbi)."""
    from engine.methods import get_method

    try:
        cls = get_method(method)
    except Exception:  # noqa: BLE001 - unknown or broken: the validity line says why
        return "", False
    return str(getattr(cls, "description", "") or ""), bool(getattr(cls, "needs_parallel", False))


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"  # 1/3 reads as 0.3333, as on the live screen
    return "none" if v is None else short(v, 24)


def about_markup(preset: str, preset_text: str, description: str, method: str, params: list[ParamHelp]) -> str:
    """Content markup: preset, run description (when it is not the preset's), method, parameters.
    A parameter set away from its default says so: the defaults are the paper's."""
    lines: list[str] = []
    if preset:
        lines += [f"[b]Preset[/b] {escape(preset)}", escape(preset_text) or "[dim]no description[/]", ""]
    if description and description != preset_text:
        lines += ["[b]Description[/b]", escape(description), ""]
    text, parallel = method_about(method)
    lines.append(f"[b]Method[/b] {escape(method)}")
    if text:
        lines.append(escape(text))
    if parallel:
        lines.append("[dim]trains on translation pairs: needs task.parallel_size > 0[/]")
    if not params:
        lines.append("[dim]no parameters of its own[/]")
    if params:
        lines.append("")
    for p in params:
        changed = _value(p.value) != _value(p.default)
        default = f"  [dim](default {escape(_value(p.default))})[/]" if changed else ""
        # the name in colour, not a blank line, sets parameters apart: a method has up to fourteen
        lines.append(f"[b $text-primary]{escape(p.name)}[/] = {escape(_value(p.value))}{default}")
        lines.append(escape(p.help) if p.help else "[dim]no description[/]")
    return "\n".join(lines)
