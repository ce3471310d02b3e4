"""The real offline demo, end to end (minutes on a CPU): `pytest -m slow`."""
from __future__ import annotations

import json

import pytest

from conftest import cli

pytestmark = pytest.mark.slow


def test_demo_finetune_preset_end_to_end(runs_dir):
    out = cli("run", "--preset", "demo-finetune", runs_dir=runs_dir, timeout=3600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = json.loads(cli("runs", "list", "--json", runs_dir=runs_dir, check=True).stdout)
    shown = json.loads(cli("runs", "show", rows[0]["id"], "--json", runs_dir=runs_dir, check=True).stdout)
    res = shown["results"]["lm"]
    assert set(res) >= {"en", "de", "it", "ja", "ko", "zh", "mean"}
    # chance is 1/|labels| (under 0.1): transfer must be far above it
    assert res["en"] > 0.5 and res["mean"] > 0.3, res
