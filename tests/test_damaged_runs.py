"""Damaged run folders, hostile run folders and racing callers: each damage is one row of a
table, and every row must leave the other runs listed, the damaged one marked with the file and
why, and its resume refused in one sentence."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, cli
from engine import checkpoint, layout
from engine.errors import ConfigError, WriteFailed
from engine.launcher import LocalLauncher
from engine.store import RunStore, read_run

DATA = ROOT / "tests" / "data" / "runs"
GOOD = ["20261122-0541-a4c9", "20261122-0541-c7dc", "20261122-0541-d289", "20261122-0541-e526"]
VICTIM = "20261122-0541-c7dc"  # a finished run: config, status, events, results


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A private copy of the recorded runs."""
    shutil.copytree(DATA, tmp_path / "runs", ignore=shutil.ignore_patterns("history.json*", ".*"))
    return tmp_path / "runs"


def write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return damage


def status_with(**fields) -> Callable[[Path], None]:  # noqa: ANN003
    def damage(folder: Path) -> None:
        st = json.loads((folder / "status.json").read_text())
        st.update(fields)
        (folder / "status.json").write_text(json.dumps(st))
    return damage


def remove(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return damage


def a_folder(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        (folder / name).mkdir()
    return damage


def a_link(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        target = folder.parent.parent / f"elsewhere-{name}"
        shutil.copy2(folder / name, target)
        (folder / name).unlink()
        (folder / name).symlink_to(target)
    return damage


def config_edit(old: str, new: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        text = (folder / "config.toml").read_text()
        assert old in text
        (folder / "config.toml").write_text(text.replace(old, new, 1))
    return damage


# (what is damaged, how, words the damage sentence must hold)
DAMAGES = [
    ("status garbage", write("status.json", "not json at all"), ["status.json", "not valid JSON"]),
    ("status empty object", write("status.json", "{}"), ["status.json", "no state"]),
    ("status array", write("status.json", "[1, 2]"), ["status.json", "list"]),
    ("status empty file", write("status.json", ""), ["status.json", "empty"]),
    ("status blank lines", write("status.json", "\n\n  \n"), ["status.json", "empty"]),
    ("status null", write("status.json", "null"), ["status.json", "null"]),
    ("status a number", write("status.json", "3"), ["status.json", "number"]),
    ("status a string", write("status.json", '"finished"'), ["status.json", "string"]),
    ("status binary", write("status.json", b"\xff\xfe\x00\x81binary"), ["status.json", "binary"]),
    ("status truncated", write("status.json", '{"state": "fini'), ["status.json", "not valid JSON"]),
    ("status a folder", a_folder("status.json"), ["status.json", "folder"]),
    ("status missing", remove("status.json"), ["status.json", "missing"]),
    ("status unknown state", status_with(state="exploded"), ["status.json", "'exploded'"]),
    ("status state a number", status_with(state=3), ["status.json", "3"]),
    ("status pid text", status_with(pid="abc"), ["status.json", "pid", "whole number"]),
    ("status pid bool", status_with(pid=True), ["status.json", "pid", "true"]),
    ("status created_t text", status_with(created_t="yesterday"), ["status.json", "created_t"]),
    ("status round text", status_with(round="2"), ["status.json", "round", '"2"']),
    ("status rounds float", status_with(rounds=2.5), ["status.json", "rounds", "2.5"]),
    ("status latest_mean text", status_with(latest_mean="high"), ["status.json", "latest_mean"]),
    ("status best_mean list", status_with(best_mean=[1]), ["status.json", "best_mean"]),
    ("status error text", status_with(error="boom"), ["status.json", "error", "object"]),
    ("status gpus text", status_with(gpus="0"), ["status.json", "gpus", "list"]),
    ("status host number", status_with(host=5), ["status.json", "host"]),
    ("status a link", a_link("status.json"), ["status.json", "symbolic link"]),
    ("config garbage", write("config.toml", "this is = = not toml"), ["config.toml", "not valid TOML"]),
    ("config empty", write("config.toml", ""), ["config.toml", "no [task] table"]),
    ("config binary", write("config.toml", b"\x00\xff\xfe"), ["config.toml"]),
    ("config a folder", a_folder("config.toml"), ["config.toml", "folder"]),
    ("config missing", remove("config.toml"), ["config.toml", "missing"]),
    ("config task not a table", write("config.toml", 'task = 5\nmodels = {}\ntrain = {}\nmethod = {}\n'),
     ["config.toml", "task = 5", "table"]),
    ("config no method", config_edit("[method]", "[methods]"), ["config.toml", "no [method] table"]),
    ("config name a number", config_edit('name = "tiny-seed8"', "name = 5"), ["config.toml", "name = 5"]),
    ("config target_langs text", config_edit('target_langs = [\n    "it",\n    "de",\n    "es",\n]',
                                             'target_langs = "it"'), ["config.toml", "target_langs"]),
    ("config target_langs numbers", config_edit('target_langs = [\n    "it",', 'target_langs = [\n    1,'),
     ["config.toml", "target_langs"]),
    ("config a link", a_link("config.toml"), ["config.toml", "symbolic link"]),
    ("results garbage", write("results.json", "{{{"), ["results.json", "not valid JSON"]),
    ("results array", write("results.json", "[]"), ["results.json", "list"]),
    ("results empty", write("results.json", ""), ["results.json", "empty"]),
    ("results binary", write("results.json", b"\x89PNG\x00\xff"), ["results.json", "binary"]),
    ("results model a number", write("results.json", '{"lm": 5}'), ["results.json", "lm = 5"]),
    ("results value text", write("results.json", '{"lm": {"it": "x"}}'), ["results.json", "lm.it"]),
    ("results value bool", write("results.json", '{"lm": {"it": true}}'), ["results.json", "lm.it"]),
    ("results a folder", a_folder("results.json"), ["results.json", "folder"]),
    ("results a link", a_link("results.json"), ["results.json", "symbolic link"]),
]


@pytest.mark.parametrize("what, damage, words", DAMAGES, ids=[d[0] for d in DAMAGES])
def test_a_damaged_file_marks_its_run_and_spares_the_others(runs, what, damage, words):
    damage(runs / VICTIM)
    store = RunStore(runs)
    rows = {r["id"]: r for r in store.list_runs()}
    assert set(GOOD) <= set(rows), "every other run is listed"
    assert all(rows[i]["state"] != "damaged" for i in GOOD if i != VICTIM)
    assert rows[VICTIM]["state"] == "damaged"
    for w in words:
        assert w in rows[VICTIM]["damage"], rows[VICTIM]["damage"]
    shown = store.show(VICTIM)
    assert shown["state"] == "damaged" and "xlu-tui runs" in shown["recovery"]
    assert store.status(VICTIM)["state"] == "damaged"
    with pytest.raises(ConfigError):  # resuming it is refused in a sentence, not a traceback
        LocalLauncher(store).start(VICTIM)
    assert store.reindex() == len(rows)  # the index holds it too, marked


# A handful of the rows again, through the CLI as a user types it.
@pytest.mark.parametrize("what", ["status garbage", "config garbage", "results array", "status a folder",
                                  "config missing"])
def test_the_cli_lists_shows_and_refuses_a_damaged_run(runs, what):
    damage = next(d for name, d, _ in DAMAGES if name == what)
    damage(runs / VICTIM)
    out = cli("runs", "list", runs_dir=runs)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "damaged" in out.stdout and all(i in out.stdout for i in GOOD)
    listed = json.loads(cli("runs", "list", "--json", runs_dir=runs, check=True).stdout)
    assert {r["id"]: r["state"] for r in listed}[VICTIM] == "damaged"
    out = cli("runs", "show", VICTIM, runs_dir=runs)
    assert "Traceback" not in out.stderr and "damaged" in out.stdout + out.stderr, out.stdout + out.stderr
    out = cli("runs", "resume", VICTIM, "--detach", runs_dir=runs)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and VICTIM in lines[0], out.stderr
    out = cli("runs", "export", runs_dir=runs)
    assert "Traceback" not in out.stderr


def test_one_damaged_run_of_each_kind_and_the_rest_still_list(runs):
    """The issue's 'done when': a folder holding one damaged run of each kind lists all the others."""
    kinds = [d for d in DAMAGES if d[0] in ("status garbage", "status empty object", "status array",
                                              "status empty file", "config garbage", "results garbage",
                                              "results array")]
    damaged = []
    for i, (_, damage, _) in enumerate(kinds):
        rid = f"20261123-0000-{i:04x}"
        shutil.copytree(runs / VICTIM, runs / rid)
        damage(runs / rid)
        damaged.append(rid)
    out = cli("runs", "list", "--json", runs_dir=runs)
    assert out.returncode == 0, out.stderr
    states = {r["id"]: r["state"] for r in json.loads(out.stdout)}
    assert all(states[i] == "damaged" for i in damaged)
    assert all(states[i] != "damaged" for i in GOOD)


# --------------------------------------------------------------------------- the history index

INDEX_DAMAGES = [
    ("garbage", lambda p: p.write_text("{{{ not json")),
    ("binary", lambda p: p.write_bytes(b"\xff\x00\xfe" * 20)),
    ("a folder", lambda p: p.mkdir()),
    ("an array", lambda p: p.write_text("[1, 2, 3]")),
    ("runs a list", lambda p: p.write_text('{"runs": [1, 2]}')),
    ("rows strings", lambda p: p.write_text('{"runs": {"1": "x"}}')),
    ("row id a number", lambda p: p.write_text('{"runs": {"1": {"id": 5, "state": "finished"}}}')),
    ("empty", lambda p: p.write_text("")),
    ("a table a number", lambda p: p.write_text('{"runs": 7}')),
]


@pytest.mark.parametrize("what, damage", INDEX_DAMAGES, ids=[d[0] for d in INDEX_DAMAGES])
def test_a_damaged_index_never_hides_the_runs_and_reindex_rebuilds_it(runs, what, damage):
    RunStore(runs).reindex()
    index = runs / "history.json"
    index.unlink()
    damage(index)
    out = cli("runs", "list", "--json", runs_dir=runs)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert {r["id"] for r in json.loads(out.stdout)} >= set(GOOD)
    out = cli("runs", "reindex", runs_dir=runs)
    assert out.returncode == 0, out.stderr
    rows = RunStore(runs).index_rows()
    assert {r["id"] for r in rows} == set(GOOD) | {"20261122-0541-00f7", "20261122-0542-f538"}
    assert index.is_file()


# --------------------------------------------------------------------------- repair from the event log

def test_reindex_repairs_status_config_and_results_from_the_event_log(runs):
    store = RunStore(runs)
    before = store.show(VICTIM)
    write("status.json", "garbage")(runs / VICTIM)
    write("results.json", "[]")(runs / VICTIM)
    assert store.repair(VICTIM) and store.status(VICTIM)["state"] == "finished"
    assert store.results(VICTIM) == before["results"]
    assert list((runs / VICTIM).glob("status.json.damaged-*")), "the damaged file is kept aside"
    # the config is rebuilt from the config the worker announced when it started
    write("config.toml", "= =")(runs / VICTIM)
    assert any("config.toml" in x for x in store.repair(VICTIM))
    assert store.status(VICTIM)["state"] == "finished"
    assert store.config_dict(VICTIM)["task"] == before["config"]["task"]


def test_a_run_whose_log_ends_mid_way_is_repaired_as_stopped_not_queued(runs):
    store = RunStore(runs)
    rid = "20261122-0541-e526"  # stopped mid-way
    remove("status.json")(runs / rid)
    store.repair(rid)
    assert store.status(rid)["state"] == "stopped"


# --------------------------------------------------------------------------- hostile run folders

class _Boom:
    def __reduce__(self):  # what a hostile pickle does on load
        return (os.system, (f"touch {os.environ['XLU_PWNED']}",))


def test_a_pickle_in_a_checkpoint_never_runs(tmp_path, monkeypatch):
    import torch

    marker = tmp_path / "pwned"
    monkeypatch.setenv("XLU_PWNED", str(marker))
    ck = tmp_path / "run" / "checkpoints" / "round-1"
    ck.mkdir(parents=True)
    with open(ck / "lm.trainer.pt", "wb") as f:
        pickle.dump({"optimizer": _Boom()}, f)
    (ck / "state.json").write_text("{}")
    (ck.parent / "LATEST").write_text("round-1\n")

    class Trainer:
        def load_state_dict(self, state):  # noqa: ANN001
            raise AssertionError("a hostile trainer state was loaded")

    with pytest.raises(Exception) as err:
        checkpoint.load_trainer(ck, "lm", Trainer())
    assert "weights" in str(err.value).lower() or "unpickl" in str(err.value).lower()
    assert not marker.exists(), "code from a run folder ran"
    # what we write ourselves has no pickle in it at all
    ours = tmp_path / "ours"
    ours.mkdir()
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.ones(3))], lr=1e-3)
    opt.param_groups[0]["params"][0].grad = torch.ones(3)
    opt.step()
    checkpoint.save_trainer(ours, "lm", {"optimizer": opt.state_dict(), "position": {"epoch": 1}})
    assert sorted(p.name for p in ours.iterdir()) == ["lm.trainer.json", "lm.trainer.safetensors"]


class _Model:
    def trainable_state(self):  # noqa: ANN201
        import torch
        return {"w": torch.zeros(2)}


class _Trainer:
    def state_dict(self):  # noqa: ANN201
        import torch
        return {"optimizer": {"state": {0: {"step": torch.tensor(3.0)}}, "param_groups": [{"betas": (0.9, 0.99),
                              "params": [0]}]}, "position": {"epoch": 2}}

    def load_state_dict(self, state):  # noqa: ANN001
        self.loaded = state


def test_trainer_state_round_trips_with_its_types(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    path = checkpoint.save(folder / "checkpoints", "round-1", {"lm": _Model()}, {"lm": _Trainer()}, {"round": 1})
    t = _Trainer()
    assert checkpoint.load_trainer(path, "lm", t)
    opt = t.loaded["optimizer"]
    assert list(opt["state"]) == [0] and float(opt["state"][0]["step"]) == 3.0  # int keys stay ints
    assert opt["param_groups"][0]["betas"] == (0.9, 0.99)
    assert layout.latest_checkpoint(folder) == path


def test_a_checkpoints_link_is_never_followed(tmp_path):
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "thesis").mkdir()
    (victim / "thesis" / "chapter1.tex").write_text("years of work")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoints").symlink_to(victim)
    with pytest.raises(layout.OutsideRunFolder):
        checkpoint.save(folder / "checkpoints", "round-1", {"lm": _Model()}, {}, {"round": 1})
    checkpoint.discard(folder)
    assert (victim / "thesis" / "chapter1.tex").read_text() == "years of work"
    assert layout.latest_checkpoint(folder) is None


def test_a_link_inside_checkpoints_is_unlinked_not_followed(tmp_path):
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "keep.txt").write_text("x")
    folder = tmp_path / "run"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "round-0").symlink_to(victim)
    checkpoint.save(folder / "checkpoints", "round-1", {"lm": _Model()}, {}, {"round": 1})
    assert (victim / "keep.txt").exists() and not (folder / "checkpoints" / "round-0").exists()


@pytest.mark.parametrize("tag", ["../../precious", "/etc", "..", ".tmp-x", "round-1/../../x", ""])
def test_latest_naming_a_path_out_of_the_folder_is_no_checkpoint(tmp_path, tag):
    folder = tmp_path / "run"
    (folder / "checkpoints").mkdir(parents=True)
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "state.json").write_text("{}")
    (folder / "checkpoints" / "LATEST").write_text(tag + "\n")
    assert layout.latest_checkpoint(folder) is None


def test_a_linked_events_or_log_file_is_refused(runs, tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH\n")
    store = RunStore(runs)
    rid = "20261122-0541-e526"
    (runs / rid / "worker.log").unlink(missing_ok=True)
    (runs / rid / "worker.log").symlink_to(victim)
    with pytest.raises(ConfigError):
        LocalLauncher(store).start(rid, [])
    assert victim.read_text() == "export PATH\n"
    with pytest.raises(layout.OutsideRunFolder):
        layout.inside(runs / rid, "worker.log")


# --------------------------------------------------------------------------- liveness

def _sleeper(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_a_reused_pid_never_makes_a_dead_run_running_nor_gets_killed(runs):
    store = RunStore(runs)
    other = _sleeper("engine.worker", str(runs / "20261122-0541-a4c9"))  # another run's worker
    try:
        rid = "20261122-0541-e526"
        store.write_status(rid, {"state": "running", "pid": other.pid})
        assert store.status(rid)["state"] == "interrupted"
        out = cli("runs", "stop", rid, "--kill", runs_dir=runs)
        assert out.returncode == 2 and "interrupted" in out.stderr
        assert other.poll() is None, "a stranger's worker was killed"
        # the same process is the live worker of the run it names
        store.write_status("20261122-0541-a4c9", {"state": "running", "pid": other.pid})
        assert store.status("20261122-0541-a4c9")["state"] == "running"
    finally:
        other.kill()
        other.wait()


def test_a_pid_from_before_a_reboot_or_from_another_host(runs):
    store = RunStore(runs)
    rid = "20261122-0541-a4c9"
    mine = _sleeper("engine.worker", str(runs / rid))
    try:
        store.write_status(rid, {"state": "running", "pid": mine.pid, "boot_id": "an-earlier-boot"})
        assert store.status(rid)["state"] == "interrupted"
        store.write_status(rid, {"state": "running", "pid": 999999, "boot_id": None, "host": "gpu-node-7"})
        assert store.status(rid)["state"] == "running"  # not ours to judge: it runs elsewhere
        with pytest.raises(ConfigError, match="gpu-node-7"):
            LocalLauncher(store).stop(rid, kill=True)
    finally:
        mine.kill()
        mine.wait()


# --------------------------------------------------------------------------- one start per queued run

class _CountingLauncher(LocalLauncher):
    """The real launcher, but its workers only sleep (and say in a file that they were started)."""

    def _spawn(self, run_id: str, gpus: list[int]) -> None:
        folder = self.store.run_dir(run_id)
        with open(self.store.root / "spawned.log", "a") as f:
            f.write(run_id + "\n")
        proc = _sleeper("engine.worker", str(folder))
        self.store.write_status(run_id, {"state": "running", "pid": proc.pid, "gpus": gpus})


def _start_queued(root: str, go) -> None:  # noqa: ANN001
    go.wait()
    _CountingLauncher(RunStore(root)).start_queued()


def test_racing_callers_start_each_queued_run_exactly_once(tmp_path, monkeypatch):
    from engine.config import build

    monkeypatch.setenv("XLU_MAX_CPU_RUNS", "50")
    store = RunStore(tmp_path)
    queued = [store.create(build(preset="demo-finetune")) for _ in range(6)]
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_start_queued, args=(str(tmp_path), go)) for _ in range(5)]
    for p in procs:
        p.start()
    time.sleep(1.0)
    go.set()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    try:
        spawned = (tmp_path / "spawned.log").read_text().split()
        assert sorted(spawned) == sorted(queued), "a queued run was started twice, or not at all"
    finally:
        for rid in queued:
            pid = store.raw_status(rid).get("pid")
            if pid:
                os.kill(pid, 9)


def test_start_of_a_run_that_is_already_running_spawns_nothing(tmp_path, monkeypatch):
    from engine.config import build

    monkeypatch.setenv("XLU_MAX_CPU_RUNS", "5")
    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    launcher = _CountingLauncher(store)
    try:
        assert launcher.start(rid) == "running"
        assert launcher.start(rid) == "running"
        assert launcher.start_queued() == []
        assert (tmp_path / "spawned.log").read_text().split() == [rid]
    finally:
        os.kill(store.raw_status(rid)["pid"], 9)


# --------------------------------------------------------------------------- the index follows the status

def _hammer(root: str, rid: str, who: int, n: int) -> None:
    store = RunStore(root)
    for i in range(n):
        store.write_status(rid, {"round": who * 1000 + i, "state": "running"})


def test_the_index_ends_where_the_status_ends_with_several_writers(tmp_path):
    from engine.config import build

    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), rid, w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert store.index_entry(rid)["round"] == store.raw_status(rid)["round"]


# --------------------------------------------------------------------------- runs folders and disk

@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of our own (tmpfs), so 'disk full' and 'read-only' are real."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path) -> None:
    """Take every free byte of the file system."""
    fd = os.open(folder / "ballast", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 256, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def test_disk_full_while_creating_a_run_leaves_nothing_and_says_so(small_disk):
    from engine.config import build

    store = RunStore(small_disk / "runs")
    first = store.create(build(preset="demo-finetune"))
    before = sorted(p.name for p in (small_disk / "runs").rglob("*"))
    _fill(small_disk)
    with pytest.raises(WriteFailed, match="no space left"):
        store.create(build(preset="demo-finetune"))
    after = sorted(p.name for p in (small_disk / "runs").rglob("*"))
    assert after == before, "a failed create left something behind"
    assert store.status(first)["state"] == "queued" and [r["id"] for r in store.list_runs()] == [first]
    out = cli("run", "--preset", "demo-finetune", "--detach", runs_dir=small_disk / "runs")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: could not create a run in ") and "no space left" in lines[0], out.stderr
    assert sorted(p.name for p in (small_disk / "runs").rglob("*")) == before
    # a status write that fails keeps the old status whole and leaves no temp file
    with pytest.raises(WriteFailed):
        store.write_status(first, {"note": "x" * 200_000})
    assert store.status(first)["state"] == "queued"
    assert not [p for p in (small_disk / "runs").rglob("*.tmp")]


def test_a_read_only_runs_folder_lists_but_refuses_new_runs(small_disk):
    from engine.config import build

    store = RunStore(small_disk / "runs")
    rid = store.create(build(preset="demo-finetune"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    out = cli("runs", "list", "--json", runs_dir=small_disk / "runs")
    assert out.returncode == 0 and [r["id"] for r in json.loads(out.stdout)] == [rid], out.stderr
    out = cli("run", "--preset", "demo-finetune", "--detach", runs_dir=small_disk / "runs")
    assert out.returncode == 2 and "not writable" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_runs_folder_that_is_a_file(tmp_path):
    (tmp_path / "runs").write_text("my notes")
    for args in (["runs", "list"], ["run", "--preset", "demo-finetune", "--detach"], ["runs", "reindex"]):
        out = cli(*args, runs_dir=tmp_path / "runs")
        assert out.returncode == 2 and "is a file" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert (tmp_path / "runs").read_text() == "my notes"


def test_a_runs_folder_made_by_us_gets_a_gitignore_a_users_folder_does_not(tmp_path):
    from engine.config import build

    RunStore(tmp_path / "new").create(build(preset="demo-finetune"))
    assert (tmp_path / "new" / ".gitignore").read_text() == "*\n"
    (tmp_path / "mine").mkdir()
    RunStore(tmp_path / "mine").create(build(preset="demo-finetune"))
    assert not (tmp_path / "mine" / ".gitignore").exists()


def test_gpus_a_machine_lacks_is_refused_before_a_run_exists(tmp_path):
    out = cli("run", "--preset", "demo-finetune", "--gpus", "7", "--detach", runs_dir=tmp_path / "runs")
    assert out.returncode == 2 and "GPU 7" in out.stderr, out.stderr
    assert not list((tmp_path / "runs").glob("2*")) if (tmp_path / "runs").exists() else True


def test_a_run_folder_is_complete_or_absent(tmp_path):
    from engine.config import build

    store = RunStore(tmp_path)
    rid = store.create(build(preset="demo-finetune"))
    files = read_run(tmp_path / rid)
    assert files.damage is None and files.status["state"] == "queued"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".creating")]
