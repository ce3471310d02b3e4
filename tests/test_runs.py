"""Whole runs, detached, with a tiny transformer: run, watch, show, export, stop, kill, resume, clone."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import cli, tiny_sets
from engine.events import read_events
from engine.store import RunStore


def wait_for(pred, timeout: float = 240, every: float = 0.1):  # noqa: ANN001
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def start(runs_dir: Path, *sets: str, env: dict | None = None) -> str:
    args = ["run", "--detach", "--json", "--name", "tiny"]
    for s in sets:
        args += ["--set", s]
    out = cli(*args, runs_dir=runs_dir, env=env, check=True)
    return json.loads(out.stdout)["id"]


def state_of(runs_dir: Path, rid: str) -> str:
    return RunStore(runs_dir).status(rid).get("state")


def ended(runs_dir: Path, rid: str, states: tuple = ("finished", "failed", "stopped"), timeout: float = 240) -> str:
    """Wait until the run is in one of `states`; return that state."""
    return wait_for(lambda: (s := state_of(runs_dir, rid)) in states and s, timeout=timeout)


def events(runs_dir: Path, rid: str) -> list[dict]:
    return read_events(runs_dir / rid / "events.jsonl")[0]


def test_detached_run_finishes_with_results_events_and_history(runs_dir, tiny_model):
    t0 = time.time()
    rid = start(runs_dir, *tiny_sets(tiny_model))
    assert time.time() - t0 < 20, "--detach must return at once"
    assert ended(runs_dir, rid) == "finished", \
        (runs_dir / rid / "worker.log").read_text()
    shown = json.loads(cli("runs", "show", rid, "--json", runs_dir=runs_dir, check=True).stdout)
    assert shown["id"] == rid and shown["name"] == "tiny" and shown["state"] == "finished"
    assert shown["config"]["task"]["target_langs"] == ["it", "de"]
    res = shown["results"]["lm"]
    assert set(res) >= {"it", "de", "en", "mean"}
    assert all(0.0 <= res[x] <= 1.0 for x in ("it", "de", "en"))
    assert res["mean"] == pytest.approx((res["it"] + res["de"]) / 2, abs=1e-5)
    st = json.loads((runs_dir / rid / "status.json").read_text())
    assert st["state"] == "finished" and isinstance(st["pid"], int)
    evs = events(runs_dir, rid)
    assert all({"t", "run", "type"} <= set(e) and e["run"] == rid for e in evs)
    prog = [e for e in evs if e["type"] == "progress"]
    assert prog and prog[-1]["step"] == prog[-1]["total"]
    assert all(isinstance(p["losses"], dict) and "ce" in p["losses"] and p["samples_per_s"] > 0 for p in prog)
    assert evs[-1]["type"] == "finished"
    # it checkpointed while it trained; finished, nothing resumes it, so nothing of that is kept
    assert any(e["type"] == "checkpoint" for e in evs)
    assert list((runs_dir / rid / "checkpoints").iterdir()) == []
    # history, list, export
    rows = json.loads(cli("runs", "list", "--json", runs_dir=runs_dir, check=True).stdout)
    assert [r["id"] for r in rows] == [rid] and rows[0]["state"] == "finished"
    md = cli("runs", "export", rid, runs_dir=runs_dir, check=True).stdout
    assert f"| {rid} | tiny | finetune | 7 | lm |" in md
    csv_text = cli("runs", "export", rid, "--format", "csv", runs_dir=runs_dir, check=True).stdout
    assert csv_text.splitlines()[0].startswith("run,name,method,seed,model,en,")
    assert "\\begin{tabular}" in cli("runs", "export", "--format", "latex", runs_dir=runs_dir, check=True).stdout
    # watch of a finished run replays it and exits 0
    watched = cli("runs", "watch", rid, "--json", runs_dir=runs_dir, check=True)
    assert '"type": "finished"' in watched.stdout
    # reindex rebuilds the same row
    (runs_dir / "history.json").unlink()
    assert "indexed 1 run" in cli("runs", "reindex", runs_dir=runs_dir, check=True).stdout
    # clone with a change
    out = cli("runs", "clone", rid, "--set", "seed=8", "--detach", "--json", runs_dir=runs_dir, check=True)
    cid = json.loads(out.stdout)["id"]
    assert RunStore(runs_dir).config(cid).seed == 8
    assert ended(runs_dir, cid) == "finished"
    assert cli("runs", "rm", cid, "--yes", runs_dir=runs_dir, check=True).returncode == 0
    assert not (runs_dir / cid).exists()


def test_foreground_run_returns_exit_code_of_the_run(runs_dir, tiny_model):
    args = ["run"] + [a for s in tiny_sets(tiny_model, **{"train.epochs": "1"}) for a in ("--set", s)]
    out = cli(*args, runs_dir=runs_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "finished" in out.stdout


def test_failed_run_exits_1_and_keeps_a_readable_reason(runs_dir, tmp_path, tiny_model):
    # a folder that passes the checks made before a run exists (config.json, weights and
    # tokenizer files are there) but whose weights are not weights: only loading finds out
    import shutil

    broken = tmp_path / "not-a-model"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    args = ["run", "--set", f"models.lm={broken}", "--set", "task.max_source=20"]
    out = cli(*args, runs_dir=runs_dir)
    assert out.returncode == 1
    rid = RunStore(runs_dir).list_runs()[0]["id"]
    err = RunStore(runs_dir).status(rid)["error"]
    assert "not-a-model" in err["message"] and "must hold a transformers model" in err["hint"]
    assert "Traceback" in (runs_dir / rid / "worker.log").read_text()  # the details stay in the log


def results_of(runs_dir: Path, rid: str) -> dict:
    return json.loads((runs_dir / rid / "results.json").read_text())


def kill_then_resume(runs_dir: Path, rid: str, when) -> None:  # noqa: ANN001
    """SIGKILL the run's worker once `when()` holds, resume it, and wait for it to finish."""
    wait_for(when, every=0.02)
    os.kill(RunStore(runs_dir).status(rid)["pid"], signal.SIGKILL)
    assert ended(runs_dir, rid, ("interrupted",), timeout=30) == "interrupted"
    out = cli("runs", "resume", rid, "--detach", runs_dir=runs_dir, check=True)
    assert "running" in out.stdout
    assert ended(runs_dir, rid) == "finished"


def test_sigkill_mid_training_then_resume_gives_the_same_results(runs_dir, tiny_model):
    sets = tiny_sets(tiny_model, **{"train.epochs": "3", "task.max_source": "320"})
    ref = start(runs_dir, *sets)
    assert ended(runs_dir, ref) == "finished"

    rid = start(runs_dir, *sets)
    # kill once the first epoch is checkpointed and the second is under way
    def in_epoch_two() -> bool:
        evs = events(runs_dir, rid)
        return any(e["type"] == "checkpoint" for e in evs) and any(
            e["type"] == "progress" and e["epoch"] == 1 for e in evs)
    kill_then_resume(runs_dir, rid, in_epoch_two)
    assert any(e["type"] == "resumed" for e in events(runs_dir, rid))
    assert results_of(runs_dir, rid) == results_of(runs_dir, ref)


def test_stop_checkpoints_and_ends_stopped_then_resume_finishes(runs_dir, tiny_model):
    sets = tiny_sets(tiny_model, **{"train.epochs": "4", "task.max_source": "320"})
    rid = start(runs_dir, *sets)
    wait_for(lambda: any(e["type"] == "progress" for e in events(runs_dir, rid)), every=0.02)
    assert cli("runs", "stop", rid, runs_dir=runs_dir, check=True).returncode == 0
    assert ended(runs_dir, rid) == "stopped"
    evs = events(runs_dir, rid)
    assert evs[-1]["type"] == "stopped" and evs[-2]["type"] == "checkpoint"
    assert cli("runs", "resume", rid, "--detach", runs_dir=runs_dir, check=True).returncode == 0
    assert ended(runs_dir, rid) == "finished"


def test_kill_ends_stopped_and_resumable(runs_dir, tiny_model):
    rid = start(runs_dir, *tiny_sets(tiny_model, **{"train.epochs": "6", "task.max_source": "320"}))
    wait_for(lambda: any(e["type"] == "progress" for e in events(runs_dir, rid)), every=0.02)
    cli("runs", "stop", rid, "--kill", runs_dir=runs_dir, check=True)
    assert state_of(runs_dir, rid) == "stopped"
    assert events(runs_dir, rid)[-1] == {**events(runs_dir, rid)[-1], "type": "stopped", "reason": "killed"}
    assert cli("runs", "resume", rid, "--detach", runs_dir=runs_dir, check=True).returncode == 0
    assert ended(runs_dir, rid) == "finished"


def test_second_cpu_run_queues_and_starts_when_the_first_ends(runs_dir, tiny_model):
    a = start(runs_dir, *tiny_sets(tiny_model))
    b = start(runs_dir, *tiny_sets(tiny_model, seed="8"))
    assert state_of(runs_dir, b) == "queued"
    assert ended(runs_dir, b) == "finished"
    assert state_of(runs_dir, a) == "finished"
