"""The runs screen's preview of the highlighted run, and the new-run form's description of the
chosen preset and method: shown where the terminal has room, absent at 80x24."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from engine.methods import method_params
from test_app import loaded_runs, move_to, open_form, shown
from test_app_support import (  # noqa: F401 - fixtures are used by name
    anyio_backend, app_for, make_running_run, run_id, runs, topics_corpus_read, until, worker_process, writer_for,
)
from xlu_tui.widgets.chart import LineChart
from xlu_tui.widgets.preview import RunPreview

pytestmark = pytest.mark.anyio


async def previewing(pilot, runs_dir, name: str):  # noqa: ANN001, ANN201
    """Highlight run `name` and wait until the preview shows it as read from its folder."""
    await move_to(pilot, name)
    rid = run_id(runs_dir, name)
    screen = pilot.app.screen
    await until(pilot, lambda: screen.preview_id == rid, what=f"preview of {name}")
    await pilot.pause()
    return screen


async def test_the_preview_follows_the_highlight(runs):
    app = app_for(runs)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await loaded_runs(pilot)
        assert screen.mode == "below"
        assert screen.query_one(RunPreview).display and not screen.query_one("#detail").display

        await previewing(pilot, runs, "tiny-cotrain")
        chart = screen.query_one("#pv-chart", LineChart).data
        assert chart.x_labels == ["r1", "r2", "r3"]  # its rounds
        assert [s.label for s in chart.series] == ["en", "it", "de", "es", "mean"]
        assert "lm" in str(screen.query_one("#pv-chart-box").border_title)
        means = await shown(pilot, "#pv-means")
        assert "lm" in means and "emb" in means and "best" in means  # both models' mean and best
        facts = await shown(pilot, "#pv-facts")
        assert "method  cotrain" in facts and "rounds=3" in facts and "emb use" in facts
        assert "tiny-cotrain" in await shown(pilot, "#pv-head")

        await previewing(pilot, runs, "broken-model")
        head = await shown(pilot, "#pv-head")
        assert "✗ failed" in head and "ModelLoadError" in head and "hint:" in head
        assert not screen.query_one("#pv-chart-box").display  # it never evaluated: no empty chart
        assert "method  finetune" in await shown(pilot, "#pv-facts")

        await previewing(pilot, runs, "tiny-seed7")  # a run of one round: its epochs
        assert screen.query_one("#pv-chart", LineChart).data.x_labels[0] == "e1"
        assert screen.query_one("#pv-chart-box").display


async def test_no_preview_at_80x24_the_detail_lines_as_before(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded_runs(pilot)
        await move_to(pilot, "broken-model")
        assert screen.mode == "" and not screen.query_one(RunPreview).display
        detail = await shown(pilot, "#detail")
        assert "ModelLoadError" in detail and "method finetune" in detail
        assert not screen.previews.runs  # nothing read for a preview that is not shown


async def test_a_wide_short_terminal_has_the_preview_beside_the_table(runs):
    app = app_for(runs)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await loaded_runs(pilot)
        await previewing(pilot, runs, "tiny-seed8")
        assert screen.mode == "side"
        table, preview = screen.query_one("#runs", DataTable), screen.query_one(RunPreview)
        assert preview.region.x >= table.region.right and preview.region.height > 20
        assert "id" not in [str(c.key.value) for c in table.columns.values()]  # columns fit what is left


async def test_the_preview_of_a_running_run_grows_with_its_events(runs, worker_process):
    app = app_for(runs)
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="going")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded_runs(pilot)
        await previewing(pilot, runs, "going")
        assert screen.query_one("#pv-progress").display
        with writer_for(runs, rid) as w:
            w.emit("started", pid=1, host="h")
            w.emit("data", sizes={"D": 480, "U": 120, "Dbi": 0, "test": {"en": 40, "it": 40}}, source="en",
                   targets=["it"])
            for step in range(1, 31):
                w.emit("progress", model="lm", round=0, epoch=0, epochs=2, step=step, total=60,
                       losses={"ce": 2.5}, samples_per_s=300.0, eta_s=12.0)
            w.emit("metrics", round=0, model="lm", split="test", values={"en": 0.5, "it": 0.25}, mean=0.25, epoch=1)
        chart = lambda: screen.query_one("#pv-chart", LineChart).data  # noqa: E731
        await until(pilot, lambda: chart().x_labels == ["e1"], what="first evaluation")
        assert "step 30/60" in str(screen.query_one("#pv-progress").render())
        with writer_for(runs, rid) as w:
            w.emit("metrics", round=0, model="lm", split="test", values={"en": 0.75, "it": 0.5}, mean=0.5, epoch=2)
        await until(pilot, lambda: chart().x_labels == ["e1", "e2"], what="second evaluation")
        assert chart().series[-1].values == [25.0, 50.0]
        assert "best 50.0 at e2" in await shown(pilot, "#pv-means")
        # the fold kept one progress event of the thirty: the preview draws the latest alone
        assert screen.previews.get(rid).live.events_seen == 5


async def test_new_run_describes_the_preset_and_the_methods_parameters_on_a_tall_terminal(runs):
    from textual.widgets import Select

    app = app_for(runs)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await open_form(pilot)
        assert screen.query_one("#about-box").display
        about = await shown(pilot, "#about")
        assert "Preset demo-finetune" in about and "co-training demo's first round" in about
        assert "Method finetune" in about and "evaluate on the test sets after every epoch" in about
        select = screen.control("method.name")
        assert isinstance(select, Select)
        select.value = "cotrain"
        await until(pilot, lambda: "[b]Method[/b] cotrain" in screen.query_one("#about", Static).content,
                    what="the method's help")
        about = await shown(pilot, "#about")
        for name, info in method_params("cotrain").model_fields.items():
            assert name in about and info.description in about.replace("\n", " ")
        assert "rounds = 5" in about  # the default: nothing marked


async def test_new_run_at_80x24_keeps_the_side_to_validity_work_and_changes(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        assert not screen.query_one("#about-box").display
        assert screen.query_one("#changes").region.height >= 3
