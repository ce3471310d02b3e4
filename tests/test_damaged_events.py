"""A damaged events.jsonl: lines of the wrong shape are skipped, or lose only their bad fields,
at the reader, and nothing downstream (the folds, `runs show`, `runs watch`, `runs export`)
breaks on them.

Each row is a damaged line injected into the middle of a recorded co-training run's events.
"""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from conftest import cli
from engine.events import Tail, check_event, parse_lines, read_events
from engine.export import round_history
from engine.live import LiveRun
from xlu_tui import watch

RUNS = Path(__file__).resolve().parent / "data" / "runs"
RID = "20261122-0541-d289"  # tiny-cotrain: metrics, pools and agreement of two models, finished
DROP = None  # the row's line is dropped as damaged
GONE = object()  # the field is absent from the event kept
DEL = object()  # in `ev()`: leave the field out

BASE: dict[str, dict[str, Any]] = {
    "metrics": {"round": 1, "model": "lm", "split": "test", "metric": "accuracy",
                "values": {"en": 0.5, "it": 0.25, "de": 0.125, "es": 0.375}, "mean": 0.25},
    "progress": {"model": "lm", "round": 1, "epoch": 0, "epochs": 1, "step": 3, "total": 30,
                 "losses": {"ce": 1.5, "la": 0.25}, "samples_per_s": 120.5, "lr": 5e-5, "eta_s": 4.5},
    "pools": {"round": 1, "U_lm": 200, "U_emb": 300, "D_lm": 500, "D_emb": 600, "C_lm": 90, "S_lm": 80,
              "C_emb": 10, "S_emb": 9, "precision": {"S_lm": 0.5, "S_emb": 0.75}},
    "agreement": {"round": 1, "pair": ["lm", "emb"], "rate": 0.625, "by_lang": {"it": 0.5, "de": 0.75}, "items": 400},
    "data": {"sizes": {"D": 480, "U": 503, "Dbi": 0, "test": {"en": 40, "it": 40}}, "labels": ["a", "b"],
             "notes": [], "source": "en", "targets": ["it", "de", "es"]},
    "phase": {"phase": "train", "model": "lm", "round": 1, "examples": 480, "epochs": 1},
    "log": {"level": "info", "message": "hello"},
    "failed": {"error": "Boom", "message": "it broke", "hint": "try again", "resumable": True},
    "finished": {"results": {"lm": {"en": 0.5, "it": 0.25, "mean": 0.25}}},
    "started": {"pid": 12, "host": "vm", "config": {"name": "x"}},
    "checkpoint": {"tag": "round-1", "path": "checkpoints/round-1", "seconds": 0.5},
    "stopped": {"reason": "requested", "resumable": True},
}


def ev(type: str, **fields: Any) -> str:
    """One line: the type's realistic event with `fields` changed (DEL leaves one out)."""
    event = {"t": 1795326131.5, "run": RID, "type": type, **BASE.get(type, {}), **fields}
    return json.dumps({k: v for k, v in event.items() if v is not DEL})


def raw(type: str, field: str, text: str) -> str:
    """One line whose `field` is written as `text` (JSON Python would not write itself)."""
    event = {"t": 1795326131.5, "run": RID, "type": type, **BASE[type], field: "@@"}
    return json.dumps(event).replace('"@@"', text)


NAN = float("nan")

# (id, the damaged line(s), what is kept: DROP, or {field: value or GONE} of the one event kept)
ROWS: list[tuple[str, Any, Any]] = [
    # metrics: model, round, split and values are what the event is about
    ("metrics-round-str", ev("metrics", round="x"), DROP),
    ("metrics-round-negative", ev("metrics", round=-1), DROP),
    ("metrics-round-float", ev("metrics", round=1.5), DROP),
    ("metrics-round-bool", ev("metrics", round=True), DROP),
    ("metrics-round-huge", ev("metrics", round=10 ** 30), DROP),
    ("metrics-round-missing", ev("metrics", round=DEL), DROP),
    ("metrics-values-null", ev("metrics", values=None), DROP),
    ("metrics-values-list", ev("metrics", values=[0.5, 0.25]), DROP),
    ("metrics-values-str", ev("metrics", values="high"), DROP),
    ("metrics-model-int", ev("metrics", model=5), DROP),
    ("metrics-model-missing", ev("metrics", model=DEL), DROP),
    ("metrics-split-list", ev("metrics", split=[1]), DROP),
    ("metrics-value-str", ev("metrics", values={"en": "high", "it": 0.25}), {"values": {"it": 0.25}}),
    ("metrics-value-nested", ev("metrics", values={"en": {"a": [1, {"b": [2]}]}, "it": 0.25}), {"values": {"it": 0.25}}),
    ("metrics-value-nested-deep", raw("metrics", "values", '{"en": ' + "[" * 900 + "]" * 900 + ', "it": 0.25}'),
     {"values": {"it": 0.25}}),
    ("metrics-value-nan", ev("metrics", values={"en": NAN, "it": 0.25}), {"values": {"en": None, "it": 0.25}}),
    ("metrics-mean-str", ev("metrics", mean="high"), {"mean": GONE, "values": BASE["metrics"]["values"]}),
    ("metrics-mean-nan", ev("metrics", mean=NAN), {"mean": None}),
    ("metrics-mean-infinity", raw("metrics", "mean", "-Infinity"), {"mean": None}),
    ("metrics-mean-overflow", raw("metrics", "mean", "1e400"), {"mean": None}),
    ("metrics-epoch-str", ev("metrics", epoch="2"), {"epoch": GONE, "round": 1}),
    ("metrics-t-str", ev("metrics", t="now"), {"t": GONE, "model": "lm"}),
    ("metrics-run-int", ev("metrics", run=7), {"run": GONE}),
    # progress: every field is optional; the bad ones go, the bar still moves
    ("progress-losses-int", ev("progress", losses=3), {"losses": GONE, "step": 3}),
    ("progress-losses-list", ev("progress", losses=[1.5]), {"losses": GONE}),
    ("progress-loss-str", ev("progress", losses={"ce": "x", "la": 0.25}), {"losses": {"la": 0.25}}),
    ("progress-loss-nan", ev("progress", losses={"ce": NAN}), {"losses": {}}),
    ("progress-step-str", ev("progress", step="x"), {"step": GONE, "total": 30}),
    ("progress-total-negative", ev("progress", total=-5), {"total": GONE}),
    ("progress-samples-str", ev("progress", samples_per_s="fast"), {"samples_per_s": GONE}),
    ("progress-eta-null", ev("progress", eta_s=None), {"eta_s": GONE}),
    ("progress-epoch-400-digits", raw("progress", "epoch", "9" * 400), {"epoch": GONE}),
    ("progress-stage-str", ev("progress", stage="2"), {"stage": GONE}),
    ("progress-lr-bool", ev("progress", lr=True), {"lr": GONE}),
    ("progress-model-dict", ev("progress", model={"a": 1}), {"model": GONE}),
    # pools: the round is required; every size must be a count
    ("pools-round-str", ev("pools", round="x"), DROP),
    ("pools-round-missing", ev("pools", round=DEL), DROP),
    ("pools-size-str", ev("pools", U_lm="many"), {"U_lm": GONE, "U_emb": 300}),
    ("pools-size-float", ev("pools", C_lm=1.5), {"C_lm": GONE}),
    ("pools-size-huge", ev("pools", D_emb=10 ** 100), {"D_emb": GONE}),
    ("pools-other-size-str", ev("pools", X_lm="abc"), {"X_lm": GONE}),
    ("pools-precision-str", ev("pools", precision="x"), {"precision": GONE}),
    ("pools-precision-value-str", ev("pools", precision={"S_lm": "x", "S_emb": None}), {"precision": {"S_emb": None}}),
    # agreement
    ("agreement-round-null", ev("agreement", round=None), DROP),
    ("agreement-by-lang-list", ev("agreement", by_lang=[1]), {"by_lang": GONE, "rate": 0.625}),
    ("agreement-by-lang-nan", ev("agreement", by_lang={"it": NAN, "de": 0.75}), {"by_lang": {"it": None, "de": 0.75}}),
    ("agreement-rate-str", ev("agreement", rate="x"), {"rate": GONE}),
    ("agreement-pair-str", ev("agreement", pair="lm"), {"pair": GONE}),
    ("agreement-pair-ints", ev("agreement", pair=[1, 2]), {"pair": GONE}),
    # data
    ("data-size-str", ev("data", sizes={"D": "x", "U": 5}), {"sizes": {"U": 5}}),
    ("data-sizes-int", ev("data", sizes=5), {"sizes": GONE, "source": "en"}),
    ("data-test-size-negative", ev("data", sizes={"D": 480, "test": {"en": -1, "it": 40}}),
     {"sizes": {"D": 480, "test": {"it": 40}}}),
    ("data-targets-str", ev("data", targets="it,de"), {"targets": GONE}),
    ("data-source-int", ev("data", source=3), {"source": GONE}),
    # the other types
    ("phase-name-int", ev("phase", phase=5), DROP),
    ("phase-round-str", ev("phase", round="x"), {"round": GONE, "phase": "train"}),
    ("log-message-null", ev("log", message=None), DROP),
    ("log-level-int", ev("log", level=3), {"level": GONE, "message": "hello"}),
    ("failed-fields-wrong", ev("failed", error=3, message=["x"], hint={}), {"error": GONE, "message": GONE, "hint": GONE}),
    ("failed-markup", ev("failed", error="Oops", message="[/bold] not [red markup", hint="[/]"),
     {"message": "[/bold] not [red markup"}),
    ("finished-results-str", ev("finished", results="x"), {"results": GONE}),
    ("finished-results-model-str", ev("finished", results={"lm": "x", "emb": {"en": 0.5}}),
     {"results": {"emb": {"en": 0.5}}}),
    ("started-fields-wrong", ev("started", config="x", pid="x"), {"config": GONE, "pid": GONE, "host": "vm"}),
    ("checkpoint-seconds-str", ev("checkpoint", seconds="x"), {"seconds": GONE}),
    ("stopped-resumable-str", ev("stopped", resumable="yes"), {"resumable": GONE}),
    # not an event at all
    ("type-list", json.dumps({"type": ["metrics"], "round": 1}), DROP),
    ("type-int", json.dumps({"type": 5}), DROP),
    ("type-missing", json.dumps({"round": 1, "model": "lm"}), DROP),
    ("empty-object", "{}", DROP),
    ("top-level-list", "[1, 2, 3]", DROP),
    ("top-level-scalars", ["3", '"metrics"', "null", "true"], DROP),
    ("not-json", "this is not json {", DROP),
    ("torn-mid-file", '{"t": 1795326131.5, "run": "x", "type": "metr', DROP),
    ("int-5000-digits", '{"type": "metrics", "round": ' + "1" * 5000 + "}", DROP),
    ("nesting-too-deep", '{"type": "log", "message": ' + "[" * 100_000 + "]" * 100_000 + "}", DROP),
    ("invalid-utf8", b'{"type": "log", "message": "\xff\xfe"}', DROP),
]

# kept as they were: NaN and infinity read as null, which is no damage
UNCHANGED = {"metrics-value-nan", "metrics-mean-nan", "metrics-mean-infinity", "metrics-mean-overflow",
             "agreement-by-lang-nan", "failed-markup"}
CLI_ROWS = {"metrics-round-str", "metrics-values-null", "metrics-model-missing", "agreement-by-lang-list",
            "pools-size-str", "progress-losses-int", "failed-markup", "int-5000-digits"}


def _as_bytes(lines: Any) -> bytes:
    lines = lines if isinstance(lines, list) else [lines]
    return b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)


def damaged_run(tmp_path: Path, lines: Any) -> tuple[Path, Path, int]:
    """(runs folder, events file, number of good events) of a copy of the recorded run with
    `lines` put in the middle of its events."""
    runs = tmp_path / "runs"
    shutil.copytree(RUNS / RID, runs / RID)
    path = runs / RID / "events.jsonl"
    good = path.read_bytes().splitlines(keepends=True)
    half = len(good) // 2
    path.write_bytes(b"".join(good[:half]) + _as_bytes(lines) + b"".join(good[half:]))
    return runs, path, len(good)


def fold_everything(events: list[dict[str, Any]], path: Path) -> LiveRun:
    """Every view of the folds, and `runs watch`'s drawing (running and ended), over `events`."""
    live = LiveRun(run_id=RID)
    live.apply_all(events)
    for model in [*live.metrics, "nope"]:
        live.latest(model), live.best_mean(model), live.series(model), live.zero_shot(model)
    live.models(), live.languages(), live.evaluation_points(), live.mean_series(), live.eta_seconds()
    history = round_history(path)
    json.dumps(history)
    console = Console(file=io.StringIO(), width=100)
    console.print(watch.render(live, "tiny-cotrain", 100))
    live.state = "running"  # the progress line too
    console.print(watch.render(live, "tiny-cotrain", 60))
    return live


@pytest.mark.parametrize("name, lines, kept", [pytest.param(*row, id=row[0]) for row in ROWS])
def test_a_damaged_line_is_dropped_or_loses_its_bad_fields(tmp_path, name, lines, kept):
    alone, used = parse_lines(_as_bytes(lines))
    n_lines = len(lines) if isinstance(lines, list) else 1
    assert used == len(_as_bytes(lines))
    if kept is DROP:
        assert alone == [] and alone.damaged == n_lines
    else:
        assert len(alone) == 1 and alone.damaged == 0
        assert alone.repaired == (0 if name in UNCHANGED else 1)
        for name, want in kept.items():
            if want is GONE:
                assert name not in alone[0]
            else:
                assert alone[0][name] == want
        # what the reader keeps, it keeps again: a kept event already fits the schema
        assert check_event(json.loads(json.dumps(alone[0]))) == alone[0]

    # in a real run: every good event is still read, whole, and the folds draw
    runs, path, n_good = damaged_run(tmp_path, lines)
    events, offset = read_events(path)
    assert offset == path.stat().st_size
    assert len(events) == n_good + (0 if kept is DROP else 1)
    assert events.damaged == (n_lines if kept is DROP else 0)
    live = fold_everything(events, path)
    assert set(live.metrics) == {"lm", "emb"} and live.pools and live.agreement


@pytest.mark.parametrize("name", sorted(CLI_ROWS))
def test_runs_show_reads_a_run_with_a_damaged_line(tmp_path, name):
    lines = next(lines for n, lines, _ in ROWS if n == name)
    runs, _, _ = damaged_run(tmp_path, lines)
    out = cli("runs", "show", RID, runs_dir=runs)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "Traceback" not in text and not re.search(r"\w+Error\b", text), text
    assert "rounds" in out.stdout and "results" in out.stdout


def test_every_command_reads_a_run_with_every_damaged_line_at_once(tmp_path):
    every = [x for _, lines, _ in ROWS for x in (lines if isinstance(lines, list) else [lines])]
    runs, path, n_good = damaged_run(tmp_path, every)
    dropped = sum(len(lines) if isinstance(lines, list) else 1 for _, lines, kept in ROWS if kept is DROP)
    repaired = sum(1 for name, _, kept in ROWS if kept is not DROP and name not in UNCHANGED)
    events, _ = read_events(path)
    assert (events.damaged, events.repaired) == (dropped, repaired)
    fold_everything(events, path)

    def ok(*args: str) -> str:
        out = cli(*args, runs_dir=runs)
        text = out.stdout + out.stderr
        assert out.returncode == 0, text
        assert "Traceback" not in text and not re.search(r"\w+Error\b", text), text
        return out.stdout

    shown = ok("runs", "show", RID)
    assert f"{dropped} lines of events.jsonl were damaged and skipped; {repaired} events lost damaged fields" in shown
    info = json.loads(ok("runs", "show", RID, "--json"))
    assert [r["round"] for r in info["rounds"]] == [1, 2, 3] and info["results"]  # rounds count from 1
    watched = ok("runs", "watch", RID)  # an ended run: replays and exits
    assert "were damaged and skipped" in watched and "finished" in watched
    as_json = ok("runs", "watch", RID, "--json")
    assert all(json.loads(line)["type"] for line in as_json.splitlines())
    assert "| lm " in ok("runs", "export", RID)


def test_tail_counts_what_it_skipped(tmp_path):
    _, path, n_good = damaged_run(tmp_path, [ev("metrics", round="x"), ev("progress", losses=3), "garbage"])
    tail = Tail(path)
    got = tail.poll()
    assert len(got) == n_good + 1 and (tail.damaged, tail.repaired) == (2, 1)
    with open(path, "a") as f:
        f.write(ev("pools", round=None) + "\n" + ev("log") + "\n")
    assert [e["type"] for e in tail.poll()] == ["log"] and tail.damaged == 3 and tail.seen == n_good + 2
