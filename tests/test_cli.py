"""The headless CLI as a user types it: exit codes, one-sentence errors, no training stack for --help."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, cli


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
])
def test_bad_input_exits_2_with_one_sentence(args, words, runs_dir):
    out = cli(*args, runs_dir=runs_dir)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for w in words:
        assert w in lines[0]
    assert not list(runs_dir.glob("2*")), "a bad input must not leave a run behind"


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
