"""SVG snapshots of every screen as users see them, at 80x24 and on a large terminal, dark and light.

Update after an intended change with `pytest tests/test_app_snapshots.py --snapshot-update`, then
look at the SVGs (tests/__snapshots__/test_app_snapshots/) before committing them.
"""
from __future__ import annotations

import pytest
from textual.widgets import DataTable

from test_app_support import (  # noqa: F401 - fixtures are used by name
    app_for, make_running_run, run_id, runs, topics_corpus_read, until, worker_process, writer_for,
)
from xlu_tui.screens.compare import CompareScreen
from xlu_tui.screens.dialogs import ExportScreen
from xlu_tui.screens.live import LiveScreen
from xlu_tui.screens.new_run import NewRunScreen
from xlu_tui.screens.runs import RunsScreen

SMALL, LARGE, MEDIUM = (80, 24), (200, 50), (120, 36)


async def runs_loaded(pilot) -> None:  # noqa: ANN001
    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded)
    screen = pilot.app.screen
    # where the screen previews the highlighted run, the shot waits for it to be read
    await until(pilot, lambda: not screen.mode or screen.preview_id == screen.current_id())


async def select(pilot, name: str) -> None:  # noqa: ANN001
    await runs_loaded(pilot)
    screen = pilot.app.screen
    table = screen.query_one("#runs", DataTable)
    ids = [str(k.value) for k in table.rows]
    rid = run_id(pilot.app.store.root, name)
    table.move_cursor(row=ids.index(rid))
    # where the screen previews the run, the shot waits for it to be read
    await until(pilot, lambda: not screen.mode or screen.preview_id == rid)
    await pilot.pause()


def opened(name: str, *keys: str):  # noqa: ANN201
    """Before the shot: open run `name` and wait until its events are on screen."""
    async def run_before(pilot) -> None:  # noqa: ANN001
        await select(pilot, name)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen.loaded
                    and pilot.app.screen.info)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()
    return run_before


def steady_cursor(pilot) -> None:  # noqa: ANN001
    """A blinking cursor would make the shot depend on the moment it is taken."""
    from textual.widgets import Input

    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


def form(key: str = "n", name: str | None = None):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        if name:
            await select(pilot, name)
        else:
            await runs_loaded(pilot)
        await pilot.press(key)
        await until(pilot, lambda: isinstance(pilot.app.screen, NewRunScreen) and pilot.app.screen.ready
                    and pilot.app.screen.estimate is not None, timeout=20)
        steady_cursor(pilot)
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x50"])
def test_runs(snap_compare, runs, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await select(pilot, "broken-model")
    assert snap_compare(app_for(runs), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [LARGE, (160, 30)], ids=["200x50", "160x30"])
def test_runs_preview_of_a_cotraining_run(snap_compare, runs, size):
    """Below the table on a tall terminal, beside it on a wide short one."""
    async def run_before(pilot) -> None:  # noqa: ANN001
        await select(pilot, "tiny-cotrain")
    assert snap_compare(app_for(runs), terminal_size=size, run_before=run_before)


def test_runs_filtered_and_marked(snap_compare, runs):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await select(pilot, "tiny-seed8")
        await pilot.press("space")
        await select(pilot, "tiny-seed7")
        await pilot.press("space", "slash", *"seed")
        steady_cursor(pilot)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=SMALL, run_before=run_before)


def test_runs_light_theme_with_a_running_run(snap_compare, runs, worker_process):
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="going")
    from engine.store import RunStore

    RunStore(runs).write_status(rid, {"latest_mean": 0.25, "best_mean": 0.3})

    async def run_before(pilot) -> None:  # noqa: ANN001
        await select(pilot, "going")
    assert snap_compare(app_for(runs, theme="textual-light"), terminal_size=MEDIUM, run_before=run_before)


def test_runs_keys_help(snap_compare, runs):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await runs_loaded(pilot)
        await pilot.press("question_mark")
    assert snap_compare(app_for(runs), terminal_size=MEDIUM, run_before=run_before)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x50"])
def test_live_finished_finetune(snap_compare, runs, size):
    assert snap_compare(app_for(runs), terminal_size=size, run_before=opened("tiny-seed7"))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x50"])
def test_live_cotrain(snap_compare, runs, size):
    assert snap_compare(app_for(runs), terminal_size=size, run_before=opened("tiny-cotrain"))


def test_live_cotrain_mean_of_models_panel_pools(snap_compare, runs):
    assert snap_compare(app_for(runs), terminal_size=SMALL, run_before=opened("tiny-cotrain", "m", "m", "p", "p"))


def test_live_failed(snap_compare, runs):
    assert snap_compare(app_for(runs), terminal_size=SMALL, run_before=opened("broken-model"))


def test_live_running_light_theme(snap_compare, runs, worker_process):
    """A language-adaptation run in its second stage: the stage in the head and the progress line,
    the terms of both stages in the losses panel (stage 1's la dimmed), no pools panel."""
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="going", method="langadapt")
    with writer_for(runs, rid) as w:
        w.emit("started", pid=1, host="h")
        w.emit("data", sizes={"D": 480, "U": 120, "Dbi": 100, "test": {"en": 40, "it": 40, "de": 40}}, source="en",
               targets=["it", "de"])
        w.emit("phase", phase="train", model="lm", round=0, stage=1)
        for step in range(1, 31):
            w.emit("progress", model="lm", round=0, stage=1, epoch=(step - 1) // 10, epochs=3, step=step, total=30,
                   losses={"ce": round(2.5 - step / 20, 4), "la": round(1.2 - step / 40 + (step % 3) / 20, 4)},
                   samples_per_s=412.0, eta_s=(30 - step) * 0.1)
            if step % 10 == 0:
                en, it, de = 0.2 + step / 100, 0.1 + step / 120, 0.05 + step / 150
                w.emit("metrics", round=0, model="lm", split="test", values={"en": en, "it": it, "de": de},
                       mean=(it + de) / 2, epoch=step // 10)
        w.emit("phase", phase="train", model="lm", round=0, stage=2)
        for step in range(1, 5):
            w.emit("progress", model="lm", round=0, stage=2, epoch=0, epochs=1, step=step, total=7,
                   losses={"ce": round(1.0 - step / 20, 4), "sa": round(3.0 - step / 5, 4)}, samples_per_s=388.0,
                   eta_s=(7 - step) * 0.5)
    assert snap_compare(app_for(runs, theme="textual-light"), terminal_size=MEDIUM, run_before=opened("going"))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x50"])
def test_new_run_from_the_demo(snap_compare, runs, size):
    assert snap_compare(app_for(runs), terminal_size=size, run_before=form())


def test_new_run_cotrain_parameters_described(snap_compare, runs):
    """A tall terminal's side: the preset and method described, each parameter's help."""
    async def run_before(pilot) -> None:  # noqa: ANN001
        await form()(pilot)
        screen = pilot.app.screen
        screen.read_preset("demo")
        await until(pilot, lambda: screen.preset_shown == "demo" and screen.ready
                    and screen.estimate is not None and screen.estimate.key == screen.estimate_key, timeout=20)
        steady_cursor(pilot)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=LARGE, run_before=run_before)


def test_new_run_invalid_field(snap_compare, runs):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await form()(pilot)
        screen = pilot.app.screen
        box = screen.control("train.epochs")
        box.focus()
        box.value = ""
        await pilot.press("0")
        await until(pilot, lambda: screen.error)
        steady_cursor(pilot)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=MEDIUM, run_before=run_before)


def test_clone_with_changes_marked(snap_compare, runs):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await form("c", "tiny-seed7")(pilot)
        screen = pilot.app.screen
        box = screen.control("seed")
        box.focus()
        box.value = "1"
        await pilot.press("1")
        await until(pilot, lambda: screen.row("seed").has_class("-changed"))
        screen.query_one("#form").scroll_home(animate=False)
        await until(pilot, lambda: screen.estimate and screen.estimate.key == screen.estimate_key, timeout=20)
        steady_cursor(pilot)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=(200, 50), run_before=run_before)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x50"])
def test_compare(snap_compare, runs, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        for name in ("tiny-seed7", "tiny-seed8", "tiny-cotrain"):
            await select(pilot, name)
            await pilot.press("space")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.loaded)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=size, run_before=run_before)


def test_export_dialog(snap_compare, runs):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await runs_loaded(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen) and pilot.app.screen.text)
        steady_cursor(pilot)
        await pilot.pause()
    assert snap_compare(app_for(runs), terminal_size=MEDIUM, run_before=run_before)
