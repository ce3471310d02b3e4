"""End to end, slow: launch a real run (the tiny transformer) from the app, quit while it trains,
reopen the app and follow the same run to its end. Run with `pytest -m slow tests/test_app_e2e.py`."""
from __future__ import annotations

import pytest

from engine.store import RunStore, pid_alive
from test_app_support import (  # noqa: F401 - fixtures are used by name
    anyio_backend, app_for, run_id, runs, topics_corpus_read, until,
)
from xlu_tui.screens.live import LiveScreen
from xlu_tui.screens.new_run import NewRunScreen
from xlu_tui.screens.runs import RunsScreen

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_launch_from_the_app_quit_reopen_and_follow_to_the_end(runs, tiny_model, monkeypatch):
    from engine.launcher import LocalLauncher
    from textual.widgets import DataTable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = RunStore(runs.resolve())  # absolute, as the app's own store: workers start elsewhere
    app = app_for(runs, launcher=LocalLauncher(store))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
        table = app.screen.query_one("#runs", DataTable)
        table.move_cursor(row=[str(k.value) for k in table.rows].index(run_id(runs, "tiny-seed7")))
        await pilot.press("c")
        form = await until(pilot, lambda: isinstance(app.screen, NewRunScreen) and app.screen.ready and app.screen)
        form.control("name").value = "from-the-app"
        form.control("models.lm").value = str(tiny_model)
        form.control("train.epochs").value = "2"
        form.control("task.max_source").value = "160"
        await pilot.press("ctrl+r")
        live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen)
        rid = live.run_id
        await until(pilot, lambda: live.live.progress, timeout=120, what="training steps on screen")
        pid = store.status(rid)["pid"]
        await pilot.press("q")
    assert pid_alive(pid), "quitting the app must leave the run going"

    app = app_for(runs, launcher=LocalLauncher(store))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded)
        table = app.screen.query_one("#runs", DataTable)
        table.move_cursor(row=[str(k.value) for k in table.rows].index(rid))
        await pilot.press("enter")
        live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen)
        await until(pilot, lambda: live.state == "finished", timeout=180, what="the run to finish")
        await until(pilot, lambda: live.live.results, what="results")
        chart = live.query_one("#chart").data
        assert chart.x_labels == ["e1", "e2"]
        assert RunStore(runs).results(rid)["lm"]["mean"] == pytest.approx(live.live.results["lm"]["mean"])
