"""The Textual app driven with key presses, on runs recorded from real engine runs
(tests/data/runs, made by tests/record_runs.py)."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, SelectionList, Static

from conftest import ROOT
from engine.config import build
from engine.store import RunStore
from test_app_support import (  # noqa: F401 - fixtures are used by name
    FakeLauncher, anyio_backend, app_for, make_running_run, run_id, runs, topics_corpus_read, until, worker_process,
    writer_for,
)
from xlu_tui.screens.compare import CompareScreen
from xlu_tui.screens.dialogs import ConfirmScreen, ExportScreen
from xlu_tui.screens.live import LiveScreen
from xlu_tui.screens.new_run import NewRunScreen
from xlu_tui.screens.runs import RunsScreen

pytestmark = pytest.mark.anyio


def table_rows(app) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one("#runs", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def names(app) -> list[str]:  # noqa: ANN001
    table = app.screen.query_one("#runs", DataTable)
    col = [c.key.value for c in table.columns.values()].index("name")
    return [r[col] for r in table_rows(app)]


async def shown(pilot, selector: str) -> str:  # noqa: ANN001
    """The plain text a Static shows (its markup or Rich table rendered at the widget's width)."""
    import io

    from rich.console import Console
    from textual.content import Content

    await pilot.pause()
    widget = pilot.app.screen.query_one(selector, Static)
    content = widget.content
    if isinstance(content, str):
        return Content.from_markup(content).plain
    console = Console(width=max(widget.size.width, 60), file=io.StringIO())
    with console.capture() as capture:
        console.print(content)
    return capture.get()


async def loaded_runs(pilot) -> RunsScreen:  # noqa: ANN001
    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded, what="runs")
    return pilot.app.screen


async def move_to(pilot, name: str) -> None:  # noqa: ANN001
    await until(pilot, lambda: name in names(pilot.app), what=name)
    table = pilot.app.screen.query_one("#runs", DataTable)
    table.move_cursor(row=names(pilot.app).index(name))
    await pilot.pause()


async def open_live(pilot, name: str) -> LiveScreen:  # noqa: ANN001
    await loaded_runs(pilot)
    await move_to(pilot, name)
    await pilot.press("enter")
    screen = await until(pilot, lambda: isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen, what="live")
    await until(pilot, lambda: screen.loaded and screen.info, what="events read")
    return screen


# --------------------------------------------------------------------------- runs

async def test_runs_lists_every_recorded_run_with_its_state_and_results(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded_runs(pilot)
        rows = {r[1]: r for r in table_rows(app)}
        assert set(rows) >= {"tiny-seed7", "tiny-seed8", "tiny-stopped", "broken-model", "tiny-cotrain"}
        assert "✓ finished" in rows["tiny-seed7"] and "✗ failed" in rows["broken-model"]
        assert "■ stopped" in rows["tiny-stopped"]
        store = RunStore(runs)
        best = store.show(run_id(runs, "tiny-seed8"))["status"]["best_mean"]
        assert f"{100 * best:.1f}" in rows["tiny-seed8"]
        assert "en→it,de,es" in rows["tiny-seed7"]
        assert "3/3" in rows["tiny-cotrain"]  # round k/K


async def test_filter_as_you_type_and_escape_clears_it(runs):
    app = app_for(runs)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded_runs(pilot)
        await pilot.press("slash", *"seed")
        assert sorted(names(app)) == ["tiny-seed7", "tiny-seed8"]
        await pilot.press("8")
        assert names(app) == ["tiny-seed8"]
        await pilot.press("enter")  # back to the table
        assert app.focused is app.screen.query_one("#runs")
        await pilot.press("escape")
        assert len(names(app)) == len(list(Path(runs).glob("*/config.toml")))


async def test_filter_matches_states_and_languages(runs):
    app = app_for(runs)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded_runs(pilot)
        await pilot.press("slash", *"failed")
        assert names(app) == ["broken-model"]
        await pilot.press(*["backspace"] * 6, *"cotrain")
        assert names(app) == ["tiny-cotrain"]


async def test_sort_by_column_and_reverse(runs):
    app = app_for(runs)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await loaded_runs(pilot)
        screen.sort_by("name")
        await pilot.pause()
        assert names(app) == sorted(names(app))
        await pilot.press("O")
        assert names(app) == sorted(names(app), reverse=True)
        await pilot.press("o")  # the next column
        assert screen.sort_key not in ("name",)


async def test_open_replays_a_finished_run(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_live(pilot, "tiny-seed7")
        assert screen.state == "finished"
        assert "finished" in await shown(pilot, "#live-head") and "round 1/1" in await shown(pilot, "#live-head")
        # one point per epoch evaluation, one line per language plus the mean
        chart = screen.query_one("#chart").data
        assert chart.x_labels == ["e1", "e2", "e3", "e4", "e5", "e6"]
        assert [s.label for s in chart.series] == ["en", "it", "de", "es", "mean"]
        results = RunStore(runs).results(screen.run_id)["lm"]
        assert chart.series[1].values[-1] == pytest.approx(100 * results["it"])
        langs = await shown(pilot, "#langs")
        assert "first" in langs and "best" in langs and f"{100 * results['es']:.1f}" in langs  # one round: from epoch 1
        assert screen.query_one("#pools-panel").has_class("-off")  # finetune keeps no pools
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_app_opens_on_the_live_screen_of_a_run_with_the_runs_beneath(runs):
    """`make_app(open_run=ID)`, as `xlu-tui run --app` opens it: the run's live screen first,
    escape goes back to the list."""
    rid = run_id(runs, "tiny-cotrain")
    app = app_for(runs, open_run=rid)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        assert screen.run_id == rid
        await until(pilot, lambda: screen.loaded and screen.info, what="events read")
        head = await shown(pilot, "#live-head")
        assert "tiny-cotrain" in head and "finished" in head and "round 3/3" in head
        assert [type(s) for s in app.screen_stack[-2:]] == [RunsScreen, LiveScreen]
        await pilot.press("escape")
        runs_screen = await loaded_runs(pilot)
        assert runs_screen.current_id() is not None and "tiny-cotrain" in names(app)


async def test_failed_run_shows_error_and_hint_and_offers_resume_and_clone(runs):
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_live(pilot, "broken-model")
        assert screen.state == "failed"
        error = await shown(pilot, "#live-error")
        assert "ModelLoadError" in error and "must hold a transformers model" in error
        assert "r resume" in error and "c clone" in error
        await pilot.press("r")
        await until(pilot, lambda: launcher.calls, what="resume")
        assert launcher.calls == [("start", screen.run_id, None)]
        await pilot.press("c")
        new = await until(pilot, lambda: isinstance(app.screen, NewRunScreen) and app.screen, what="clone form")
        assert new.clone_of == screen.run_id


async def test_runs_detail_shows_the_error_of_a_failed_run(runs):
    app = app_for(runs)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "broken-model")
        detail = await shown(pilot, "#detail")
        assert "ModelLoadError" in detail and "hint:" in detail and "r resume" in detail


async def test_resume_only_what_can_resume(runs):
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "tiny-seed7")
        await pilot.press("r")
        await until(pilot, lambda: any("can be resumed" in n.message for n in app._notifications), what="refusal")
        assert launcher.calls == []
        await move_to(pilot, "tiny-stopped")
        await pilot.press("r")
        await until(pilot, lambda: launcher.calls, what="resume")
        assert launcher.calls == [("start", run_id(runs, "tiny-stopped"), None)]


async def test_delete_asks_first(runs):
    app = app_for(runs)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "tiny-seed8")
        rid = run_id(runs, "tiny-seed8")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert (Path(runs) / rid).is_dir()
        await pilot.press("d", "y")
        await until(pilot, lambda: not (Path(runs) / rid).exists(), what="deleted")
        await until(pilot, lambda: "tiny-seed8" not in names(app), what="row gone")


async def test_running_run_updates_in_the_table_and_stops(runs, worker_process):
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="going")
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "going")
        assert any("● running" in c for c in table_rows(app)[names(app).index("going")])
        RunStore(runs).write_status(rid, {"latest_mean": 0.4321, "best_mean": 0.5})
        await until(pilot, lambda: "43.2" in table_rows(app)[names(app).index("going")], what="live update")
        await pilot.press("s")
        await until(pilot, lambda: launcher.calls, what="stop")
        assert launcher.calls == [("stop", rid, None)]
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: len(launcher.calls) == 2, what="kill")
        assert launcher.calls[-1] == ("kill", rid, None)


async def test_mark_two_runs_and_compare(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await pilot.press("v")  # nothing marked: says how
        assert isinstance(app.screen, RunsScreen)
        await move_to(pilot, "tiny-seed7")
        await pilot.press("space")
        await move_to(pilot, "tiny-seed8")
        await pilot.press("space", "v")
        screen = await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen, what="compare")
        await until(pilot, lambda: screen.loaded, what="compare read")
        assert sorted(screen.run_ids) == sorted([run_id(runs, "tiny-seed7"), run_id(runs, "tiny-seed8")])
        diff = await shown(pilot, "#diff")
        assert "seed" in diff and "name" in diff and "train.lr" not in diff
        await pilot.press("a")
        assert "train.lr" in await shown(pilot, "#diff")
        results = await shown(pilot, "#results")
        assert "mean" in results and "best at" in results
        chart = screen.query_one("#cmp-chart").data
        assert len(chart.series) == 2 and chart.x_labels[-1] == "e6"
        await pilot.press("l")
        assert screen.language == "en"


async def test_export_renders_markdown_and_writes_it(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await pilot.press("e")
        dialog = await until(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen, what="export")
        await until(pilot, lambda: dialog.text, what="rendered")
        assert dialog.text.startswith("| run | name | method | seed | model |")
        assert "tiny-seed7" in dialog.text and "broken-model" not in dialog.text
        await pilot.press("ctrl+s")
        assert Path("results.md").read_text() == dialog.text


# --------------------------------------------------------------------------- live

async def test_live_follows_a_running_run_as_it_writes(runs, worker_process):
    app = app_for(runs)
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="following")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "following")
        await pilot.press("enter")
        screen = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        await until(pilot, lambda: screen.info, what="info")
        assert screen.state == "running" and "running 1:35" in await shown(pilot, "#live-head")
        with writer_for(runs, rid) as w:
            w.emit("started", pid=1, host="h")
            w.emit("data", sizes={"D": 480, "U": 120, "Dbi": 0, "test": {"en": 40, "it": 40}}, source="en",
                   targets=["it"])
            w.emit("phase", phase="train", model="lm", round=0)
            w.emit("progress", model="lm", round=0, epoch=0, epochs=2, step=5, total=60, losses={"ce": 2.5},
                   samples_per_s=300.0, eta_s=12.0)
        await until(pilot, lambda: screen.applied == 4, what="first events")
        line = screen.query_one("#live-progress").render()
        assert "step 5/60" in str(line) and "ETA 0:12" in str(line)
        with writer_for(runs, rid) as w:
            w.emit("metrics", round=0, model="lm", split="test", values={"en": 0.5, "it": 0.25}, mean=0.25, epoch=1)
            w.emit("progress", model="lm", round=0, epoch=1, epochs=2, step=60, total=60, losses={"ce": 1.5},
                   samples_per_s=320.0, eta_s=0.0)
            w.emit("metrics", round=0, model="lm", split="test", values={"en": 0.75, "it": 0.5}, mean=0.5, epoch=2)
        await until(pilot, lambda: screen.applied == 7, what="metrics")
        chart = screen.query_one("#chart").data
        assert chart.x_labels == ["e1", "e2"]
        assert chart.series[-1].label == "mean" and chart.series[-1].values == [25.0, 50.0]
        assert "+25.0" not in await shown(pilot, "#langs")  # zero-shot is the latest round-0 evaluation
        assert "ce" in await shown(pilot, "#loss-body")


async def test_cotrain_run_shows_pools_agreement_and_switches_models(runs):
    app = app_for(runs)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await open_live(pilot, "tiny-cotrain")
        assert not screen.query_one("#pools-panel").has_class("-off")
        pools = await shown(pilot, "#pools-body")
        assert "U_lm" in pools and "S_emb" in pools
        assert "r1" in pools and "r2" in pools  # rounds count from 1 on screen, like round k/K
        agreement = await shown(pilot, "#agree-body")
        assert "all" in agreement and "it" in agreement and "prec S_lm" in agreement
        chart = screen.query_one("#chart").data
        assert chart.x_labels == ["r1", "r2", "r3"]
        assert "0-shot" in await shown(pilot, "#langs")  # the end of round 1: trained on D alone
        assert screen.view == "lm"
        await pilot.press("m")
        assert screen.view == "emb"
        await pilot.press("m")
        assert screen.view == "mean of models"
        lm, emb = screen.live.series("lm"), screen.live.series("emb")
        point = sorted(lm)[0]
        mean = screen.query_one("#chart").data.series[0].values[0]
        assert mean == pytest.approx(100 * (lm[point]["en"] + emb[point]["en"]) / 2)


async def test_live_shows_every_loss_term_that_arrives_and_the_stage_that_trains(runs, worker_process):
    """Language adaptation trains f_lm in two stages with terms of their own (ce+la, then ce+sa):
    the panel shows each term per model, dims those the current step no longer reports, and the
    progress line and head say which stage trains. A method without pseudo-labels has no pools."""
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="staged")
    config = Path(runs) / rid / "config.toml"
    config.write_text(config.read_text().replace('name = "finetune"', 'name = "translate-train"'))
    assert 'name = "translate-train"' in config.read_text()
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_live(pilot, "staged")
        with writer_for(runs, rid) as w:
            w.emit("started", pid=1, host="h")
            w.emit("phase", phase="train", model="lm", round=0, stage=1)
            for step in (1, 2, 3):
                w.emit("progress", model="lm", round=0, stage=1, epoch=0, epochs=1, step=step, total=3,
                       losses={"ce": 2.0 / step, "la": 1.0 / step}, samples_per_s=100.0, eta_s=1.0)
            w.emit("phase", phase="train", model="lm", round=0, stage=2)
            w.emit("progress", model="lm", round=0, stage=2, epoch=0, epochs=1, step=1, total=4,
                   losses={"ce": 0.9, "sa": 3.25}, samples_per_s=90.0, eta_s=2.0)
        await until(pilot, lambda: screen.applied == 7, what="events")
        losses = await shown(pilot, "#loss-body")
        assert all(term in losses for term in ("ce", "la", "sa")) and "3.25" in losses
        assert "lm stage 2" in str(screen.query_one("#live-progress").render())
        assert "phase train · stage 2" in await shown(pilot, "#live-head")
        assert screen.query_one("#pools-panel").has_class("-off")  # translate-train keeps no pools


def test_losses_table_dims_the_terms_the_current_step_does_not_report():
    from xlu_tui.tables import losses_table

    theme = {"foreground-muted": "#777777", "text-primary": "#0000ff"}
    history = {("lm", "ce"): [2.0, 1.0], ("emb", "ce"): [1.5], ("lm", "la"): [0.5]}
    text = losses_table(history, {"model": "lm", "losses": {"ce": 1.0, "la": 0.5}}, theme, width=60)
    lines = text.plain.splitlines()
    assert [x.split()[:2] for x in lines[1:4]] == [["lm", "ce"], ["la", "0.5000"], ["emb", "ce"]]  # by model

    def style_of(word: str, line: int) -> str:
        start = sum(len(x) + 1 for x in lines[:line]) + lines[line].index(word)
        return " ".join(str(s.style) for s in text.spans if s.start <= start < s.end)

    assert "#777777" not in style_of("la", 2) and "#777777" in style_of("ce", 3)  # emb is not training
    assert max(len(x) for x in lines) <= 60


async def test_narrow_terminal_shows_one_panel_at_a_time(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, "tiny-cotrain")
        shown = lambda: [p.id for p in screen.query(".panel") if p.display and p.has_class("-current")]  # noqa: E731
        assert shown() == ["log-panel"]
        await pilot.press("p")
        assert shown() == ["loss-panel"]
        await pilot.press("p", "p")
        assert shown() == ["agree-panel"]


# --------------------------------------------------------------------------- new run

async def open_form(pilot, key: str = "n") -> NewRunScreen:  # noqa: ANN001
    await loaded_runs(pilot)
    await pilot.press(key)
    screen = await until(pilot, lambda: isinstance(pilot.app.screen, NewRunScreen) and pilot.app.screen, what="form")
    await until(pilot, lambda: screen.ready and (screen.config or screen.error), what="form filled")
    return screen


async def type_into(pilot, screen: NewRunScreen, path: str, text: str) -> None:  # noqa: ANN001
    """Put `text` in a field, its last character typed as a key press (the form checks on each)."""
    box = screen.control(path)
    assert isinstance(box, Input)
    box.focus()
    box.value = text[:-1]
    box.cursor_position = len(box.value)
    await pilot.press(text[-1])
    await pilot.pause()


async def test_new_run_offers_the_tasks_languages_and_the_methods_parameters_and_checks_as_you_type(runs):
    from engine.methods import method_params
    from engine.tasks import get_task

    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(pilot)
        assert screen.config is not None and screen.config.preset == "demo-finetune"
        targets = screen.control("task.target_langs")
        assert isinstance(targets, SelectionList)
        offered = [targets.get_option_at_index(i).value for i in range(targets.option_count)]
        assert offered == [x for x in get_task("topics").languages() if x != "en"]
        # every field checked as you type, with the engine's own sentence
        await type_into(pilot, screen, "train.epochs", "0")
        assert screen.error == "train.epochs is 0: input should be greater than or equal to 1"
        assert screen.row("train.epochs").has_class("-invalid")
        assert "train.epochs is 0" in await shown(pilot, "#validity")
        assert "train.epochs is 0" in await shown(pilot, "#field-help-line")
        assert screen.query_one("#launch").disabled
        await pilot.press("backspace", "2")
        assert screen.error is None and screen.config.train.epochs == 2
        assert screen.row("train.epochs").has_class("-changed")
        await type_into(pilot, screen, "train.lr", "fast")
        assert screen.error.startswith("train.lr is 'fast'")
        await type_into(pilot, screen, "train.lr", "0.001")
        assert screen.error is None
        # the method brings its declared parameters
        method = screen.control("method.name")
        assert isinstance(method, Select)
        method.value = "cotrain"
        await until(pilot, lambda: screen.method_shown == "cotrain", what="method params")
        await pilot.pause()
        assert [s.path for s in screen.method_fields] == [f"method.{k}" for k in method_params("cotrain").model_fields]
        assert screen.row("method.rounds") is not None and screen.row("method.eval_each_epoch") is None
        await type_into(pilot, screen, "method.rounds", "0")
        assert screen.error.startswith("method.rounds is 0")


async def test_a_method_the_engine_cannot_load_is_an_error_beside_the_form_not_a_crash(runs, monkeypatch):
    from engine import methods

    monkeypatch.setitem(methods._MODULES, "half-written", "engine.methods.not_there")
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(pilot)
        screen.control("method.name").value = "half-written"
        await until(pilot, lambda: screen.method_shown == "half-written" and screen.error, what="the error")
        assert screen.error.startswith("method.name is half-written: the engine cannot load it")
        assert screen.method_fields == [] and screen.query_one("#launch").disabled
        screen.control("method.name").value = "finetune"
        await until(pilot, lambda: screen.method_shown == "finetune" and screen.config is not None, what="valid")


async def test_save_as_toml_then_launch_opens_the_run_live(runs):
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(pilot)
        screen.control("name").value = "from-the-form"
        await type_into(pilot, screen, "train.epochs", "1")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen.query("#path"), what="save dialog")
        assert app.screen.query_one("#path", Input).value == "from-the-form.toml"
        await pilot.press("enter")
        await until(pilot, lambda: Path("from-the-form.toml").exists(), what="written")
        assert build("from-the-form.toml").to_dict() == screen.config.to_dict()
        assert tomllib.loads(Path("from-the-form.toml").read_text())["train"]["epochs"] == 1
        await until(pilot, lambda: app.screen is screen, what="back on the form")
        await pilot.press("ctrl+r")
        live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        assert launcher.calls == [("start", live.run_id, None)]
        cfg = RunStore(runs).config(live.run_id)
        assert cfg.to_dict() == build(preset="demo-finetune", sets=["train.epochs=1"], name="from-the-form").to_dict()
        assert [type(s) for s in app.screen_stack] == [RunsScreen, LiveScreen]


async def test_clone_fills_the_form_marks_changes_and_sizes_the_work(runs, monkeypatch):
    from engine.config import config_diff

    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "tiny-seed7")
        screen = await open_form(pilot, "c")
        src = run_id(runs, "tiny-seed7")
        assert screen.clone_of == src
        assert screen.control("models.lm").value == RunStore(runs).config(src).models.lm
        assert screen.control("name").value == "tiny-seed7"
        assert not any(screen.row(s.path).has_class("-changed") for s in screen.all_specs())
        # before launch: the size of the work, and a time from the speed the recorded runs reached
        await until(pilot, lambda: screen.estimate and screen.estimate.sizes, timeout=20, what="estimate")
        text = await shown(pilot, "#estimate")
        assert "480" in text and "labeled en" in text and "120" in text and "unlabeled" in text
        assert "180 steps" in text and "samples/s" in text  # 480/16 * 6 epochs
        await type_into(pilot, screen, "seed", "9")
        assert screen.row("seed").has_class("-changed")
        assert "1 change from run tiny-seed7" in await shown(pilot, "#changes")
        try:
            import engine.models.check  # noqa: F401
        except ImportError:
            pass
        else:  # the recorded runs' model folder is not on this machine: the launch says so, makes no run
            before = sorted(p.name for p in Path(runs).iterdir())
            await pilot.press("ctrl+r")
            await until(pilot, lambda: any("models.lm" in n.message and "no such folder" in n.message
                                           for n in app._notifications), what="the model check's sentence")
            assert launcher.calls == [] and sorted(p.name for p in Path(runs).iterdir()) == before
            assert isinstance(app.screen, NewRunScreen)
            monkeypatch.setattr("xlu_tui.app.check_models", lambda cfg: None)  # as if the folder were here
        await pilot.press("ctrl+r")
        live = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        diff = config_diff(RunStore(runs).config_dict(src), RunStore(runs).config_dict(live.run_id))
        assert set(diff) == {"seed"} and diff["seed"] == (7, 9)  # the name stays: the runs group by it


# --------------------------------------------------------------------------- app

async def test_palette_offers_what_fits_the_screen(runs):
    launcher = FakeLauncher()
    app = app_for(runs, launcher=launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await move_to(pilot, "broken-model")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "New run" in titles and "Resume run broken-model" in titles and "Export results" in titles
        assert not any(t.startswith("Stop run") for t in titles)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LiveScreen), what="live")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Resume this run" in titles and "Clone this run" in titles and "New run" not in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"resume", "enter")
        await until(pilot, lambda: launcher.calls, what="resume from the palette")
        assert launcher.calls == [("start", run_id(runs, "broken-model"), None)]


async def test_question_mark_lists_the_keys(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded_runs(pilot)
        await pilot.press("question_mark")
        assert app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        assert not app.screen.query("HelpPanel")


async def test_quitting_leaves_a_run_going_and_reopening_follows_it(runs, worker_process):
    rid = make_running_run(runs, "tiny-seed7", worker_process, name="survivor")
    pid = RunStore(runs).raw_status(rid)["pid"]
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_live(pilot, "survivor")
        await pilot.press("q")
    from engine.store import pid_alive

    assert pid_alive(pid, RunStore(runs).run_dir(rid)) and RunStore(runs).status(rid)["state"] == "running"
    with writer_for(runs, rid) as w:
        w.emit("started", pid=pid, host="h")
        w.emit("log", level="info", message="still here")
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_live(pilot, "survivor")
        await until(pilot, lambda: screen.applied == 2, what="events")
        assert screen.state == "running" and "still here" in await shown(pilot, "#log-body")


def test_the_app_leaves_the_training_stack_unloaded():
    code = ("import sys, time\nt = time.perf_counter()\nfrom xlu_tui.app import make_app\n"
            "app = make_app('runs')\n"
            "import xlu_tui.screens.runs, xlu_tui.screens.live, xlu_tui.screens.new_run, xlu_tui.screens.compare\n"
            "took = time.perf_counter() - t\n"
            "heavy = [m for m in ('torch', 'transformers', 'tensorflow', 'datasets') if m in sys.modules]\n"
            "print('HEAVY', heavy, 'TOOK', round(took, 3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    assert float(out.stdout.split("TOOK")[1]) < 1.5, out.stdout  # opens fast
