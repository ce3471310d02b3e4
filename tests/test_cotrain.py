"""Co-training and self-training: the selection step pinned on hand-made predictions, and whole
tiny runs for the event contract, determinism and resume."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import cli, tiny_sets
from engine.config import validate
from engine.methods.cotrain import CoTraining, SelfTraining
from engine.store import RunStore
from engine.tasks.base import Examples, TaskData
from test_runs import ended, events, kill_then_resume, start


class RecordingCtx:
    """Just what the selection step uses of a run: config, phases and events."""

    def __init__(self, cfg):  # noqa: ANN001
        self.config = cfg
        self.events: list[dict] = []

    def phase(self, name, **fields):  # noqa: ANN001, ANN003
        pass

    def emit(self, type, **fields):  # noqa: ANN001, ANN003
        self.events.append({"type": type, **fields})


def loop(cls, n_train=6, labels_u=(0, 1, 2, 0, 1, 2, 0, 1, 2, 0), **params):  # noqa: ANN001
    method = params.pop("method")
    cfg = validate({"seed": 3, "method": {"name": method, **params}})
    data = TaskData(
        train=Examples(text=[f"d{i}" for i in range(n_train)], label=np.zeros(n_train), lang=["en"] * n_train,
                       id=[f"d{i}" for i in range(n_train)]),
        unlabeled=Examples(text=[f"u{i}" for i in range(len(labels_u))], label=np.asarray(labels_u),
                           lang=["it", "ja"] * (len(labels_u) // 2), id=[f"u{i}" for i in range(len(labels_u))]),
        test={})
    m = cls.__new__(cls)
    m.ctx, m.data, m.params, m.round = RecordingCtx(cfg), data, cfg.method.params(), 0
    m.n, m.U = n_train, data.unlabeled
    m.pool = {v: np.arange(len(data.unlabeled)) for v in m.views}
    m.added = {v: (np.zeros(0, np.int64), np.zeros(0, np.int64)) for v in m.views}
    return m


def probs_for(labels, conf) -> np.ndarray:  # noqa: ANN001
    """Probabilities over 3 labels with the given argmax and max probability per item."""
    p = np.full((len(labels), 3), 0.0)
    for i, (y, c) in enumerate(zip(labels, conf)):
        p[i] = (1 - c) / 2
        p[i, y] = c
    return p


def set_predictions(m, preds: dict) -> None:  # noqa: ANN001
    m.remaining = np.unique(np.concatenate([m.pool[v] for v in m.views]))
    m.probs = {v: probs_for(*preds[v])[m.remaining] for v in m.views}


def test_selection_respects_threshold_and_the_n_over_3_cap_and_hands_labels_to_the_other_view():
    m = loop(CoTraining, method="cotrain", rounds=3, threshold=0.8)  # n = 6 -> at most 2 a round
    lm_labels = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    emb_labels = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    lm_conf = [0.95, 0.5, 0.85, 0.81, 0.3, 0.8, 0.2, 0.9, 0.1, 0.1]  # above 0.8: 0, 2, 3, 7 (0.8 is not above)
    emb_conf = [0.1, 0.99, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]  # above 0.8: 1 only
    set_predictions(m, {"lm": (lm_labels, lm_conf), "emb": (emb_labels, emb_conf)})
    m.select(0)
    pools = m.ctx.events[-1]
    assert pools["type"] == "pools" and pools["round"] == 0
    assert (pools["C_lm"], pools["S_lm"], pools["C_emb"], pools["S_emb"]) == (4, 2, 1, 1)
    s_lm, s_lm_labels = m.added["emb"]  # f_lm's picks train f_emb ...
    assert set(s_lm) <= {0, 2, 3, 7} and len(s_lm) == 2 and set(s_lm_labels) == {2}
    s_emb, s_emb_labels = m.added["lm"]  # ... and f_emb's picks train f_lm, with f_emb's labels
    assert list(s_emb) == [1] and list(s_emb_labels) == [1]
    assert pools["U_lm"] == 8 and pools["U_emb"] == 9 and pools["D_lm"] == 7 and pools["D_emb"] == 8
    assert not set(s_lm) & set(m.pool["lm"]) and 1 not in m.pool["emb"]
    # precision against the gold labels of U (labels_u): item 1 is gold 1 -> 1.0
    assert pools["precision"]["S_emb"] == 1.0
    gold = np.asarray((0, 1, 2, 0, 1, 2, 0, 1, 2, 0))
    assert pools["precision"]["S_lm"] == pytest.approx(float((gold[s_lm] == 2).mean()))


def test_rounds_never_select_an_item_twice_from_one_pool_and_sets_grow_by_exactly_the_picks():
    m = loop(CoTraining, method="cotrain", rounds=9, threshold=0.5, labels_u=tuple(range(3)) * 10)
    every = {"lm": [], "emb": []}
    d_before = {v: m.n for v in m.views}
    for r in range(6):
        set_predictions(m, {"lm": ([0] * 30, [0.9] * 30), "emb": ([1] * 30, [0.9] * 30)})
        m.select(r)
        ev = m.ctx.events[-1]
        assert ev["D_lm"] == d_before["lm"] + ev["S_emb"] and ev["D_emb"] == d_before["emb"] + ev["S_lm"]
        d_before = {"lm": ev["D_lm"], "emb": ev["D_emb"]}
        for v, student in (("lm", "emb"), ("emb", "lm")):
            every[v] = list(m.added[student][0])
    for v in every:
        assert len(every[v]) == len(set(every[v])) == 2 * 6 == 12
    assert m.ctx.events[-1]["U_lm"] == 30 - 12


def test_per_view_thresholds_default_to_the_shared_one():
    m = loop(CoTraining, method="cotrain", threshold=0.7, threshold_emb=0.95)
    assert m.threshold("lm") == 0.7 and m.threshold("emb") == 0.95


def test_self_training_keeps_its_own_labels():
    m = loop(SelfTraining, method="selftrain", threshold=0.5)
    set_predictions(m, {"lm": ([2] * 10, [0.9] * 10)})
    m.select(0)
    idx, labels = m.added["lm"]
    assert len(idx) == 2 and set(labels) == {2}
    assert not set(idx) & set(m.pool["lm"])
    assert "agreement" not in [e["type"] for e in m.ctx.events]


def test_the_last_round_labels_and_selects_nothing():
    m = loop(CoTraining, method="cotrain", rounds=2)
    m.pseudo_label(1)
    m.select(1)
    assert m.ctx.events == []


def test_selection_is_seeded():
    picks = []
    for _ in range(2):
        m = loop(SelfTraining, method="selftrain", threshold=0.1, labels_u=(0,) * 40, n_train=30)
        set_predictions(m, {"lm": ([1] * 40, [0.9] * 40)})
        m.select(0)
        picks.append(list(m.added["lm"][0]))
    assert picks[0] == picks[1] and len(picks[0]) == 10


# --------------------------------------------------------------------------- whole tiny runs

def cotrain_sets(tiny_model, **extra):  # noqa: ANN001, ANN003
    return tiny_sets(tiny_model, **{"method.name": "cotrain", "method.rounds": "3", "method.threshold": "0.05",
                                    "train.epochs": "1", "task.max_unlabeled": "60", **extra})


def contract_events(runs_dir, rid):  # noqa: ANN001
    return [{k: v for k, v in e.items() if k not in ("t",)} for e in events(runs_dir, rid)
            if e["type"] in ("metrics", "pools", "agreement")]


def test_cotrain_run_streams_the_contract_and_is_deterministic(runs_dir, tiny_model):
    a = start(runs_dir, *cotrain_sets(tiny_model))
    assert ended(runs_dir, a) == "finished", (runs_dir / a / "worker.log").read_text()[-2000:]
    evs = events(runs_dir, a)
    pools = [e for e in evs if e["type"] == "pools"]
    agree = [e for e in evs if e["type"] == "agreement"]
    metrics = [e for e in evs if e["type"] == "metrics"]
    assert [p["round"] for p in pools] == [1, 2] and [g["round"] for g in agree] == [1, 2]  # rounds count from 1
    n = 160  # task.max_source
    for prev, p in zip([{"D_lm": n, "D_emb": n, "U_lm": None, "U_emb": None}] + pools, pools):
        assert p["D_lm"] == prev["D_lm"] + p["S_emb"] and p["D_emb"] == prev["D_emb"] + p["S_lm"]
        assert p["S_lm"] == min(round(n / 3), p["C_lm"]) and p["S_emb"] == min(round(n / 3), p["C_emb"])
        if prev["U_lm"] is not None:
            assert p["U_lm"] == prev["U_lm"] - p["S_lm"] and p["U_emb"] == prev["U_emb"] - p["S_emb"]
        assert set(p["precision"]) == {"S_lm", "S_emb"}
        assert all(v is None or 0 <= v <= 1 for v in p["precision"].values())
    for g in agree:
        assert g["pair"] == ["lm", "emb"] and 0 <= g["rate"] <= 1 and set(g["by_lang"]) <= {"it", "de"}
    assert {(m["round"], m["model"]) for m in metrics} == {(r, v) for r in (1, 2, 3) for v in ("lm", "emb")}
    # the run's headline numbers are f_lm's, never f_emb's
    lm_means = [m["mean"] for m in metrics if m["model"] == "lm"]
    status = RunStore(runs_dir).status(a)
    assert status["latest_mean"] == lm_means[-1] and status["best_mean"] == max(lm_means)
    shown = json.loads(cli("runs", "show", a, "--json", runs_dir=runs_dir, check=True).stdout)
    assert set(shown["results"]) == {"lm", "emb"}
    history = shown["rounds"]  # what `runs show` prints per round
    assert [h["round"] for h in history] == [1, 2, 3] and all(set(h["metrics"]) == {"lm", "emb"} for h in history)
    # pools by model, agreement by pair
    assert history[1]["pools"]["lm"]["D"] == pools[1]["D_lm"] and history[1]["agreement"][0]["rate"] == agree[1]["rate"]
    assert history[1]["agreement"][0]["pair"] == ["lm", "emb"]
    assert "pools" not in history[2]
    assert "U_lm" in cli("runs", "show", a, runs_dir=runs_dir, env={"COLUMNS": "160"}, check=True).stdout
    # the same seed gives the same rounds
    b = start(runs_dir, *cotrain_sets(tiny_model))
    assert ended(runs_dir, b) == "finished"
    strip = lambda evs: [{k: v for k, v in e.items() if k != "run"} for e in evs]  # noqa: E731
    assert strip(contract_events(runs_dir, a)) == strip(contract_events(runs_dir, b))


@pytest.mark.parametrize("kill_after", ["pools", "checkpoint"])
def test_cotrain_sigkill_anywhere_then_resume_gives_the_same_numbers(runs_dir, tiny_model, kill_after):
    sets = cotrain_sets(tiny_model, **{"train.epochs": "2"})
    ref = start(runs_dir, *sets)
    assert ended(runs_dir, ref) == "finished"
    rid = start(runs_dir, *sets)
    # after the first round's selection, or after the first epoch checkpoint of round 2
    def reached() -> bool:
        evs = events(runs_dir, rid)
        if kill_after == "pools":
            return any(e["type"] == "pools" for e in evs)
        return any(e["type"] == "checkpoint" and e["tag"].startswith("round-2-") for e in evs)
    kill_then_resume(runs_dir, rid, reached)
    res = lambda r: json.loads((runs_dir / r / "results.json").read_text())  # noqa: E731
    assert res(rid) == res(ref)
    last_pools = lambda r: [e for e in events(runs_dir, r) if e["type"] == "pools"][-1]  # noqa: E731
    assert {k: v for k, v in last_pools(rid).items() if k not in ("t", "run")} == \
        {k: v for k, v in last_pools(ref).items() if k not in ("t", "run")}


def test_selftrain_run_has_one_view(runs_dir, tiny_model):
    rid = start(runs_dir, *cotrain_sets(tiny_model, **{"method.name": "selftrain", "method.rounds": "2"}))
    assert ended(runs_dir, rid) == "finished"
    pools = [e for e in events(runs_dir, rid) if e["type"] == "pools"]
    assert len(pools) == 1 and "U_emb" not in pools[0] and pools[0]["D_lm"] == 160 + pools[0]["S_lm"]
    assert not [e for e in events(runs_dir, rid) if e["type"] == "agreement"]
