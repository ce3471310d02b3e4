"""A worker that raises outside its own `try` shows one sentence and leaves the app running."""
from __future__ import annotations

import pytest

from test_app_support import anyio_backend, app_for, runs, topics_corpus_read, until  # noqa: F401 - fixtures
from xlu_tui.screens.new_run import NewRunScreen
from xlu_tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio


def errors(app) -> list[str]:  # noqa: ANN001
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_an_app_worker_that_raises_is_an_error_notification_not_the_end(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded, what="runs")

        def boom() -> None:
            raise RuntimeError("the index is torn\nsecond line")

        app.run_worker(boom, name="reading the index", thread=True, exit_on_error=False)
        await until(pilot, lambda: errors(app), what="the error")
        assert errors(app) == ["reading the index failed: RuntimeError: the index is torn"]
        assert app.is_running and isinstance(app.screen, RunsScreen)
        await pilot.press("n")  # and it still answers keys
        await until(pilot, lambda: isinstance(app.screen, NewRunScreen), what="new run form")


async def test_a_screen_worker_that_raises_unexpectedly_leaves_the_form_open(runs, monkeypatch):
    import xlu_tui.screens.new_run as new_run

    def torn(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - an engine bug, outside the worker's try
        raise KeyError("samples_per_s")

    monkeypatch.setattr(new_run, "throughput_estimate", torn)
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loaded, what="runs")
        await pilot.press("n")
        screen = await until(pilot, lambda: isinstance(app.screen, NewRunScreen) and app.screen, what="form")
        await until(pilot, lambda: errors(app), timeout=20, what="the estimate's error")
        assert errors(app) == ["sizing the work failed: KeyError: 'samples_per_s'"]
        assert app.is_running and app.screen is screen
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), what="back to the runs")
