"""What a new user's trial found, driven with key presses: long names, clones keeping the name,
the keys help, the form's messages and change marks, the footer's keys per state, the sort."""
from __future__ import annotations

import shutil

import pytest
from textual.widgets import DataTable, Select

from engine.store import RunStore
from test_app import loaded_runs, names, open_form, open_live, shown, type_into
from test_app_support import (  # noqa: F401 - fixtures are used by name
    anyio_backend, app_for, make_running_run, run_id, runs, topics_corpus_read, until, worker_process,
)
from xlu_tui.screens.runs import fit_middle
from xlu_tui.tables import loss_value, losses_table

pytestmark = pytest.mark.anyio
LONG = ("demo-fewshot-langadapt-cotrain", "demo-fewshot-langadapt-no-SA", "demo-fewshot-langadapt-LA-on-D-only")


def copy_run(runs, template: str, name: str) -> str:  # noqa: ANN001
    import tomllib

    import tomli_w

    src = RunStore(runs).run_dir(run_id(runs, template))
    rid = f"{src.name[:-4]}{abs(hash(name)) % 0xFFFF:04x}"
    shutil.copytree(src, src.parent / rid)
    data = tomllib.loads((src.parent / rid / "config.toml").read_text())
    data["name"] = name
    (src.parent / rid / "config.toml").write_text(tomli_w.dumps(data))
    return rid


def test_a_long_name_cut_in_the_middle_keeps_its_end():
    assert fit_middle("demo-fewshot-langadapt-LA-on-D-only", 24) == "demo-fewsho…LA-on-D-only"
    assert fit_middle("short", 24) == "short"


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_names_of_one_sweep_stay_distinct(runs, size):
    for name in LONG:
        copy_run(runs, "tiny-seed7", name)
    app = app_for(runs)
    async with app.run_test(size=size) as pilot:
        screen = await loaded_runs(pilot)
        await until(pilot, lambda: len(names(app)) == 9, what="rows")
        shown_names = [str(n) for n in names(app)]
        long_shown = [n for n in shown_names if n.startswith("demo-")]
        assert len(set(long_shown)) == 3
        if size[0] >= 200:
            assert sorted(long_shown) == sorted(LONG)  # whole at 200 columns
        else:
            assert any(n.endswith("LA-on-D-only") for n in long_shown)
        table = screen.query_one("#runs", DataTable)
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= size[0]


async def test_running_runs_come_first_however_many_are_queued(runs, worker_process):
    for i in range(6):
        rid = copy_run(runs, "tiny-seed7", f"queued-{i}")
        RunStore(runs).write_status(rid, {"state": "queued", "created": "2030-01-01T00:00:0%d" % i})
    make_running_run(runs, "tiny-seed7", worker_process, name="going")
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded_runs(pilot)
        await until(pilot, lambda: "going" in names(app), what="running run")
        assert names(app)[0] == "going"


async def test_clone_keeps_the_name(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded_runs(pilot)
        table = app.screen.query_one("#runs", DataTable)
        table.move_cursor(row=names(app).index("tiny-seed8"))
        screen = await open_form(pilot, "c")
        await until(pilot, lambda: screen.control("name").value == "tiny-seed8", what="name filled")
        await type_into(pilot, screen, "seed", "9")
        assert "1 change from" in await shown(pilot, "#changes")


@pytest.mark.parametrize("where", ["runs", "live"])
async def test_keys_help_lists_the_screens_keys_first(runs, where):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        if where == "live":
            await open_live(pilot, "tiny-seed7")
        else:
            await loaded_runs(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        own = await shown(pilot, "#keys-own")
        order = ["open the run", "new", "clone"] if where == "runs" else ["back", "model", "clone"]
        assert [own.index(x) for x in order] == sorted(own.index(x) for x in order), own
        assert "Cursor up" not in own and "clone" in own
        await pilot.press("question_mark")
        assert not app.screen.query("HelpPanel")


async def test_saving_an_invalid_config_says_it_cannot_be_saved(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        await type_into(pilot, screen, "train.epochs", "0")
        await until(pilot, lambda: screen.error, what="error")
        await pilot.press("ctrl+s")
        await pilot.pause()
        titles = [n.title for n in app._notifications]
        assert "cannot save the config" in titles and "cannot launch" not in titles
        validity = await shown(pilot, "#validity")
        assert screen.error.split()[-1].strip(".") in validity.replace("\n", " ")  # the whole message


async def test_switching_the_method_counts_only_what_differs_from_its_defaults(runs):
    app = app_for(runs)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(pilot)
        select = screen.control("method.name")
        assert isinstance(select, Select)
        select.value = "cotrain"
        await until(pilot, lambda: screen.method_shown == "cotrain" and "method.name" in
                    screen._shown_text.get("#changes", ""), what="method switched")
        await pilot.pause()
        text = await shown(pilot, "#changes")
        assert "1 change from" in text, text
        select.value = "finetune"
        await until(pilot, lambda: screen.method_shown == "finetune", what="back")
        await pilot.pause()
        assert "no change" in await shown(pilot, "#changes")


async def test_a_failed_run_without_checkpoint_says_resume_starts_over_and_hides_stop(runs):
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, "broken-model")
        error = await shown(pilot, "#live-error")
        assert "starts over: no checkpoint yet" in error
        shown_keys = {b.binding.action for b in screen.active_bindings.values()}
        assert screen.check_action("stop", ()) is False and screen.check_action("kill", ()) is False
        assert screen.check_action("resume", ()) is True and "resume" in shown_keys
    app = app_for(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_live(pilot, "tiny-seed7")
        assert screen.check_action("stop", ()) is False and screen.check_action("resume", ()) is False


def test_losses_read_alike_and_the_rates_stand_apart():
    assert [loss_value(v) for v in (0.339, 0.3265, 0.03658, 2.5)] == ["0.3390", "0.3265", "0.03658", "2.500"]
    text = losses_table({("lm", "ce"): [0.5, 0.339]}, {"model": "lm", "losses": {"ce": 0.339}, "lr": 5e-5,
                                                        "samples_per_s": 412.0}, {}, width=60).plain
    rows = text.splitlines()
    assert any(r.startswith("ce") and "0.3390" in r for r in rows)
    assert rows[-1].startswith("lr 5.00e-05") and "412 samples/s" in rows[-1]
