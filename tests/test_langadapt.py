"""Contrastive language adaptation: the two losses against values worked out by hand, the
semantic-alignment batches, and the methods' runs (stages, loss terms, ablations, resume)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from conftest import cli, tiny_sets
from engine.batches import AlignmentBatches
from engine.config import TaskConfig
from engine.methods.langadapt import _dbi
from engine.ops.contrastive import label_alignment, semantic_alignment
from engine.tasks import get_task
from test_runs import ended, events, kill_then_resume, start

E = math.e


# --------------------------------------------------------------------------- L_LA (Eq. 2)

def test_label_alignment_by_hand_with_an_anchor_that_has_no_positive():
    # h1 = h3 point one way, h2 at right angles; labels: 1 and 2 share a label, 3 is alone.
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 0, 1])
    # anchor 1: positive 2 (cos 0) against 2 and 3 (cos 0, 1): -log(1 / (1 + e^(1/τ)))
    # anchor 2: positive 1 (cos 0) against 1 and 3 (cos 0, 0): -log(1/2)
    # anchor 3: no other item of its label: adds nothing. The sum is divided by |B| = 3.
    for tau in (1.0, 0.5):
        want = (math.log(1 + E ** (1 / tau)) + math.log(2)) / 3
        assert label_alignment(h, labels, tau).item() == pytest.approx(want, rel=1e-6)


def test_label_alignment_averages_over_the_positives_of_an_anchor():
    # anchor 1 has positives 2 (cos 1) and 3 (cos 0); 4 is a negative (cos -1); τ = 1.
    h = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([0, 0, 0, 1])
    d1 = E + 1 + 1 / E
    a1 = -((1 - math.log(d1)) + (0 - math.log(d1))) / 2
    d2 = E + 1 + 1 / E  # anchor 2 is anchor 1's twin
    a2 = -((1 - math.log(d2)) + (0 - math.log(d2))) / 2
    d3 = 1 + 1 + 1  # anchor 3 sees cos 0 everywhere
    a3 = -((0 - math.log(d3)) * 2) / 2
    want = (a1 + a2 + a3 + 0) / 4
    assert label_alignment(h, labels, 1.0).item() == pytest.approx(want, rel=1e-6)


def test_label_alignment_is_zero_and_finite_when_no_anchor_has_a_positive():
    for h, labels in [(torch.randn(3, 4), torch.tensor([0, 1, 2])), (torch.randn(1, 4), torch.tensor([0]))]:
        h.requires_grad_(True)
        loss = label_alignment(h, labels, 0.3)
        loss.backward()
        assert loss.item() == 0.0 and torch.isfinite(h.grad).all()


def test_label_alignment_is_blind_to_the_length_of_h_and_its_gradient_reaches_both_of_a_pair():
    torch.manual_seed(0)
    h = torch.randn(6, 8, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 3])
    loss = label_alignment(h, labels, 0.3)
    assert loss.item() == pytest.approx(label_alignment(h * 7.0, labels, 0.3).item(), rel=1e-5)
    loss.backward()
    norms = h.grad.norm(dim=1)
    assert (norms[:4] > 0).all() and torch.isfinite(h.grad).all()


# --------------------------------------------------------------------------- L_SA (Eq. 4)

def test_semantic_alignment_by_hand():
    # rows: anchor a, translations t1 (cos 1) and t2 (cos 0), negatives n1 (cos 0) and n2 (cos -1)
    h = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.0, 3.0], [0.0, 1.0], [-1.0, 0.0]])
    d = E + 1 + 1 + 1 / E
    want = -((1 - math.log(d)) + (0 - math.log(d)))  # a sum over the translations, as in Eq. 4
    got = semantic_alignment(h, [0], [[1, 2]], [[3, 4]], 1.0)
    assert got.item() == pytest.approx(want, rel=1e-6)
    # at τ = 0.5 the cosines are doubled
    d = E ** 2 + 1 + 1 + E ** -2
    want = -((2 - math.log(d)) + (0 - math.log(d)))
    assert semantic_alignment(h, [0], [[1, 2]], [[3, 4]], 0.5).item() == pytest.approx(want, rel=1e-6)


def test_semantic_alignment_is_the_mean_over_anchors_and_its_gradient_reaches_both_views():
    torch.manual_seed(1)
    h = torch.randn(6, 8, requires_grad=True)
    one = semantic_alignment(h, [0], [[1]], [[2]], 0.3)
    two = semantic_alignment(h, [3], [[4]], [[5]], 0.3)
    both = semantic_alignment(h, [0, 3], [[1], [4]], [[2], [5]], 0.3)
    assert both.item() == pytest.approx((one.item() + two.item()) / 2, rel=1e-6)
    both.backward()
    assert (h.grad.norm(dim=1) > 0).all()  # anchors, their translations and the negatives all move


def test_semantic_alignment_pulls_a_translation_closer():
    torch.manual_seed(2)
    h = torch.randn(3, 16, requires_grad=True)
    opt = torch.optim.SGD([h], lr=0.1)
    cos = lambda: torch.nn.functional.cosine_similarity(h[0], h[1], dim=0).item()  # noqa: E731
    before = cos()
    for _ in range(20):
        opt.zero_grad()
        semantic_alignment(h, [0], [[1]], [[2]], 0.3).backward()
        opt.step()
    assert cos() > before + 0.1


# --------------------------------------------------------------------------- the SA batches

@pytest.fixture(scope="module")
def dbi():
    cfg = TaskConfig(name="topics", source_lang="en", target_langs=["it", "ja", "zh", "fa"], parallel_size=80,
                     max_unlabeled=50)
    data = get_task("topics").load(cfg, 3)
    return data, *_dbi(data)


def test_stage_two_examples_are_dbi_sources_then_their_translations(dbi):
    data, translations, ex, positives = dbi
    n_src = len(positives)
    assert len(ex) == n_src + len(data.parallel) and translations is data.parallel
    assert len(set(ex.id[:n_src])) == n_src and set(ex.id[:n_src]) == set(data.parallel_source.id)
    assert set(ex.lang[:n_src]) == {"en"} and "en" not in set(ex.lang[n_src:])
    for k, rows in enumerate(positives):
        for row in rows:  # each positive translates its anchor: same aligned item, same label
            assert data.parallel_source.id[row - n_src] == ex.id[k]
            assert ex.label[row] == ex.label[k] and ex.group[row] == ex.group[k]
    assert sorted(int(r) for rows in positives for r in rows) == list(range(n_src, len(ex)))


def test_alignment_batches_hold_each_anchor_once_with_its_translations_and_other_label_negatives(dbi):
    _, _, ex, positives = dbi
    n_src = len(positives)
    plan = AlignmentBatches(anchors=np.arange(n_src), positives=positives, labels=ex.label, batch_size=16,
                            seed=5, tag="lm/0/align")
    steps = plan.epoch(0)
    assert len(steps) == plan.steps_per_epoch
    seen = []
    for step in steps:
        assert len(set(step.idx.tolist())) == len(step.idx)  # an item once per step
        for g in step.groups:
            anchor = int(step.idx[g.anchor])
            seen.append(anchor)
            assert [int(step.idx[p]) for p in g.positives] == positives[anchor].tolist()
            negs = [int(step.idx[n]) for n in g.negatives]
            assert len(negs) == len(positives[anchor])  # b positives, b negatives: the paper's 2b
            assert all(n < n_src for n in negs)  # negatives are source texts of Dbi
            assert all(ex.label[n] != ex.label[anchor] for n in negs)
    assert sorted(seen) == list(range(n_src))
    # seeded: the same epoch plans the same steps; the next epoch draws anew
    again = plan.epoch(0)
    assert all((a.idx == b.idx).all() for a, b in zip(steps, again))
    assert any(not np.array_equal(a.idx, b.idx) for a, b in zip(steps, plan.epoch(1)))


def test_alignment_batches_take_a_fixed_number_of_negatives_when_asked(dbi):
    _, _, ex, positives = dbi
    plan = AlignmentBatches(anchors=np.arange(len(positives)), positives=positives, labels=ex.label,
                            batch_size=32, seed=5, tag="t", negatives=4)
    assert all(len(g.negatives) == 4 for s in plan.epoch(0) for g in s.groups)


# --------------------------------------------------------------------------- runs

def la_sets(tiny_model, **extra):  # noqa: ANN001, ANN003
    return tiny_sets(tiny_model, **{"method.name": "langadapt", "task.parallel_size": "60",
                                    "train.epochs": "1", **extra})


def progress_by_stage(runs_dir, rid):  # noqa: ANN001
    out: dict = {}
    for e in events(runs_dir, rid):
        if e["type"] == "progress":
            out.setdefault(e.get("stage"), set()).update(e["losses"])
    return out


def test_langadapt_trains_two_stages_and_reports_their_loss_terms(runs_dir, tiny_model):
    rid = start(runs_dir, *la_sets(tiny_model))
    assert ended(runs_dir, rid) == "finished", (runs_dir / rid / "worker.log").read_text()[-2000:]
    assert progress_by_stage(runs_dir, rid) == {1: {"ce", "la"}, 2: {"ce", "sa"}}
    evs = events(runs_dir, rid)
    stage2 = [e for e in evs if e["type"] == "progress" and e.get("stage") == 2]
    assert stage2[-1]["lr"] == 0.0 and max(e["lr"] for e in stage2) <= 5e-5 + 1e-12  # lr / 10, decaying
    sizes = next(e for e in evs if e["type"] == "data")
    assert sizes["sizes"]["Dbi"] == 60
    metrics = [e for e in evs if e["type"] == "metrics"]
    assert [m["epoch"] for m in metrics] == [1, 2]  # after stage 1, after stage 2


@pytest.mark.parametrize(("extra", "want"), [
    ({"method.la_data": "none", "method.semantic_alignment": "false"}, {1: {"ce"}, 2: {"ce"}}),
    ({"method.name": "translate-train"}, {1: {"ce"}}),
])
def test_ablations_and_translate_train_drop_the_terms_they_name(runs_dir, tiny_model, extra, want):
    rid = start(runs_dir, *la_sets(tiny_model, **extra))
    assert ended(runs_dir, rid) == "finished", (runs_dir / rid / "worker.log").read_text()[-2000:]
    got = progress_by_stage(runs_dir, rid)
    assert got == want


def test_a_method_that_needs_translations_refuses_a_config_without_them(runs_dir, tiny_model):
    out = cli("run", *[x for s in la_sets(tiny_model, **{"task.parallel_size": "0"}) for x in ("--set", s)],
              runs_dir=runs_dir)
    assert out.returncode == 2 and "task.parallel_size" in out.stderr and "Traceback" not in out.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_langadapt_cotrain_sigkill_in_stage_two_then_resume_gives_the_same_numbers(runs_dir, tiny_model):
    sets = la_sets(tiny_model, **{"method.name": "langadapt+cotrain", "method.rounds": "2",
                                  "method.threshold": "0.05", "task.max_unlabeled": "60"})
    ref = start(runs_dir, *sets)
    assert ended(runs_dir, ref) == "finished", (runs_dir / ref / "worker.log").read_text()[-2000:]
    ref_events = events(runs_dir, ref)
    assert progress_by_stage(runs_dir, ref) == {1: {"ce", "la"}, 2: {"ce", "sa"}, None: {"ce"}}
    rid = start(runs_dir, *sets)
    # killed after the checkpoint that ends round 2's stage 1: the run resumes into stage 2
    kill_then_resume(runs_dir, rid, lambda: any(e["type"] == "checkpoint" and e["tag"].startswith("round-2-lm-stage-1")
                                                for e in events(runs_dir, rid)))
    res = lambda r: json.loads((runs_dir / r / "results.json").read_text())  # noqa: E731
    assert res(rid) == res(ref)
    pools = lambda evs: [{k: v for k, v in e.items() if k not in ("t", "run")} for e in evs if e["type"] == "pools"]  # noqa: E731
    assert pools(events(runs_dir, rid))[-1] == pools(ref_events)[-1]
