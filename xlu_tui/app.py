"""The Textual app: runs, new run, live run, compare, on the engine's runs folder.

`make_app(runs_dir=...)` builds it for the CLI and for the tests. The app reads files only in
thread workers and never imports the training stack; runs go on in their own processes, so
quitting the app leaves them running and reopening it follows them again.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from engine.errors import ConfigError
from engine.store import RESUMABLE, RunStore

from xlu_tui.messages import ActionDone


def damage_sentence(info: dict[str, Any]) -> str:
    """The store's sentence on what is wrong with a damaged run, without its full stop."""
    return str(info.get("damage") or "a file of its folder cannot be read").strip().rstrip(".")


def check_models(config: Any) -> None:
    """The engine's check that every model of the config can be loaded (ConfigError if not);
    nothing while the engine has no such check."""
    try:
        from engine.models.check import check_models as check
    except ImportError:
        return
    check(config)


def worker_error_sentence(worker: Worker) -> str:
    """What a failed worker did and what went wrong, in one line (its name says what it does:
    `sizing the data sets`, or the method's name)."""
    err = worker.error
    what = (worker.name or "a background task").replace("_", " ").strip()
    first = str(err).strip().splitlines()[0] if err is not None and str(err).strip() else ""
    why = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return f"{what} failed: {why}"


class ShowsWorkerErrors:
    """Worker errors nobody caught become an error notification of one sentence; the app goes on.
    For the app's own workers and any screen's: a worker's StateChanged goes only to the node
    that started it (it does not bubble). Workers are declared `exit_on_error=False`, or Textual
    would end the app before this sees the error."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.notify(worker_error_sentence(event.worker), title="something went wrong",  # type: ignore[attr-defined]
                            severity="error", timeout=10)


class XluApp(ShowsWorkerErrors, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "xlu-tui"
    ENABLE_COMMAND_PALETTE = True
    # -narrow: one panel at a time, tight tables; -wide: everything side by side; -xwide: room for
    # inline help in forms.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (170, "-xwide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "keys", key_display="?"),
        Binding("f1", "toggle_keys", "keys", show=False),
    ]

    def __init__(self, runs_dir: Path, *, clock: Callable[[], float] | None = None, launcher: Any = None,
                 poll_interval: float = 0.25, list_interval: float = 1.0, theme: str | None = None,
                 open_run: str | None = None):
        super().__init__()
        self.first_run = open_run  # opened on its live screen at start, with the runs beneath
        # The folder as the user named it (shown), and absolute for the store: the launcher starts
        # workers in the project folder, where a relative path would point elsewhere.
        self.runs_label = str(runs_dir)
        self.store = RunStore(Path(runs_dir).expanduser().resolve())
        if launcher is None:
            from engine.launcher import LocalLauncher

            launcher = LocalLauncher(self.store)
        self.launcher = launcher
        self.clock = clock or time.time
        self.poll_interval = poll_interval
        self.list_interval = list_interval
        if theme:
            self.theme = theme

    def get_default_screen(self) -> Screen:
        from xlu_tui.screens.runs import RunsScreen

        return RunsScreen()

    def on_mount(self) -> None:
        if self.first_run:
            self.open_run(self.first_run)

    # ----- palette and keys
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        commands = getattr(screen, "commands", None)
        if commands is not None:
            yield from commands()
        yield from super().get_system_commands(screen)

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_show_help_panel(self) -> None:
        """The screen's own keys first (Textual's panel lists the focused widget's first)."""
        from xlu_tui.widgets.keys_help import KeysHelp

        if not self.screen.query("HelpPanel"):
            self.screen.mount(KeysHelp())

    # ----- opening screens (shared by every screen and the palette)
    def open_run(self, run_id: str) -> None:
        from xlu_tui.screens.live import LiveScreen

        self.push_screen(LiveScreen(run_id))

    def new_run(self, clone_of: str | None = None) -> None:
        from xlu_tui.screens.new_run import NewRunScreen

        self.push_screen(NewRunScreen(clone_of=clone_of))

    def compare_runs(self, run_ids: list[str]) -> None:
        from xlu_tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(run_ids))

    def confirm(self, question: str, on_yes: Callable[[], None], yes: str = "yes") -> None:
        from xlu_tui.screens.dialogs import ConfirmScreen

        def done(ok: bool | None) -> None:
            if ok:
                on_yes()

        self.push_screen(ConfirmScreen(question, yes=yes), done)

    # ----- run actions: the engine's calls, in a thread; the outcome comes back as ActionDone
    def refuse_damaged(self, row: dict[str, Any], verb: str, more: str = "") -> bool:
        """True (and one sentence said) when `row`'s run is damaged: it cannot be `verb`."""
        if row.get("state") != "damaged":
            return False
        self.notify(f"run {row.get('id')} cannot be {verb}: {damage_sentence(row)}{more}",
                    title="damaged run", severity="error", timeout=8)
        return True

    def resume_run(self, run_id: str) -> None:
        self.act_on_run("resume", run_id)

    def stop_run(self, run_id: str, kill: bool = False) -> None:
        if kill:
            self.confirm(f"Kill run {run_id} now? It ends stopped and resumes from its last checkpoint.",
                         lambda: self.act_on_run("kill", run_id), yes="kill")
        else:
            self.act_on_run("stop", run_id)

    def delete_run(self, run_id: str, name: str = "") -> None:
        label = f"{name} ({run_id})" if name else run_id
        self.confirm(f"Delete run {label}? Its folder and history entry go; this cannot be undone.",
                     lambda: self.act_on_run("delete", run_id), yes="delete")

    @work(thread=True, group="actions", name="acting on the run", exit_on_error=False)
    def act_on_run(self, verb: str, run_id: str) -> None:
        outcome, error = "", None
        try:
            if verb == "resume":
                info = self.store.show(run_id)
                if info.get("state") == "damaged":
                    raise ConfigError(f"run {run_id} cannot be resumed: {damage_sentence(info)}")
                state = self.store.status(run_id).get("state")
                if state not in RESUMABLE:
                    raise ConfigError(f"run {run_id} is {state}; only {', '.join(RESUMABLE)} runs can be resumed")
                outcome = self.launcher.start(run_id)
            elif verb in ("stop", "kill"):
                outcome = self.launcher.stop(run_id, kill=verb == "kill")
            elif verb == "delete":
                self.store.remove(run_id)
                outcome = "deleted"
            else:
                raise ValueError(f"unknown action {verb}")
        except ConfigError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - shown to the user, never a crash
            error = f"{type(err).__name__}: {err}"
        self.post_message(ActionDone(verb, run_id, outcome, error))

    def launch(self, config: Any, gpus: list[int] | None = None) -> None:
        """Create a run from a validated RunConfig and start it; the live screen opens on it."""
        self._launch(config, gpus)

    @work(thread=True, group="actions", name="launching the run", exit_on_error=False)
    def _launch(self, config: Any, gpus: list[int] | None) -> None:
        run_id, outcome, error = "", "", None
        try:
            check_models(config)
            run_id = self.store.create(config)
            outcome = self.launcher.start(run_id, gpus)
        except ConfigError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001
            error = f"{type(err).__name__}: {err}"
        self.post_message(ActionDone("launch", run_id, outcome, error))

    def on_action_done(self, msg: ActionDone) -> None:
        if msg.error:
            self.notify(msg.error, title=f"could not {msg.verb}", severity="error", timeout=8)
        else:
            said = {"resume": f"resumed: {msg.outcome}", "stop": "stopping after this step (it checkpoints)"
                    if msg.outcome == "stopping" else msg.outcome, "kill": "killed; resumable",
                    "delete": "deleted", "launch": f"started: {msg.outcome}"}.get(msg.verb, msg.outcome)
            self.notify(f"run {msg.run_id}: {said}", timeout=4)
        if msg.verb == "launch" and not msg.error:
            from xlu_tui.screens.new_run import NewRunScreen

            if isinstance(self.screen, NewRunScreen):
                self.pop_screen()
            self.open_run(msg.run_id)
        for screen in self.screen_stack:
            hook = getattr(screen, "action_done", None)
            if hook is not None:
                hook(msg)


def make_app(runs_dir: Path, open_run: str | None = None, **options: Any) -> XluApp:
    """The app on a runs folder; with `open_run` (a run id) it opens on that run's live screen,
    the Runs screen beneath it (escape goes back to the list). Options (for tests): clock,
    launcher, poll_interval, list_interval, theme."""
    return XluApp(Path(runs_dir), open_run=open_run, **options)
