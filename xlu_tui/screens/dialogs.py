"""Small modal screens: confirm, export, save a config."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from xlu_tui.app import ShowsWorkerErrors


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; `y` or Enter on the button says yes, `n` or Escape says no."""

    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n,escape", "answer(False)", "no")]

    def __init__(self, question: str, yes: str = "yes", no: str = "cancel") -> None:
        super().__init__(classes="dialog")
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} y", variant="error", id="yes", compact=True)
                yield Button(f"{self.no} n", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, ok: bool) -> None:
        self.dismiss(ok)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ExportScreen(ShowsWorkerErrors, ModalScreen[None]):
    """Results of runs as md, csv, latex or json (the CLI's `runs export`): preview, save, copy."""

    BINDINGS = [Binding("escape", "dismiss", "close"), Binding("ctrl+s", "save", "save"),
                Binding("ctrl+y", "copy", "copy")]
    FORMATS = ("md", "csv", "latex", "json")

    def __init__(self, run_ids: list[str], what: str) -> None:
        super().__init__(classes="dialog")
        self.run_ids, self.what = run_ids, what
        self.fmt = "md"
        self.text = ""
        self.runs: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(f"Export {self.what}", classes="dialog-title")
            with RadioSet(id="format"):
                for f in self.FORMATS:
                    yield RadioButton(f, value=f == self.fmt, name=f)
            with ScrollableContainer(id="preview-box"):
                yield Static("reading…", id="preview", markup=False)
            yield Static("write to (a relative path is in the current folder):", classes="muted")
            yield Input(value="results.md", id="path", placeholder="results.md", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("save ^s", variant="primary", id="save", compact=True)
                yield Button("copy ^y", id="copy", compact=True)
                yield Button("close esc", id="close", compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, name="exporting the results", exit_on_error=False)
    def load(self) -> None:
        store = self.app.store
        runs = []
        for rid in self.run_ids:
            try:
                runs.append(store.show(rid))
            except Exception:  # noqa: BLE001 - a run deleted meanwhile drops out
                continue
        self.app.call_from_thread(self._loaded, runs)

    def _loaded(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.render_preview()

    def render_preview(self) -> None:
        from engine.export import render

        self.text = render(self.runs, self.fmt) if self.runs else ""
        self.query_one("#preview", Static).update(self.text or "no results to export")

    @on(RadioSet.Changed)
    def format_changed(self, event: RadioSet.Changed) -> None:
        self.fmt = event.pressed.name or "md"
        path = self.query_one("#path", Input)
        p = Path(path.value)
        ext = {"md": ".md", "csv": ".csv", "latex": ".tex", "json": ".json"}[self.fmt]
        path.value = str(p.with_suffix(ext))
        self.render_preview()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        path = Path(self.query_one("#path", Input).value).expanduser()
        try:
            path.write_text(self.text, encoding="utf-8")
        except OSError as err:
            self.notify(f"cannot write {path}: {err.strerror}", severity="error")
            return
        self.notify(f"wrote {path}")
        self.dismiss()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify(f"copied the {self.fmt} table")

    @on(Button.Pressed, "#close")
    def close(self) -> None:
        self.dismiss()


class SaveConfigScreen(ModalScreen[Path | None]):
    """Asks where to write a config as TOML."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__(classes="dialog")
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Save the config as TOML", classes="dialog-title")
            yield Input(value=str(self.default), id="path", compact=True)
            yield Static("Run it later with: xlu-tui run FILE", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button("save ⏎", variant="primary", id="save", compact=True)
                yield Button("cancel esc", id="cancel", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        self.dismiss(Path(self.query_one("#path", Input).value).expanduser())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
