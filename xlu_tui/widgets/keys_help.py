"""The `?` panel: the screen's own keys first, then the app's, the screen's notes, and last the
generic keys of the focused widget (cursor keys and the like), which Textual's panel lists first
and which would push the screen's keys off a small terminal."""
from __future__ import annotations

from textwrap import dedent
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import HelpPanel, Markdown, Static


class KeysHelp(HelpPanel):
    """A HelpPanel (so Textual's palette and queries know it) laid out for this app."""

    DEFAULT_CSS = """
    KeysHelp {
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        #keys-own, #keys-generic { height: auto; width: 1fr; }
        #keys-generic { margin-top: 1; }
        #widget-help { max-height: initial; display: block; padding: 0; margin-top: 1; }
        #widget-help.-empty { display: none; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="keys-own")
        yield Markdown(id="widget-help")
        yield Static(id="keys-generic")

    def on_mount(self) -> None:
        super().on_mount()
        self.add_class("-show-help")
        self.screen.bindings_updated_signal.subscribe(self, lambda _: self.call_after_refresh(self.render_keys))
        self.update_help(self.screen.focused)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def update_help(self, focused_widget: Widget | None) -> None:
        """The screen's notes (its HELP) and the keys; called when the focus moves."""
        if not self.is_attached or not self.screen.is_active:
            return
        self.add_class("-show-help")
        notes = dedent(getattr(self.screen, "HELP", "") or "").strip()
        box = self.query_one("#widget-help", Markdown)
        box.set_class(not notes, "-empty")
        box.update(notes)
        self.render_keys()

    def render_keys(self) -> None:
        if not self.is_attached:
            return
        screen, app = self.screen, self.app
        own: dict[str, list[Any]] = {}
        generic: dict[str, list[Any]] = {}
        app_keys: dict[str, list[Any]] = {}
        # keys the focused widget takes first but the screen gives its meaning (enter opens a run)
        for key, description in getattr(screen, "HELP_KEYS", ()):
            own.setdefault(description, []).append((key, True))
        mine = _own_actions(screen) | _own_actions(app)
        for namespace, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.system or not binding.description:
                continue
            if namespace is screen and binding.action in mine:
                group = own
            elif namespace is app and binding.action in mine:
                group = app_keys
            else:
                group = generic
            group.setdefault(binding.description, []).append((binding, enabled))
        self.query_one("#keys-own", Static).update(
            self._table(own, app_keys, title=f"{self._screen_title()} keys"))
        self.query_one("#keys-generic", Static).update(
            self._table(generic, {}, title="more keys") if generic else "")

    def _screen_title(self) -> str:
        help_text = getattr(self.screen, "HELP", "") or ""
        for line in help_text.splitlines():
            if line.strip().startswith("#"):
                return line.strip("# ").strip()
        return "these"

    def _table(self, first: dict[str, list[Any]], then: dict[str, list[Any]], title: str) -> Table:
        key_style = "bold " + (self.app.theme_variables.get("text-accent") or "")
        table = Table(show_header=False, box=None, expand=True, padding=(0, 1, 0, 0), title=title, title_justify="left",
                      title_style="bold")
        table.add_column(justify="right", no_wrap=True)
        table.add_column()
        for group in (first, then):
            for description, bindings in group.items():
                keys = " ".join(dict.fromkeys(b if isinstance(b, str) else self.app.get_key_display(b)
                                              for b, _ in bindings))
                enabled = any(e for _, e in bindings)
                table.add_row(Text(keys, style=key_style if enabled else "dim"),
                              Text.from_markup(description, style="" if enabled else "dim"))
        return table


def _own_actions(node: Any) -> set[str]:
    """Actions bound by the app's own classes (not Textual's base Screen and App: tab, ctrl+c...)."""
    out: set[str] = set()
    for cls in type(node).__mro__:
        if cls.__module__.startswith("textual."):
            continue
        for b in cls.__dict__.get("BINDINGS", ()):
            if hasattr(b, "action"):
                out.add(b.action)
            elif isinstance(b, tuple) and len(b) > 1:
                out.add(b[1])
    return out
