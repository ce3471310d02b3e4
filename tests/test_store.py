"""The run store: atomic, lock-protected index writes from many processes; rebuild from folders."""
from __future__ import annotations

import json
import multiprocessing as mp
import time
from pathlib import Path

import pytest

from engine.config import ConfigError, build
from engine.store import RunNotFound, RunStore


def _writer(root: str, run_id: str, who: str, n: int) -> None:
    store = RunStore(root)
    for i in range(n):
        store.write_status(run_id, {f"{who}{i}": i, "last": f"{who}{i}"})  # also rewrites the index


def _watch_valid(root: str, run_id: str, stop, bad) -> None:  # noqa: ANN001
    files = [Path(root) / "history.json", Path(root) / run_id / "status.json"]
    while not stop.is_set():
        for path in files:
            try:
                json.loads(path.read_text())
            except FileNotFoundError:
                pass
            except json.JSONDecodeError:
                bad.value += 1


def test_two_processes_500_updates_each_none_lost_files_always_valid(tmp_path):
    root = str(tmp_path)
    store = RunStore(root)
    rid = store.create(build(preset="demo-finetune"))
    ctx = mp.get_context("spawn")
    stop, bad = ctx.Event(), ctx.Value("i", 0)
    watcher = ctx.Process(target=_watch_valid, args=(root, rid, stop, bad))
    watcher.start()
    procs = [ctx.Process(target=_writer, args=(root, rid, who, 500)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    stop.set()
    watcher.join(timeout=10)
    assert bad.value == 0, "a reader saw a half-written history.json or status.json"
    status = store.raw_status(rid)
    missing = [f"{w}{i}" for w in "ab" for i in range(500) if status.get(f"{w}{i}") != i]
    assert not missing, f"{len(missing)} updates lost, e.g. {missing[:3]}"
    rows = store.index_rows()
    assert [r["id"] for r in rows] == [rid] and rows[0]["state"] == "queued"


def test_create_status_and_reindex(tmp_path):
    store = RunStore(tmp_path)
    cfg = build(preset="demo-finetune", sets=["seed=5"])
    rid = store.create(cfg)
    assert store.config(rid) == cfg
    assert store.status(rid)["state"] == "queued"
    store.write_status(rid, {"state": "finished", "best_mean": 0.5})
    (tmp_path / "history.json").unlink()
    assert store.reindex() == 1
    row = store.index_entry(rid)
    assert row["state"] == "finished" and row["best_mean"] == 0.5 and row["seed"] == 5


def test_corrupt_index_is_kept_aside_and_rebuilt(tmp_path):
    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    (tmp_path / "history.json").write_text('{"runs": {"1": {"id": ')
    rows = store.list_runs()
    assert [r["id"] for r in rows] == [rid]
    aside = list(tmp_path.glob("history.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"runs": {"1": {"id": '
    json.loads((tmp_path / "history.json").read_text())


def test_running_run_without_its_worker_is_interrupted(tmp_path):
    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    store.write_status(rid, {"state": "running", "pid": 2**22 + 12345})
    assert store.status(rid)["state"] == "interrupted"
    assert store.list_runs()[0]["state"] == "interrupted"


def test_resolve_ids_suffixes_and_names_and_refuses_paths(tmp_path):
    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune", name="my-run"))
    assert store.resolve(rid) == rid
    assert store.resolve(rid[-4:]) == rid
    assert store.resolve("my-run") == rid
    for bad in ("../etc", "/tmp", "nope", "20990101-0000-zzzz"):
        with pytest.raises(RunNotFound):
            store.resolve(bad)
    with pytest.raises(RunNotFound):
        store.run_dir("../../x")


def test_remove_refuses_a_running_run_and_deletes_others(tmp_path):
    import os

    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    store.write_status(rid, {"state": "running", "pid": os.getpid()})
    # our own pid is not a worker: it reads as interrupted, which may be deleted
    store.remove(rid)
    assert store.list_runs() == [] and not (tmp_path / rid).exists()


def test_runs_list_newest_first_even_within_one_minute(tmp_path):
    store = RunStore(tmp_path)
    made = [store.create(build(preset="demo-finetune")) for _ in range(6)]
    assert [r["id"] for r in store.list_runs()] == made[::-1]
