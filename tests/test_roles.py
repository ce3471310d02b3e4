"""Models by role: a method that declares three models and three agreement pairs a round is shown
whole by every reader (`runs show`, `runs watch`, the live screen, compare), and old runs still
read as they did. The stub method trains nothing: it runs the shared round loop with a real
RunContext, so its events are written as a worker writes them."""
from __future__ import annotations

import re
import subprocess
from typing import Any, ClassVar

import pytest
from pydantic import Field

from conftest import ROOT
from engine.config import validate
from engine.context import RunContext
from engine.events import read_events
from engine.live import FIRST_ROUND, MEAN_OF_MODELS, LiveRun, pool_fields, pool_sizes
from engine.methods import method_info, method_names, register, unregister
from engine.methods.base import Method, Params
from engine.store import RunStore
from test_app_support import (  # noqa: F401 - fixtures are used by name
    DATA, anyio_backend, app_for, run_id, runs, topics_corpus_read, until)
from xlu_tui.screens.compare import CompareScreen
from xlu_tui.screens.live import LiveScreen

pytestmark = pytest.mark.anyio

MODELS = ("a", "b", "c")
PAIRS = (("a", "b"), ("a", "c"), ("b", "c"))
LANGS = ("en", "it", "de")


class StubParams(Params):
    rounds: int = Field(3, ge=1, le=10, description="rounds")


class ThreeModels(Method):
    """Three models that 'train' by emitting numbers: metrics for each, agreement for every pair,
    pools for each, every round but the last (as co-training does)."""

    name = "stub-three"
    description = "a stub with three models"
    Params = StubParams
    uses_models: ClassVar[tuple[str, ...]] = MODELS
    primary = "b"
    agreement_pairs = PAIRS
    pseudo_labels = True
    rounds_param = "rounds"

    def setup(self) -> None:
        self.final: dict[str, Any] = {}

    def rounds(self) -> int:
        return self.params.rounds

    def after_train(self, r: int) -> None:
        for k, m in enumerate(MODELS):
            values = {x: round(0.3 + 0.1 * k + 0.05 * r + 0.01 * i, 4) for i, x in enumerate(LANGS)}
            mean = self.ctx.metrics(r, m, "test", values, ["it", "de"])
            self.final[m] = {**values, "mean": mean}

    def after_pseudo_label(self, r: int) -> None:
        if r < self.rounds() - 1:
            for k, (x, y) in enumerate(PAIRS):
                self.ctx.emit("agreement", round=r, pair=[x, y], rate=0.5 + 0.1 * k + 0.01 * r,
                              by_lang={"it": 0.4 + 0.1 * k, "de": 0.45 + 0.1 * k}, items=100 - r)

    def select(self, r: int) -> None:
        if r < self.rounds() - 1:
            sizes = {m: {"U": 1000 - 100 * (r + 1) - k, "D": 50 + 10 * (r + 1) + k, "C": 70 + k, "S": 10 + k,
                         "precision": 0.7 + 0.1 * k if m != "c" else None} for k, m in enumerate(MODELS)}
            self.ctx.emit("pools", round=r, **pool_fields(sizes))

    def results(self) -> dict[str, Any]:
        return self.final


@pytest.fixture
def stub_method():
    register(ThreeModels)
    yield ThreeModels
    unregister(ThreeModels.name)
    assert ThreeModels.name not in method_names()


def record_stub_run(runs_dir: Any, name: str = "three-models") -> str:
    """A finished run of the stub, its events written by RunContext as the worker writes them."""
    store = RunStore(runs_dir)
    cfg = validate({"name": name, "task": {"target_langs": ["it", "de"]},
                    "method": {"name": ThreeModels.name, "rounds": 3}})
    rid = store.create(cfg, state="running")
    ctx = RunContext(store, rid, cfg, device=None)
    ctx.emit("started", pid=1, host="test", config=cfg.to_dict())
    ctx.emit("data", sizes={"D": 50, "U": 1000, "test": {x: 20 for x in LANGS}}, labels=["x", "y"],
             source="en", targets=["it", "de"])
    method = ThreeModels(ctx, None)
    results = method.run()
    store.write_results(rid, results)
    store.write_status(rid, {"state": "finished", "phase": "done"})
    ctx.emit("finished", results=results)
    ctx.events.close()
    return rid


def test_the_stub_declares_its_roles(stub_method):
    info = method_info(ThreeModels.name)
    assert info.models == MODELS and info.primary == "b" and info.pairs == PAIRS and info.pseudo_labels
    assert info.rounds({"rounds": 4}) == 4
    assert validate({"method": {"name": ThreeModels.name}}).method.name == ThreeModels.name


def test_a_stub_run_folds_by_model_and_pair(stub_method, tmp_path):
    rid = record_stub_run(tmp_path / "runs")
    events, _ = read_events(tmp_path / "runs" / rid / "events.jsonl")
    assert events.damaged == events.repaired == 0  # what the writer writes, the reader keeps whole
    # events count rounds from 1 (and say so)
    assert events[0]["rounds_from"] == FIRST_ROUND
    assert sorted({e["round"] for e in events if e["type"] == "metrics"}) == [1, 2, 3]
    live = LiveRun()
    live.apply_all(events)
    assert live.models() == list(MODELS) and live.views() == [*MODELS, MEAN_OF_MODELS]
    assert live.primary() == "b" and live.roles() == list(MODELS)
    assert sorted(live.pools) == [1, 2] and live.pool_models() == list(MODELS)
    assert live.pairs() == list(PAIRS) and all(set(by) == set(PAIRS) for by in live.agreement.values())
    assert live.pools[2]["c"] == {"U": 798, "D": 72, "C": 72, "S": 12, "precision": None}
    # the headline is the primary model's, in status.json as the fold reads it
    status = RunStore(tmp_path / "runs").status(rid)
    assert status["round"] == 3 and status["latest_mean"] == live.headline()["latest_mean"]
    assert live.headline()["latest_mean"] == live.latest("b")["mean"]
    history = live.round_history()
    assert [h["round"] for h in history] == [1, 2, 3]
    assert [a["pair"] for a in history[0]["agreement"]] == [list(p) for p in PAIRS]
    # the round ends are logged once each, numbered as on screen
    saved = [t for _, _, t in live.log if t.startswith("checkpoint")]
    assert saved == [f"checkpoint: round {r} saved" for r in (1, 2, 3)]


def test_pool_fields_and_pool_sizes_are_inverses():
    sizes = {"gen_lm": {"U": 3, "D": 4, "S": 1, "precision": 0.5}, "x": {"U": 1, "D": 2, "S": 0, "precision": None}}
    fields = pool_fields(sizes)
    assert fields["U_gen_lm"] == 3 and fields["precision"] == {"S_gen_lm": 0.5, "S_x": None}
    assert pool_sizes({"type": "pools", "round": 1, **fields}) == sizes


def test_runs_show_and_watch_print_every_model_and_pair(stub_method, tmp_path, capsys, monkeypatch):
    from xlu_tui.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    runs_dir = tmp_path / "runs"
    rid = record_stub_run(runs_dir)
    assert main(["runs", "show", rid, "--runs-dir", str(runs_dir)]) in (0, None)
    shown = capsys.readouterr().out
    assert "a · b · c" in shown or all(f"{m} " in shown for m in MODELS)
    for header in ("a mean", "b mean", "c mean", "agree a/b", "agree a/c", "agree b/c",
                   "U_a", "U_b", "U_c", "prec S_a", "prec S_c"):
        assert header in shown, header
    assert main(["runs", "watch", rid, "--runs-dir", str(runs_dir)]) in (0, None)
    watched = capsys.readouterr().out
    for header in ("agree a/b", "agree a/c", "agree b/c", "U_a", "S_b", "D_c", "prec S_b"):
        assert header in watched, header
    assert all(re.search(rf"^{m}\s+3\s", watched, re.M) for m in MODELS), watched  # each model's latest, round 3


async def test_the_live_screen_shows_every_model_and_pair(stub_method, runs):
    rid = record_stub_run(runs)
    app = app_for(runs)
    async with app.run_test(size=(200, 50)) as pilot:
        from test_app import shown

        app.open_run(rid)
        screen = await until(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen, what="live")
        await until(pilot, lambda: screen.loaded and screen.info, what="events read")
        assert not screen.query_one("#pools-panel").has_class("-off")
        pools = await shown(pilot, "#pools-body")
        for m in MODELS:
            assert f"U_{m}" in pools and f"S_{m}" in pools and f"D_{m}" in pools
        assert "r1" in pools and "r2" in pools and "r3" not in pools
        agreement = await shown(pilot, "#agree-body")
        for x, y in PAIRS:
            assert f"{x}/{y}" in agreement and f"{x} and {y} agree" in agreement
        assert "prec S_a" in agreement and "prec S_b" in agreement and "prec S_c" not in agreement
        assert screen.query_one("#chart").data.x_labels == ["r1", "r2", "r3"]
        assert "models  a · b · c" in await shown(pilot, "#run-facts")
        views = [screen.view]
        for _ in range(3):
            await pilot.press("m")
            views.append(screen.view)
        assert views == [*MODELS, MEAN_OF_MODELS]
        assert "round 3/3" in await shown(pilot, "#live-head")


async def test_compare_offers_every_model_of_the_runs(stub_method, runs):
    rid = record_stub_run(runs)
    other = run_id(runs, "tiny-cotrain")
    app = app_for(runs)
    async with app.run_test(size=(160, 45)) as pilot:
        from test_app import shown

        app.push_screen(CompareScreen([rid, other]))
        screen = await until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen, what="compare")
        await until(pilot, lambda: screen.loaded, what="compare read")
        assert screen.views() == ["a", "b", "c", "lm", "emb", MEAN_OF_MODELS]
        seen = []
        for _ in range(len(screen.views())):
            seen.append(screen.view)
            results = await shown(pilot, "#results")
            assert "best at" in results and "mean" in results
            await pilot.press("m")
        assert seen == screen.views()
        # a model one run lacks: that run shows its first model
        screen._view("c")
        assert screen.run_view(screen.runs[1]) == "lm" and screen.run_view(screen.runs[0]) == "c"
        assert len(screen.query_one("#cmp-chart").data.series) == 2


def test_old_run_folders_still_read_as_they_did():
    """Runs recorded before models by role and rounds from 1 (tests/data/runs): their rounds read
    from 1, their pools and agreement by model and pair."""
    for events_path in sorted(DATA.glob("*/events.jsonl")):
        live = LiveRun()
        live.apply_all(read_events(events_path)[0])
        assert all(p[0] >= FIRST_ROUND for p in live.evaluation_points()), events_path
        if live.pools:
            assert sorted(live.pools)[0] == FIRST_ROUND and "lm" in live.pool_models()
        if live.agreement:
            assert live.pairs() == [("lm", "emb")]


def test_no_file_outside_the_methods_names_a_model():
    """`lm` and `emb` as fixed model names in code (a quoted name, `models.lm`, a `U_lm` key, a
    `threshold_emb`) live in engine/methods/, nowhere else: the config's fields for those roles
    and the one function reading a moved field are in engine/config.py, and a preset is a config."""
    pattern = r"""["'](lm|emb)["']|\.(lm|emb)\b|\b[A-Z]_(lm|emb)\b|threshold_(lm|emb)|(lm|emb)_lr"""
    out = subprocess.run(["git", "grep", "-n", "-E", pattern, "--", "engine", "xlu_tui", ":!engine/methods",
                          ":!engine/config.py", ":!engine/presets"], cwd=ROOT, capture_output=True, text=True)
    assert not out.stdout.strip(), out.stdout
