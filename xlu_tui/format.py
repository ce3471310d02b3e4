"""How the app writes states, numbers, languages and times: one place, so every screen agrees."""
from __future__ import annotations

import time
from typing import Any

from rich.text import Text

# A mark per state, so states read without colour too (light themes, colour-blind users, logs).
STATE_MARK = {"running": "●", "queued": "○", "finished": "✓", "failed": "✗", "stopped": "■",
              "interrupted": "!", "damaged": "▲"}
# Theme variables (text-readable variants) per state.
STATE_VAR = {"running": "text-success", "queued": "text-warning", "finished": "text-primary",
             "failed": "text-error", "stopped": "text-secondary", "interrupted": "text-warning",
             "damaged": "text-accent"}
# A damaged run (a file of its folder unreadable) is none of the run's own states: it stands out.
STATE_EXTRA = {"damaged": "reverse"}
# Rich styles per state for plain Rich output outside the app (the CLI), where no theme is loaded.
STATE_STYLE = {"running": "bold green", "queued": "yellow", "finished": "blue", "failed": "bold red",
               "stopped": "magenta", "interrupted": "bold magenta", "damaged": "bold reverse red"}
ACTIVE = ("running", "queued")


def state_markup(state: str) -> str:
    """Content markup (theme variables) for a state."""
    var = STATE_VAR.get(state, "text-muted")
    extra = f" {STATE_EXTRA[state]}" if state in STATE_EXTRA else ""
    return f"[${var}{extra}]{STATE_MARK.get(state, '?')} {state}[/]"


def state_text(state: str, theme: dict[str, str], extra: str = "") -> Text:
    """A Rich Text for a state, coloured from the theme's variables (for tables)."""
    color = theme.get(STATE_VAR.get(state, ""), "")
    style = f"bold {color}" if color else "bold"
    if state in STATE_EXTRA:
        style += f" {STATE_EXTRA[state]}"
    text = Text(f"{STATE_MARK.get(state, '?')} {state}", style=style)
    if extra:
        text.append(f" {extra}", style=theme.get("foreground-muted", "") or "dim")
    return text


def state_style(state: str) -> str:
    """A Rich style for a state in plain Rich output (no theme): the CLI's tables."""
    return STATE_STYLE.get(state, "")


def pct(v: Any, none: str = "–") -> str:
    """An accuracy (0-1) as points with one decimal."""
    if v is None:
        return none
    try:
        return f"{100 * float(v):.1f}"
    except (TypeError, ValueError):
        return none


def delta(v: float | None, ref: float | None) -> str:
    if v is None or ref is None:
        return "–"
    d = 100 * (float(v) - float(ref))
    return "±0.0" if abs(d) < 0.05 else f"{d:+.1f}"


def langs(source: str, targets: list[str], width: int = 14) -> str:
    """`en→it,de,es`, or `en→8 langs` when the list does not fit."""
    full = f"{source}→{','.join(targets)}" if targets else f"{source}→all"
    return full if len(full) <= width else f"{source}→{len(targets)} langs"


def duration(s: float | None) -> str:
    if s is None or s < 0:
        return "–"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None


def when(text: str | None, now: float) -> str:
    """A timestamp from a status file, as short as `now` allows: `14:03`, `Nov 21 23:51`, `2025-11-21`."""
    t = parse_iso(text)
    if t is None:
        return "–"
    lt, ln = time.localtime(t), time.localtime(now)
    if lt[:3] == ln[:3]:
        return time.strftime("%H:%M", lt)
    if lt.tm_year == ln.tm_year:
        return time.strftime("%b %d %H:%M", lt)
    return time.strftime("%Y-%m-%d", lt)


def point_labels(points: list[tuple[int, int]]) -> list[str]:
    """Axis labels of an evaluation sequence (rounds as events and `round k/K` count them, from
    1): epochs (`e3`) within one round, rounds (`r2`) otherwise, `r1.e3` where both matter."""
    rounds = {r for r, _ in points}
    if len(rounds) <= 1:
        return [f"e{e}" if e else f"r{r}" for r, e in points]
    per_round: dict[int, int] = {}
    for r, _ in points:
        per_round[r] = per_round.get(r, 0) + 1
    return [f"r{r}.e{e}" if e and per_round[r] > 1 else f"r{r}" for r, e in points]


def round_label(r: Any) -> str:
    """A round's column label (rounds count from 1, in events as on screen)."""
    try:
        return f"r{int(r)}"
    except (TypeError, ValueError):
        return "r?"


def number(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def short(v: Any, width: int = 40) -> str:
    """A config value in a table cell."""
    if v is None:
        return "–"
    if isinstance(v, list):
        text = "[" + ", ".join(map(str, v)) + "]"
    elif isinstance(v, bool):
        text = "true" if v else "false"
    else:
        text = str(v)
    return text if len(text) <= width else "…" + text[-(width - 1):]


_THEME_CACHE: dict[str, dict[str, str]] = {}


def theme_colors(app: Any) -> dict[str, str]:
    """The theme's colour variables as plain `#rrggbb` (alpha blended onto the background), usable
    in Rich styles. Variables that are not colours (`auto 60%`) are left out."""
    from textual.color import Color

    variables = app.theme_variables
    # keyed by the variables themselves: right after a theme switch they may still be the old ones
    name = f"{app.theme}/{variables.get('primary')}/{variables.get('background')}/{variables.get('foreground')}"
    if name in _THEME_CACHE:
        return _THEME_CACHE[name]
    try:
        bg = Color.parse(variables.get("background", "#000000"))
    except Exception:  # noqa: BLE001
        bg = Color(0, 0, 0)
    out: dict[str, str] = {}
    for key, value in variables.items():
        try:
            c = Color.parse(value)
        except Exception:  # noqa: BLE001 - not a colour
            continue
        if c.a < 1:
            c = bg.blend(c.with_alpha(1.0), c.a)
        out[key] = c.hex6 if hasattr(c, "hex6") else c.hex[:7]
    _THEME_CACHE[name] = out
    return out
