"""Live run: a run as it trains, or replayed once it has ended (the same thing: its events, folded).

Head (state, round, phase), progress, accuracy per language over the evaluations, a table per
language, and the panels: log, losses, pools, agreement. A thread follows the run's folder; the
screen folds what it read on its own thread and redraws once per batch.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any, Iterable

from rich.markup import escape
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from engine.live import MEAN_OF_MODELS, LiveRun
from engine.methods import find_method_info
from engine.store import RESUMABLE

from xlu_tui.messages import EventsArrived, RunDetails
from xlu_tui.follow import EventBuffer, follow_run
from xlu_tui.widgets.chart import LineChart
from xlu_tui.format import duration, parse_iso, state_markup, theme_colors
from xlu_tui.tables import (agreement_table, best_markup, chart_data, lang_table, losses_table, pools_table,
                            run_facts)
from xlu_tui.widgets.progress import ProgressLine
from xlu_tui.app import ShowsWorkerErrors

PANELS = (("log-panel", "log"), ("loss-panel", "losses"), ("pools-panel", "pools"), ("agree-panel", "agreement"))


class LiveScreen(ShowsWorkerErrors, Screen):
    HELP = """
## Live run

A running run is followed as it writes; a finished one is replayed from its events.

- **m** switches the chart and table between the models of the run and their mean
- **p** shows the next panel (log, losses, pools, agreement) on a narrow terminal
- **s** stops after the current step (it checkpoints; resume later), **K** kills at once
- **r** resumes a stopped, failed or interrupted run; **c** clones it into a new run
"""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("m", "model", "model"),
        Binding("p", "panel", "panel"),
        Binding("s", "stop", "stop"),
        Binding("K", "kill", "kill"),
        Binding("r", "resume", "resume"),
        Binding("c", "clone", "clone"),
        Binding("q", "app.quit", "quit", show=False),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.live = LiveRun(run_id=run_id)
        self.buffer = EventBuffer()
        self.info: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.view = ""  # the model the chart shows ("" until the run has evaluated one)
        self.panel = 0
        self._keys: dict[str, Any] = {}
        self.applied = 0
        self.damaged = False  # a file of the run's folder cannot be read (store.show says which)
        self.loaded = False  # the folder has been read once
        self.has_checkpoint = False  # checkpoints/LATEST exists: a resume continues, not starts over
        self._keys_state = ""  # the state the footer's keys were last checked for
        # Measured in the handler, for the keep-up test: batches drained, seconds spent.
        self.stats = {"batches": 0, "events": 0, "busy_s": 0.0, "max_batch_s": 0.0, "max_batch": 0,
                      "max_wait_s": 0.0, "waits": deque(maxlen=1000)}

    def compose(self) -> ComposeResult:
        yield Static(id="live-head", markup=True)
        yield ProgressLine(id="live-progress")
        yield Static(id="live-error")
        with Horizontal(id="live-main"):
            with Vertical(id="chart-box"):
                yield LineChart(id="chart")
            with VerticalScroll(id="langs-box"):
                yield Static(id="langs")
                yield Static(id="run-facts")
        with Horizontal(id="panels"):
            for pid, _ in PANELS:
                fits = " auto-width" if pid in ("pools-panel", "agree-panel") else ""
                with VerticalScroll(id=pid, classes="panel" + fits):
                    yield Static(id=pid.replace("-panel", "-body"))
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#chart-box").border_title = "accuracy %"
        self.query_one("#langs-box").border_title = "per language"
        self._set_panel_titles()
        self.render_head()
        self.follow()
        self.set_interval(1.0, self._tick)
        self.watch(self.app, "theme", lambda _: self.call_after_refresh(self.render_all), init=False)

    def _tick(self) -> None:
        if self.status.get("state") == "running" or self.live.state == "running":
            self.render_head()

    # ----- reading (thread) --------------------------------------------------------------
    @work(thread=True, exclusive=True, group="follow", name="following the run", exit_on_error=False)
    def follow(self) -> None:
        worker = get_current_worker()
        store = self.app.store
        try:
            info = store.show(self.run_id)
            info["has_checkpoint"] = store.has_checkpoint(self.run_id)
            self.post_message(RunDetails(self.run_id, info))
        except Exception as err:  # noqa: BLE001
            self.post_message(RunDetails(self.run_id, None, error=f"{type(err).__name__}: {err}"))
            return
        follow_run(store, self.run_id, self.buffer, self.post_message, lambda: worker.is_cancelled,
                   self.app.poll_interval)

    def on_run_details(self, msg: RunDetails) -> None:
        if msg.error or msg.info is None:
            self.query_one("#live-head", Static).update(f"[$text-error]cannot read run {self.run_id}:[/] "
                                                         f"{escape(msg.error or '')}")
            return
        self.info = msg.info
        self.damaged = msg.info.get("state") == "damaged"
        self.has_checkpoint = bool(msg.info.get("has_checkpoint"))
        self.config = msg.info.get("config") or {}
        self.status = msg.info.get("status") or {}
        self.render_all()

    def on_events_arrived(self, msg: EventsArrived) -> None:
        t0 = time.perf_counter()
        events, status, waited = self.buffer.take()
        for ev in events:
            self.fold(ev)
        if status is not None:
            self.status = status
        self.applied += len(events)
        self.loaded = True
        self.render_all()
        spent = time.perf_counter() - t0
        s = self.stats
        s["batches"] += 1
        s["events"] += len(events)
        s["busy_s"] += spent
        s["max_batch_s"] = max(s["max_batch_s"], spent)
        s["max_batch"] = max(s["max_batch"], len(events))
        s["max_wait_s"] = max(s["max_wait_s"], waited)
        s["waits"].append(waited)

    def fold(self, ev: dict[str, Any]) -> None:
        self.live.apply(ev)
        self.has_checkpoint = self.has_checkpoint or self.live.has_checkpoint

    # ----- drawing -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        if self.damaged:
            return "damaged"
        return self.status.get("state") or (self.live.state if self.live.events_seen else "queued")

    def method(self) -> str:
        return (self.config.get("method") or {}).get("name", "")

    def _dirty(self, name: str, key: Any) -> bool:
        """True when what `name` shows would change: a burst of progress events redraws the
        progress line, not every table on the screen."""
        key = (key, self.app.theme)
        if self._keys.get(name) == key:
            return False
        self._keys[name] = key
        return True

    def render_all(self) -> None:
        views = self.live.views()
        if views and self.view not in views:
            self.view = views[0]
        self.render_head()
        self.render_progress()
        self.render_error()
        if self.state != self._keys_state:  # stop and kill for active runs, resume for ended ones
            self._keys_state = self.state
            self.refresh_bindings()
        self.render_chart()
        self.render_panels()

    def render_head(self) -> None:
        name = self.info.get("name") or self.live.run_id
        st = self.status
        state = self.state
        parts = [f"[b]{escape(str(name))}[/b]", state_markup(state)]
        if st.get("rounds"):
            parts.append(f"round {st.get('round') or 0}/{st['rounds']}")
        phase = self.live.phase or st.get("phase")
        if phase and state == "running":
            stage = self.live.phase_info.get("stage") if self.live.phase else None
            parts.append(f"phase [b]{escape(str(phase))}[/b]"
                         + (f" · stage {escape(str(stage))}" if stage is not None else ""))
        started = parse_iso(st.get("started"))
        ended = parse_iso(st.get("ended"))
        if started and ended and state not in ("running", "queued"):
            parts.append(f"took {duration(ended - started)}")
        elif started and state == "running":
            parts.append(f"running {duration(self.app.clock() - started)}")
        if st.get("device"):
            parts.append(escape(str(st["device"])))
        parts.append(f"[dim]{self.run_id}[/]")
        text = "  ".join(parts)
        if self._dirty("head", text):
            self.query_one("#live-head", Static).update(text)

    def render_progress(self) -> None:
        state = self.state
        # short enough to leave the bar room at 80 columns (the head says the state too)
        note = {"queued": "queued: waiting for a free device",
                "interrupted": "worker gone · r resumes",
                "stopped": "stopped · r resumes", "failed": "failed",
                "damaged": "damaged: a file of the run cannot be read"}.get(state, "")
        if state == "finished":
            note = "finished"
        if not self.loaded and not self.info:
            note = "reading the run…"
        self.query_one(ProgressLine).set(self.live.progress, state, self.live.phase, note)

    def render_error(self) -> None:
        box = self.query_one("#live-error", Static)
        err = self.live.error or (self.status.get("error") if self.state == "failed" else None)
        if not self._dirty("error", (self.state, str(err), self.has_checkpoint)):
            return
        if self.damaged:
            from xlu_tui.screens.runs import damage_lines

            box.update("\n".join(damage_lines(self.info, delete="[b]esc[/b] then [b]d[/b] deletes it")))
            box.border_title = "damaged"
            box.add_class("-shown")
        elif self.state == "failed" and err:
            cls = err.get("class") or err.get("error")
            resume = ("[b]r[/b] resume from the last checkpoint" if self.has_checkpoint
                      else "[b]r[/b] resume (starts over: no checkpoint yet)")
            box.update(f"[b]{escape(str(cls))}[/b]: {escape(str(err.get('message')))}\n"
                       f"[dim]hint:[/] {escape(str(err.get('hint')))}\n"
                       f"{resume}   [b]c[/b] clone to change the config")
            box.border_title = "failed"
            box.add_class("-shown")
        else:
            box.remove_class("-shown")

    def metrics_key(self) -> Any:
        return (self.view, tuple((m, len(rows)) for m, rows in self.live.metrics.items()), bool(self.live.data),
                self.status.get("rounds"))

    def render_chart(self) -> None:
        if not self._dirty("chart", self.metrics_key()):
            return
        chart = self.query_one(LineChart)
        box = self.query_one("#chart-box")
        views = self.live.views()
        if not self.view:
            chart.update(chart_data(self.live, ""))
            box.border_title = "accuracy %"
            return
        chart.update(chart_data(self.live, self.view))
        nxt = views[(views.index(self.view) + 1) % len(views)] if self.view in views and len(views) > 1 else ""
        more = f"  [dim]m → {escape(nxt)}[/]" if nxt else ""
        box.border_title = f"accuracy % · [b]{escape(self.view)}[/b]{more}"
        best = best_markup(self.live, self.view)
        if best:
            box.border_subtitle = best

    def render_panels(self) -> None:
        theme = theme_colors(self.app)
        if self._dirty("langs", self.metrics_key()):
            rounds = self.status.get("rounds")
            self.query_one("#langs", Static).update(lang_table(self.live, self.view, theme, rounds) if self.view
                                                    else "[dim]no evaluation yet[/]")
            self.query_one("#langs-box").border_title = f"per language · {self.view}" if self.view else "per language"
        facts = run_facts(self.live, self.config, self.status)
        if self._dirty("facts", facts):
            self.query_one("#run-facts", Static).update(facts)
        width = self.query_one("#loss-panel").content_size.width
        p = self.live.progress
        if self._dirty("losses", (p.get("model"), p.get("round"), p.get("step"), p.get("t"), width)):
            self.query_one("#loss-body", Static).update(losses_table(self.live.losses, p, theme, width=width))
        # Pools and agreement panels for methods that pseudo-label (their metadata says so), and
        # for any run whose events carry them.
        info = find_method_info(self.method())
        pooled = bool(self.live.pools or self.live.agreement) or bool(info and info.pseudo_labels)
        if self._dirty("pooled", pooled):
            for pid in ("pools-panel", "agree-panel"):
                self.query_one(f"#{pid}").set_class(not pooled, "-off")
        if pooled:
            # Side by side, these panels take the width of their rounds, up to 40% of the screen
            # (app.tcss); shown alone on a narrow terminal, the panel's own width.
            narrow = self.has_class("-narrow")
            room = self.size.width * 4 // 10 - 4
            width = self.query_one("#pools-panel").content_size.width if narrow else room
            last = max(self.live.pools, default=None)
            if self._dirty("pools", (len(self.live.pools), str(self.live.pools.get(last)), width)):
                self.query_one("#pools-body", Static).update(pools_table(self.live, theme, width))
            width = self.query_one("#agree-panel").content_size.width if narrow else room
            last = max(self.live.agreement, default=None)
            if self._dirty("agree", (len(self.live.agreement), str(self.live.agreement.get(last)), len(self.live.pools),
                                     width)):
                self.query_one("#agree-body", Static).update(agreement_table(self.live, theme, width))
        self.render_log()
        self._set_panel_titles()

    def render_log(self) -> None:
        if not self._dirty("log", self.live.log_count):
            return
        theme = theme_colors(self.app)
        styles = {"error": theme.get("text-error", "red"), "warn": theme.get("text-warning", "yellow"),
                  "warning": theme.get("text-warning", "yellow"), "good": theme.get("text-success", "green"),
                  "metric": theme.get("text-primary", ""), "dim": theme.get("foreground-muted", "")}
        out = []
        for at, level, text in list(self.live.log)[-200:]:
            style = styles.get(level, "")
            body = f"[{style}]{escape(text)}[/]" if style else escape(text)
            out.append(f"[dim]+{duration(at)}[/] {body}")
        body = self.query_one("#log-body", Static)
        body.update("\n".join(out) if out else "[dim]nothing logged yet[/]")
        self.query_one("#log-panel", VerticalScroll).scroll_end(animate=False)

    def visible_panels(self) -> list[str]:
        return [pid for pid, _ in PANELS if not self.query_one(f"#{pid}").has_class("-off")]

    def _set_panel_titles(self) -> None:
        visible = self.visible_panels()
        if not visible:
            return
        self.panel %= len(visible)
        current = visible[self.panel]
        narrow = self.has_class("-narrow")
        names = dict(PANELS)
        if not self.live.agreement and self.live.pools:  # one view (self-training): precision only
            names["agree-panel"] = "precision"
        for pid in visible:
            widget = self.query_one(f"#{pid}")
            widget.set_class(pid == current, "-current")
            if narrow and len(visible) > 1:
                widget.border_title = "  ".join(f"[b reverse] {names[p]} [/]" if p == pid else names[p]
                                                for p in visible)
                widget.border_subtitle = "p: next panel"
            else:
                widget.border_title = names[pid]
                widget.border_subtitle = ""

    def on_resize(self) -> None:
        self.call_after_refresh(self._after_resize)

    def _after_resize(self) -> None:
        self._set_panel_titles()
        if self.loaded:
            self.render_panels()

    # ----- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers what the run's state allows: stop and kill while it runs or waits,
        resume once it failed, stopped or was interrupted."""
        if action in ("stop", "kill"):
            return self.state in ("running", "queued")
        if action == "resume":
            return self.state in RESUMABLE
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_model(self) -> None:
        views = self.live.views()
        if len(views) < 2:
            self.notify("this run has one model" if views else "no evaluation yet", timeout=2)
            return
        self.view = views[(views.index(self.view) + 1) % len(views)] if self.view in views else views[0]
        self.render_chart()
        self.render_panels()

    def action_panel(self) -> None:
        self.panel += 1
        self._set_panel_titles()
        self.call_after_refresh(self.render_panels)  # the panel shown now knows its width

    def action_stop(self) -> None:
        self.app.stop_run(self.run_id)

    def action_kill(self) -> None:
        self.app.stop_run(self.run_id, kill=True)

    def action_resume(self) -> None:
        if not self.app.refuse_damaged({**self.info, "id": self.run_id, "state": self.state}, "resumed"):
            self.app.resume_run(self.run_id)

    def action_clone(self) -> None:
        if not self.app.refuse_damaged({**self.info, "id": self.run_id, "state": self.state}, "cloned"):
            self.app.new_run(clone_of=self.run_id)

    def action_done(self, msg: Any) -> None:
        if msg.run_id == self.run_id and msg.verb == "delete" and not msg.error and self.app.screen is self:
            self.app.pop_screen()

    def commands(self) -> Iterable[SystemCommand]:
        state = self.state
        if state in ("running", "queued"):
            yield SystemCommand("Stop this run", "Stop after the current step; it checkpoints and can resume",
                                self.action_stop)
            yield SystemCommand("Kill this run", "Kill at once (asks); resumes from the last checkpoint",
                                self.action_kill)
        if state in ("failed", "stopped", "interrupted"):
            yield SystemCommand("Resume this run", "Continue from the last checkpoint", self.action_resume)
        if state != "damaged":
            yield SystemCommand("Clone this run", "A new run from this config, to change and launch", self.action_clone)
        for view in self.live.views():
            if view != self.view:
                yield SystemCommand(f"Chart: {view}", "Show this model's accuracy" if view != MEAN_OF_MODELS
                                    else "Show the mean over the run's models", lambda v=view: self._show(v))
        yield SystemCommand("Back to runs", "Leave this run (it goes on)", self.action_back)

    def _show(self, view: str) -> None:
        self.view = view
        self.render_chart()
        self.render_panels()
