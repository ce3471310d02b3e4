"""One line of training progress: what trains, a bar as wide as the line allows, and the numbers."""
from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widget import Widget


from xlu_tui.format import duration, theme_colors

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    vals = [v for v in values[-width:] if v is not None]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    return "".join(SPARKS[min(int((v - lo) / span * (len(SPARKS) - 1) + 0.5), len(SPARKS) - 1)] for v in vals)


class ProgressLine(Widget):
    DEFAULT_CSS = """
    ProgressLine {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info: dict[str, Any] = {}
        self.state = ""
        self.note = ""

    def set(self, progress: dict[str, Any], state: str, phase: str, note: str = "") -> None:
        self.info, self.state, self.note = dict(progress or {}), state, note
        self.phase = phase
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        theme = theme_colors(self.app)
        p = self.info
        out = Text(no_wrap=True, overflow="ellipsis")
        if not p:
            out.append(self.note or "no training step yet", style=theme.get("foreground-muted", "dim"))
            return out
        total, step = int(p.get("total") or 0), int(p.get("step") or 0)
        frac = step / total if total else 0.0
        # a method that fine-tunes a model in stages (language adaptation) says which one trains
        head = f"{p.get('model', '')}" + (f" stage {p['stage']}" if p.get("stage") is not None else "") + " "
        parts = [f" {100 * frac:3.0f}%  step {step}/{total}"]
        if p.get("epochs"):
            parts.append(f" · epoch {int(p.get('epoch', 0)) + 1}/{p['epochs']}")
        if self.state == "running":
            if p.get("samples_per_s"):
                parts.append(f" · {p['samples_per_s']:.0f} samples/s")
            if p.get("eta_s") is not None:
                parts.append(f" · ETA {duration(p.get('eta_s'))}")
        elif self.note:
            parts.append(f" · {self.note}")
        # a narrow line gives up the epoch, then the speed, before the bar and the note
        for unneeded in (" · epoch", " samples/s"):
            if width - len(head) - len("".join(parts)) >= 8:
                break
            parts = [x for x in parts if unneeded not in x]
        tail = "".join(parts)
        bar_w = max(width - len(head) - len(tail), 0)
        if bar_w < 8:  # a narrow line keeps the numbers and drops the bar
            bar_w = 0
        color = {"running": "success", "failed": "error", "stopped": "secondary", "interrupted": "warning",
                 "finished": "primary"}.get(self.state, "primary")
        out.append(head, style="bold")
        if bar_w:
            done = int(round(frac * bar_w))
            out.append("━" * done, style=Style(color=theme.get(color)))
            if done < bar_w:
                out.append("╺" + "━" * (bar_w - done - 1), style=Style(color=theme.get("foreground-disabled")))
        out.append(tail)
        return out
