"""The headless CLI as a user types it: exit codes, one-sentence errors, no training stack for --help."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, assert_bad_input, cli


def test_help_does_not_import_the_training_stack():
    code = ("import sys\nfrom xlu_tui.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('torch','transformers','tensorflow','datasets','textual') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_engine_never_imports_textual():
    code = ("import sys, engine.worker, engine.launcher, engine.store, engine.config, engine.live\n"
            "import engine.methods.finetune, engine.tasks\n"
            "print('TEXTUAL', 'textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "TEXTUAL False" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("args, words", [
    (["run", "--preset", "demo-finetune", "--set", "train.epochs=0"], ["train.epochs", "0"]),
    (["run", "--preset", "nope"], ["preset 'nope'", "demo-finetune"]),
    (["run", "--preset", "demo-finetune", "--set", "task.target_langs=[xx]"], ["task.target_langs", "'xx'"]),
    (["run", "missing.toml"], ["missing.toml", "does not exist"]),
    (["runs", "show", "nope"], ["run 'nope' does not exist"]),
    (["runs", "show", "../../etc"], ["does not exist"]),
    (["runs", "resume", "abcd"], ["run 'abcd' does not exist"]),
    (["runs", "export", "--format", "xls"], ["--format", "'xls'", "md, csv, latex, json"]),
    (["run", "--preset", "demo-finetune", "--gpus", "x"], ["--gpus", "'x'"]),
    (["runs", "list", "--state", "bogus"], ["--state", "'bogus'", "queued, running, finished, failed"]),
    (["runs", "list", "--state", "bogus", "--json"], ["--state", "'bogus'", "interrupted"]),
    # an unset shell variable: never the current folder
    (["runs", "list", "--runs-dir", ""], ["--runs-dir is empty"]),
    (["--runs-dir", "", "runs", "list"], ["--runs-dir is empty"]),
    (["run", "--preset", "demo-finetune", "--runs-dir", ""], ["--runs-dir is empty"]),
    (["runs", "export", "-o", "."], ["-o .", "is a folder"]),
    (["run", "--preset", "demo-finetune", "--app", "--runs-dir", "README.md"], ["README.md is a file"]),
    (["runs", "export", "-o", "no-such-folder/x.md"], ["-o no-such-folder/x.md", "no-such-folder does not exist"]),
])
def test_bad_input_exits_2_with_one_sentence(args, words, runs_dir):
    out = cli(*args, runs_dir=runs_dir)
    assert_bad_input(out, words, runs_dir)


def test_unknown_command_or_option_exits_2(runs_dir):
    out = cli("runs", "frobnicate", runs_dir=runs_dir)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_presets_list_and_show():
    out = cli("presets", "list", "--json", check=True)
    names = [p["name"] for p in json.loads(out.stdout)]
    assert "demo-finetune" in names
    shown = cli("presets", "show", "demo-finetune", check=True).stdout
    assert 'lm = "e5-small"' in shown and "[train]" in shown


def test_runs_list_empty_and_json(runs_dir):
    assert "no runs" in cli("runs", "list", runs_dir=runs_dir, check=True).stdout
    assert json.loads(cli("runs", "list", "--json", runs_dir=runs_dir, check=True).stdout) == []


def test_doctor_reports_torch_and_presets():
    out = cli("doctor", "--json", check=True)
    facts = json.loads(out.stdout)
    assert facts["torch"]["version"].startswith("2.")
    assert any(p["name"] == "demo-finetune" and p["runs_here"] for p in facts["presets"])


# --------------------------------------------------------------------------- what a new user saw

DATA = ROOT / "tests" / "data" / "runs"
NAMES = {"20261122-0541-00f7": "broken-model", "20261122-0541-a4c9": "tiny-seed7", "20261122-0541-c7dc": "tiny-seed8",
         "20261122-0541-d289": "tiny-cotrain", "20261122-0541-e526": "tiny-stopped",
         "20261122-0542-f538": "tiny-selftrain"}
NO_RUNS_DIR = {"XLU_RUNS_DIR": ""}  # the tests say where the runs are on the command line


@pytest.fixture
def recorded(tmp_path):
    """A private copy of the recorded runs (finished, failed, stopped; fine-tuning and co-training)."""
    import shutil

    shutil.copytree(DATA, tmp_path / "runs", ignore=shutil.ignore_patterns("history.json*", ".*"))
    return tmp_path / "runs"


def _narrow(columns):
    env = {"COLUMNS": str(columns)} if columns else {}
    return {**NO_RUNS_DIR, **env}


@pytest.mark.parametrize("columns", [80, None])  # None: piped with no COLUMNS, where Rich uses 80
def test_runs_list_keeps_ids_and_names_whole_at_80_columns(recorded, columns, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = cli("runs", "list", "--runs-dir", str(recorded), env=_narrow(columns), check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 1 + len(NAMES), out
    assert max(len(x) for x in lines) <= 80, out
    assert "…" not in out, out
    for run_id, name in NAMES.items():
        line = next(x for x in lines if run_id in x)
        assert f"{run_id}  {name} " in line, line
    for word in ("state", "mean", "best", "finished", "stopped", "failed", "3/3"):
        assert word in out


def test_runs_list_never_cuts_a_name_even_when_it_cannot_fit(recorded):
    import re

    cfg = recorded / "20261122-0541-a4c9" / "config.toml"
    long_name = "an-experiment-name-far-too-long-for-any-narrow-terminal"
    cfg.write_text(re.sub(r'(?m)^name = .*$', f'name = "{long_name}"', cfg.read_text()))
    out = cli("runs", "list", "--runs-dir", str(recorded), env=_narrow(60), check=True).stdout
    assert f"20261122-0541-a4c9  {long_name}" in out, out
    for run_id, name in NAMES.items():
        assert run_id in out and (name in out or run_id.endswith("a4c9"))
    assert "…" not in out


def _big_pools(recorded):
    """The co-training run, with pools of thousands of items (the real demo's sizes: 1119...)."""
    events = recorded / "20261122-0541-d289" / "events.jsonl"
    lines = []
    for line in events.read_text().splitlines():
        ev = json.loads(line)
        if ev.get("type") == "pools":
            for k, v in list(ev.items()):
                if k[:2] in ("U_", "C_", "S_", "D_") and isinstance(v, int):
                    ev[k] = v * 1000 + 119
        lines.append(json.dumps(ev))
    events.write_text("\n".join(lines) + "\n")
    return [str(v) for line in lines for k, v in json.loads(line).items()
            if json.loads(line).get("type") == "pools" and k[:2] in ("U_", "C_", "S_", "D_")]


@pytest.mark.parametrize("columns", [80, None])
def test_runs_show_never_cuts_a_number_at_80_columns(recorded, columns, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    numbers = _big_pools(recorded)
    out = cli("runs", "show", "d289", "--runs-dir", str(recorded), env=_narrow(columns), check=True).stdout
    assert "…" not in out, out
    assert max(len(x.rstrip()) for x in out.splitlines()[:-1]) <= 80, out  # the last line: the run's folder
    for header in ("round", "lm mean", "emb mean", "agree", "U_lm", "D_lm", "prec S_lm", "U_emb", "prec S_emb", "mean"):
        assert header in out, header
    for n in numbers:
        assert n in out, n
    # every table cell of a row is whole: round 1 lists its pool sizes in full
    assert "343119" in out and "488119" in out


def test_runs_show_keeps_one_table_when_the_terminal_is_wide(recorded):
    _big_pools(recorded)
    out = cli("runs", "show", "d289", "--runs-dir", str(recorded), env=_narrow(200), check=True).stdout
    header = next(x for x in out.splitlines() if x.startswith("round "))
    assert "U_lm" in header and "prec S_emb" in header and "agree" in header


def test_live_view_tables_fit_80_columns(recorded):
    from rich.console import Console

    from engine.events import read_events
    from engine.live import LiveRun
    from xlu_tui.watch import render

    _big_pools(recorded)
    live = LiveRun(run_id="20261122-0541-d289")
    for ev in read_events(recorded / "20261122-0541-d289" / "events.jsonl")[0]:
        live.apply(ev)
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render(live, "tiny-cotrain", 80))
    text = console.export_text()
    assert "…" not in text and "343119" in text and "prec S_emb" in text, text


@pytest.mark.parametrize("args", [
    ["runs", "list"], ["runs", "list", "--json"], ["runs", "show", "tiny-seed7"], ["runs", "export", "a4c9"],
    ["runs", "reindex"], ["runs", "watch", "a4c9"], ["runs", "stop", "a4c9"], ["runs", "resume", "a4c9"],
    ["runs", "rm", "a4c9", "--yes"],
])
def test_runs_dir_is_accepted_after_the_subcommand(recorded, args):
    out = cli(*args, "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    assert "No such option" not in out.stderr, out.stderr
    if args[1] in ("stop", "resume"):  # the run was found in that folder; it is finished
        assert out.returncode == 2 and "20261122-0541-a4c9 is finished" in out.stderr, out.stderr
        return
    assert out.returncode == 0, out.stdout + out.stderr
    assert "20261122-0541" in out.stdout or "indexed 6 run(s)" in out.stdout or "a4c9" in out.stdout, out.stdout


def test_runs_dir_on_run_and_its_precedence(recorded, tmp_path):
    # `run` takes it too (a bad preset: the option itself was understood)
    out = cli("run", "--preset", "nope", "--runs-dir", str(tmp_path / "new"), env=NO_RUNS_DIR)
    assert out.returncode == 2 and "preset 'nope'" in out.stderr and "No such option" not in out.stderr
    empty = tmp_path / "empty"
    # the option closest to the command wins over XLU_RUNS_DIR and over the one before the subcommand
    out = cli("runs", "list", "--json", "--runs-dir", str(recorded), runs_dir=empty, check=True)
    assert len(json.loads(out.stdout)) == len(NAMES)
    out = cli("--runs-dir", str(empty), "runs", "list", "--json", "--runs-dir", str(recorded), check=True)
    assert len(json.loads(out.stdout)) == len(NAMES)
    out = cli("--runs-dir", str(recorded), "runs", "list", "--json", runs_dir=empty, check=True)
    assert len(json.loads(out.stdout)) == len(NAMES)


def test_hints_name_the_runs_dir_and_stay_on_one_line(tmp_path):
    runs = tmp_path / "a-folder-with-a-rather-long-name-so-that-hints-pass-80-columns" / "runs"
    out = cli("runs", "list", "--runs-dir", str(runs), env=_narrow(80), check=True).stdout
    assert f"xlu-tui run --preset demo-finetune --runs-dir {runs}\n" in out, out
    assert len(out.splitlines()) == 1


def test_watch_of_an_ended_run_ends_with_a_hint_on_its_own_line(recorded):
    out = cli("runs", "watch", "d289", "--runs-dir", str(recorded), env=_narrow(80))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == f"finished: xlu-tui runs show 20261122-0541-d289 --runs-dir {recorded}"
    out = cli("runs", "watch", "e526", "--runs-dir", str(recorded), env=_narrow(80))
    assert out.returncode == 1
    assert out.stdout.splitlines()[-1] == f"stopped: resume with xlu-tui runs resume 20261122-0541-e526 --runs-dir {recorded}"


def test_hints_leave_out_the_default_runs_dir():
    from xlu_tui.commands.common import command_hint

    assert command_hint("runs", "runs", "watch", "ab12") == "xlu-tui runs watch ab12"
    assert command_hint("./runs", "runs", "watch", "ab12") == "xlu-tui runs watch ab12"
    assert command_hint("/x/my runs", "runs", "watch", "ab12") == "xlu-tui runs watch ab12 --runs-dir '/x/my runs'"


@pytest.fixture
def busy_cpu(recorded):
    """A process `pid_alive` takes for the worker of run a4c9 (its command line names engine.worker
    and the run folder), so a new CPU run waits queued and trains nothing."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "engine.worker",
                          str(recorded / "20261122-0541-a4c9")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    yield p.pid
    p.kill()
    p.wait()


def test_detached_run_hint_names_the_runs_dir(recorded, busy_cpu):
    from engine.store import RunStore

    RunStore(recorded).write_status("20261122-0541-a4c9", {"state": "running", "pid": busy_cpu, "gpus": []})
    out = cli("run", "--preset", "demo-finetune", "--detach", "--gpus", "cpu", "--runs-dir", str(recorded),
              env={**_narrow(80), "XLU_MAX_CPU_RUNS": "1"}, check=True)
    line = out.stdout.strip()
    assert len(out.stdout.splitlines()) == 1 and " queued; follow it with: xlu-tui runs watch " in line, out.stdout
    assert line.endswith(f" --runs-dir {recorded}"), line
    # the run it made has no results: export says so, naming it and its state, and fails
    new_id = line.split()[1]
    out = cli("runs", "export", new_id, "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    assert out.returncode == 1 and out.stdout == "", out.stdout
    assert new_id in out.stderr and "queued" in out.stderr and "no results yet" in out.stderr


def test_an_ambiguous_name_lists_the_runs_that_have_it(recorded):
    import shutil

    assert cli("runs", "list", "--runs-dir", str(recorded), env=NO_RUNS_DIR, check=True).returncode == 0  # indexed
    # two more runs named tiny-seed7, copied in: the index does not know them yet
    shutil.copytree(recorded / "20261122-0541-a4c9", recorded / "20261122-0600-aaaa")
    shutil.copytree(recorded / "20261122-0541-a4c9", recorded / "20261122-0601-bbbb")
    out = cli("runs", "show", "tiny-seed7", "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "ambiguous" in lines[0] and "does not exist" not in lines[0], out.stderr
    for run_id in ("20261122-0541-a4c9", "20261122-0600-aaaa", "20261122-0601-bbbb"):
        assert run_id in lines[0]
    # a unique name of a run that only its folder knows resolves
    shutil.rmtree(recorded / "20261122-0601-bbbb")
    (recorded / "20261122-0600-aaaa" / "config.toml").write_text(
        (recorded / "20261122-0600-aaaa" / "config.toml").read_text().replace('name = "tiny-seed7"', 'name = "copied"'))
    out = cli("runs", "show", "copied", "--runs-dir", str(recorded), env=NO_RUNS_DIR, check=True)
    assert "20261122-0600-aaaa" in out.stdout


def test_runs_list_state_filter_and_its_empty_hint(recorded):
    out = cli("runs", "list", "--state", "stopped", "--runs-dir", str(recorded), env=NO_RUNS_DIR, check=True)
    assert "tiny-stopped" in out.stdout and "tiny-seed7" not in out.stdout
    out = cli("runs", "list", "--state", "running", "--runs-dir", str(recorded), env=NO_RUNS_DIR, check=True)
    assert out.stdout.startswith("no running runs in ")


def test_export_says_when_a_run_has_no_results(recorded):
    out = cli("runs", "export", "tiny-stopped", "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == ("run 20261122-0541-e526 (tiny-stopped) is stopped and has no results yet; "
                                  "nothing to export")
    # with a run that has results, the empty one is left out, and said so
    out = cli("runs", "export", "tiny-stopped", "tiny-seed7", "--format", "csv", "--runs-dir", str(recorded),
              env=NO_RUNS_DIR)
    assert out.returncode == 0 and "tiny-seed7" in out.stdout and "tiny-stopped" not in out.stdout
    assert "20261122-0541-e526" in out.stderr and "left out" in out.stderr
    # nothing finished at all
    out = cli("runs", "export", "--runs-dir", str(recorded.parent / "none"), env=NO_RUNS_DIR)
    assert out.returncode == 1 and "no finished runs" in out.stderr


@pytest.mark.parametrize("columns", [80, 200])
def test_presets_list_columns_line_up(columns):
    out = cli("presets", "list", env={"COLUMNS": str(columns)}, check=True).stdout
    names = [p["name"] for p in json.loads(cli("presets", "list", "--json", check=True).stdout)]
    lines = out.splitlines()
    header = lines[0]
    rows = [x for x in lines if not x.startswith(" ") and x.split() and x.split()[0] in names]
    assert len(rows) == len(names)
    for col in ("task", "method"):
        at = header.index(col)
        for row in rows:
            assert row[at - 2:at] == "  " and row[at] != " ", (col, row)
    assert any("langadapt+cotrain" in r for r in rows) and any("translate-train" in r for r in rows)


def test_summary_means_the_same_in_readme_and_help():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "runs export --summary" in x and "#" in x)
    assert "one row per run name" in line, line
    helptext = " ".join(cli("runs", "export", "--help", env={"COLUMNS": "200"}, check=True).stdout.split())
    assert "one row per run name" in re.sub(r"[│|]", " ", helptext).replace("  ", " "), helptext


# --------------------------------------------------------------------------- run --app

def test_run_app_without_a_terminal_starts_the_run_and_falls_back_to_the_line_view(runs_dir, tiny_model):
    from conftest import tiny_sets

    args = ["run", "--app", "--name", "tiny-app"]
    for s in tiny_sets(tiny_model):
        args += ["--set", s]
    out = cli(*args, "--runs-dir", str(runs_dir), env=NO_RUNS_DIR)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    # before the run starts: how long it will take here, naming this machine
    assert "This machine has" in lines[0] and "CPU core" in lines[0] and "GPU" in lines[0], lines[0]
    assert lines[0].startswith("No earlier run of this config here"), lines[0]  # no preset, nothing ran here  # a config of no preset, and nothing ran here before
    rid = next(p.name for p in runs_dir.iterdir() if p.name.startswith("2"))
    assert lines[1].startswith(f"run {rid} ") and "not a terminal" in lines[1], lines[1]
    assert lines[-1] == f"finished: xlu-tui runs show {rid} --runs-dir {runs_dir}", lines[-1]
    shown = json.loads(cli("runs", "show", rid, "--json", "--runs-dir", str(runs_dir), env=NO_RUNS_DIR,
                           check=True).stdout)
    assert shown["state"] == "finished" and shown["name"] == "tiny-app"


@pytest.mark.parametrize("other", ["--detach", "--json"])
def test_run_app_refuses_detach_and_json(runs_dir, other):
    out = cli("run", "--preset", "demo-finetune", "--app", other, runs_dir=runs_dir)
    assert out.returncode == 2 and out.stderr.startswith("error: --app and ") and other in out.stderr
    assert not runs_dir.exists() or not list(runs_dir.glob("2*"))


def test_how_long_names_earlier_runs_and_the_measured_machine():
    from engine.estimate import how_long

    facts = {"cores": 16, "gpus": [{"name": "NVIDIA H200"}]}
    text = how_long("demo", [], facts)
    assert text.startswith("Preset demo was measured only on this project's 2-core CPU machine") and "12 to 18 min" in text
    assert "47 min at worst" in text and "This machine has 16 CPU cores and 1 GPU (NVIDIA H200)" in text, text
    rows = [{"preset": "demo", "state": "finished", "started": "2026-11-22T05:00:00", "ended": "2026-11-22T05:14:10"},
            {"preset": "demo", "state": "finished", "started": "2026-11-22T06:00:00", "ended": "2026-11-22T06:20:00"},
            {"preset": "demo", "state": "failed", "started": "2026-11-22T07:00:00", "ended": "2026-11-22T07:01:00"},
            {"preset": "demo-finetune", "state": "finished", "started": "2026-11-22T08:00:00",
             "ended": "2026-11-22T08:04:00"}]
    text = how_long("demo", rows, {"cores": 2, "gpus": []})
    assert text.startswith("2 earlier demo runs here took 14 min to 20 min.") and "2 CPU cores and no GPU." in text, text
    # no earlier run of the preset, but the model trained here before: its speed, a floor
    text = how_long("demo", [], {"cores": 2, "gpus": []}, speed=(150.0, "at 13 samples/s, as in demo-finetune", 3),
                    lm="e5-small")
    assert text.startswith("Training e5-small here ran at 13 samples/s, as in demo-finetune: one fine-tuning on D "
                           "takes 2 min; this run does 3 rounds of it"), text
    assert how_long(None, [], {"cores": 2, "gpus": []}) == ("No earlier run of this config here to time it by. "
                                                           "This machine has 2 CPU cores and no GPU.")



# --------------------------------------------------------------------------- rm, runs folders, damaged runs

def test_an_empty_xlu_runs_dir_means_the_default(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from xlu_tui.cli import main
    from xlu_tui.commands.common import runs_folder

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XLU_RUNS_DIR", "")
    assert main(["runs", "list", "--json"]) == 0
    assert runs_folder(None) == Path("runs") and json.loads(capsys.readouterr().out) == []
    assert not (tmp_path / ".gitignore").exists()


def test_rm_checks_every_run_before_deleting_any(recorded):
    out = cli("runs", "rm", "a4c9", "nope", "--yes", "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    assert out.returncode == 2 and "run 'nope' does not exist" in out.stderr and out.stdout == ""
    assert (recorded / "20261122-0541-a4c9").is_dir(), "nothing may be deleted when one id is wrong"


def test_rm_of_one_run_named_twice_deletes_it_once(recorded):
    out = cli("runs", "rm", "a4c9", "20261122-0541-a4c9", "tiny-seed7", "--yes", "--runs-dir", str(recorded),
              env=NO_RUNS_DIR)
    assert out.returncode == 0 and out.stdout == "deleted 20261122-0541-a4c9\n", out.stdout + out.stderr
    assert not (recorded / "20261122-0541-a4c9").exists() and (recorded / "20261122-0541-c7dc").is_dir()


def test_rm_of_a_running_run_among_others_deletes_nothing(recorded):
    from engine.store import RunStore

    running = recorded / "20261122-0541-c7dc"
    # a process the store takes for that run's worker (its command line names engine.worker and the folder)
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "engine.worker", str(running)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        RunStore(recorded).write_status(running.name, {"state": "running", "pid": worker.pid})
        assert RunStore(recorded).status(running.name)["state"] == "running"
        out = cli("runs", "rm", "a4c9", "c7dc", "--yes", "--runs-dir", str(recorded), env=NO_RUNS_DIR)
    finally:
        worker.kill()
        worker.wait()
    assert out.returncode == 2 and f"{running.name} is running" in out.stderr and "nothing was deleted" in out.stderr
    assert (recorded / "20261122-0541-a4c9").is_dir() and out.stdout == ""


def test_rm_of_a_run_someone_else_deleted_meanwhile_is_one_sentence(recorded, monkeypatch, capsys):
    from engine.store import RunStore
    from xlu_tui.cli import main

    from engine.store import RunNotFound

    def gone(self, run_id):  # noqa: ANN001 - the store's word for it, or the file system's
        if run_id.endswith("a4c9"):
            raise RunNotFound(f"run {run_id} does not exist in {self.root} (it was just deleted)")
        raise FileNotFoundError(2, "No such file or directory", str(self.root / run_id))

    monkeypatch.setattr(RunStore, "remove", gone)
    assert main(["runs", "rm", "a4c9", "c7dc", "--yes", "--runs-dir", str(recorded)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["run 20261122-0541-a4c9 was already gone (deleted meanwhile by another process)",
                   "run 20261122-0541-c7dc was already gone (deleted meanwhile by another process)"]


def _main(capsys, *args):  # noqa: ANN001, ANN202
    from xlu_tui.cli import main

    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_damaged_runs_in_list_show_resume_and_clone(recorded, capsys, monkeypatch):
    from test_app_support import damage

    monkeypatch.setenv("COLUMNS", "120")
    bad = "20261122-0541-c7dc"
    damage(recorded, bad, "status.json")
    where = ["--runs-dir", str(recorded)]
    rc, out, err = _main(capsys, "runs", "list", *where)
    assert rc == 0, err
    line = next(x for x in out.splitlines() if bad in x)
    assert "damaged" in line and "tiny-seed8" in line, out
    assert all(rid in out for rid in NAMES), "the other runs are listed as ever"
    assert bad in err and "status.json" in err and f"runs show {bad}" in err, err
    rc, out, _ = _main(capsys, "runs", "list", "--state", "damaged", "--json", *where)
    assert rc == 0 and [r["id"] for r in json.loads(out)] == [bad]
    # show: what is wrong and how to recover; --json has the fields
    rc, out, _ = _main(capsys, "runs", "show", bad, *where)
    assert rc == 0
    lines = out.splitlines()
    assert "damaged" in lines[0] and bad in lines[0]
    assert any(x.startswith("what is wrong: ") and "status.json" in x for x in lines), out
    assert any(x.startswith("to recover: ") for x in lines), out
    rc, out, _ = _main(capsys, "runs", "show", bad, "--json", *where)
    shown = json.loads(out)
    assert rc == 0 and shown["state"] == "damaged" and "status.json" in shown["damage"] and shown["recovery"]
    # watch replays its events, then says what is wrong
    rc, out, _ = _main(capsys, "runs", "watch", bad, *where)
    assert out.splitlines()[-1].startswith("damaged: status.json ") and f"runs show {bad}" in out.splitlines()[-1]
    # resume and clone: one sentence, exit 2, no new run
    for verb, word in (("resume", "resumed"), ("clone", "cloned")):
        rc, out, err = _main(capsys, "runs", verb, bad, *where)
        lines = [x for x in err.splitlines() if x.strip()]
        assert rc == 2 and len(lines) == 1 and f"run {bad} cannot be {word}: " in lines[0], err
        assert "status.json" in lines[0]
    assert len(list(recorded.glob("2*"))) == len(NAMES)
