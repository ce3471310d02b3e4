"""Export: per-run tables and the seed summary split by translated and independent languages."""
from __future__ import annotations

import json

import pytest

from engine.export import render, render_summary, summary_rows


def run(rid: str, name: str, seed: int, lm: dict) -> dict:  # noqa: ANN001
    return {"id": rid, "name": name, "method": "finetune", "seed": seed, "state": "finished",
            "config": {"task": {"name": "topics", "source_lang": "en"}}, "results": {"lm": lm}}


RUNS = [
    run("a", "demo-finetune", 1, {"en": 0.8, "it": 0.6, "fa": 0.3, "mean": 0.45}),
    run("b", "demo-finetune", 2, {"en": 0.9, "it": 0.8, "fa": 0.5, "mean": 0.65}),
]


def test_summary_means_and_sd_over_seeds_split_by_kind_of_language():
    (row,) = summary_rows(RUNS)
    assert row["name"] == "demo-finetune" and row["model"] == "lm" and row["runs"] == 2
    assert row["targets"] == pytest.approx(0.55)  # (0.45 + 0.65) / 2, the source left out
    assert row["translated"] == pytest.approx(0.7)  # it is a translation of the English files
    assert row["independent"] == pytest.approx(0.4)  # fa was written independently
    assert row["translated_sd"] == pytest.approx(0.1414, abs=1e-4)
    md = render_summary(RUNS, "md")
    assert "| demo-finetune | lm | 2 | 55.0 ± 14.1 | 70.0 ± 14.1 | 40.0 ± 14.1 |" in md
    assert json.loads(render_summary(RUNS, "json"))[0]["runs"] == 2


def test_per_run_table_puts_the_source_first_and_scales_to_percent():
    md = render(RUNS, "md").splitlines()
    assert md[0] == "| run | name | method | seed | model | en | fa | it | mean |"
    assert md[2] == "| a | demo-finetune | finetune | 1 | lm | 80.0 | 30.0 | 60.0 | 45.0 |"
    assert render(RUNS, "csv").splitlines()[1] == "a,demo-finetune,finetune,1,lm,80.0,30.0,60.0,45.0"
    latex = render(RUNS, "latex")
    assert latex.startswith("\\begin{tabular}{lllllrrrr}") and "demo-finetune" in latex


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="--format is 'xls'"):
        render(RUNS, "xls")
