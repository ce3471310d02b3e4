"""A damaged run (a file of its folder unreadable) among good ones: the app lists it with its own
mark, says what is wrong and how to recover, refuses what needs a readable run in one sentence,
deletes it, and never crashes on it."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable

from test_app import loaded_runs, names, shown, table_rows
from test_app_support import (  # noqa: F401 - fixtures are used by name
    FakeLauncher, anyio_backend, app_for, damage, run_id, runs, topics_corpus_read, until,
)
from xlu_tui.screens.compare import CompareScreen
from xlu_tui.screens.dialogs import ConfirmScreen
from xlu_tui.screens.live import LiveScreen
from xlu_tui.screens.new_run import NewRunScreen
from xlu_tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio


async def move_to_id(pilot, rid: str) -> None:  # noqa: ANN001
    table = pilot.app.screen.query_one("#runs", DataTable)
    await until(pilot, lambda: rid in [str(k.value) for k in table.rows], what=rid)
    table.move_cursor(row=table.get_row_index(rid))
    await pilot.pause()


def said(app) -> list[str]:  # noqa: ANN001
    return [n.message for n in app._notifications]


async def test_a_damaged_run_is_listed_explained_refused_and_deleted(runs):
    bad = run_id(runs, "tiny-seed8")
    damage(runs, bad, "status.json")
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(100, 30)) as pilot:  # small: the detail lines, no preview
        await loaded_runs(pilot)
        rows = {r[1]: r for r in table_rows(app)}
        assert {"tiny-seed7", "tiny-cotrain", "tiny-stopped", "broken-model"} <= set(rows)  # the others stay
        state_col = [c.key.value for c in app.screen.query_one("#runs", DataTable).columns.values()].index("state")
        bad_row = next(r for r in table_rows(app) if r[1] == "tiny-seed8")
        assert bad_row[state_col] == "▲ damaged"  # a mark of its own: reads without colour
        await move_to_id(pilot, bad)
        detail = await shown(pilot, "#detail")
        assert "damaged" in detail and "status.json" in detail and "to recover:" in detail, detail
        # resume, clone, compare: one sentence each, nothing started, no form opened
        await pilot.press("r")
        await until(pilot, lambda: any("cannot be resumed" in m for m in said(app)), what="resume refused")
        await pilot.press("c")
        await until(pilot, lambda: any("cannot be cloned" in m for m in said(app)), what="clone refused")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("space")  # mark it, and a good run
        await move_to_id(pilot, run_id(runs, "tiny-seed7"))
        await pilot.press("space")
        await pilot.press("v")
        await until(pilot, lambda: any("cannot be compared" in m for m in said(app)), what="compare refused")
        assert isinstance(app.screen, RunsScreen) and launcher.calls == []
        assert all("status.json" in m for m in said(app) if "cannot be" in m)
        # enter shows what is wrong instead of crashing
        await move_to_id(pilot, bad)
        await pilot.press("enter")
        live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        await until(pilot, lambda: live.info, what="run read")
        error = await shown(pilot, "#live-error")
        assert "damaged" in error and "status.json" in error and "to recover:" in error, error
        assert "damaged" in await shown(pilot, "#live-head")
        await pilot.press("c")
        await until(pilot, lambda: sum("cannot be cloned" in m for m in said(app)) == 2, what="clone refused")
        assert isinstance(app.screen, LiveScreen)
        await pilot.press("escape")
        await loaded_runs(pilot)
        # delete works
        await move_to_id(pilot, bad)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: not (runs / bad).exists(), what="deleted")
        await until(pilot, lambda: "tiny-seed8" not in names(app), what="row gone")
        assert "tiny-seed7" in names(app)


async def test_a_damaged_config_or_results_never_crashes_preview_live_or_compare(runs):
    no_config, no_results = run_id(runs, "tiny-cotrain"), run_id(runs, "tiny-seed7")
    damage(runs, no_config, "config.toml")
    damage(runs, no_results, "results.json")
    app = app_for(runs)
    async with app.run_test(size=(160, 50)) as pilot:  # large: the preview below the table
        screen = await loaded_runs(pilot)
        assert screen.mode
        for rid in (no_config, no_results):
            await move_to_id(pilot, rid)
            await until(pilot, lambda: screen.preview_id == rid, what=f"preview of {rid}")
            head = await shown(pilot, "#pv-head")
            assert "damaged" in head and ("config.toml" in head or "results.json" in head), head
        # the live screen of each: what is wrong, and what the events tell
        for rid in (no_config, no_results):
            app.open_run(rid)
            live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.run_id == rid
                               and app.screen, what="live")
            await until(pilot, lambda: live.info and live.loaded, what="events read")
            assert "damaged" in await shown(pilot, "#live-error")
            assert live.live.metrics, "the events are still read and drawn"
            await pilot.press("escape")
            await loaded_runs(pilot)
        # compare, opened on them anyway (the Runs screen refuses; the screen itself must cope)
        app.compare_runs([no_config, no_results, run_id(runs, "tiny-seed8")])
        cmp = await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.loaded and app.screen,
                          what="compare")
        assert len(cmp.runs) == 3
        assert "damaged" in await shown(pilot, "#compare-head")
        await pilot.press("a", "m", "l")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)


async def test_a_clone_form_of_a_damaged_run_says_so_and_closes(runs):
    bad = run_id(runs, "tiny-stopped")
    damage(runs, bad, "config.toml")
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        app.new_run(clone_of=bad)  # as the palette of another screen might
        await until(pilot, lambda: any("cannot be cloned" in m for m in said(app)), what="clone refused")
        await until(pilot, lambda: not isinstance(app.screen, NewRunScreen), what="form closed")
