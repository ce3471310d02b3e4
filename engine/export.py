"""Results of runs as a table: Markdown, CSV, LaTeX or JSON.

One row per run and model; one column per language, then the mean over target languages.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any

FORMATS = ("md", "csv", "latex", "json")


def result_rows(runs: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """(languages, rows) from `store.show()` dicts of runs that have results."""
    langs: list[str] = []
    rows = []
    for run in runs:
        results = run.get("results") or {}
        for model, values in results.items():
            if not isinstance(values, dict):
                continue
            for lang in values:
                if lang != "mean" and lang not in langs:
                    langs.append(lang)
            rows.append({"run": run["id"], "name": run.get("name", ""), "method": run.get("method", ""),
                         "seed": run.get("seed"), "model": model, "state": run.get("state", ""),
                         "values": values, "mean": values.get("mean")})
    source_first = sorted(langs, key=lambda x: (x != "en", x))
    return source_first, rows


def _fmt(v: Any) -> str:
    return "" if v is None else f"{100 * float(v):.1f}"


def render(runs: list[dict[str, Any]], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format is {fmt!r}; allowed: {', '.join(FORMATS)}")
    langs, rows = result_rows(runs)
    if fmt == "json":
        return json.dumps([{k: v for k, v in r.items()} for r in rows], indent=1) + "\n"
    head = ["run", "name", "method", "seed", "model", *langs, "mean"]
    body = [[r["run"], r["name"], r["method"], str(r["seed"]), r["model"],
             *[_fmt(r["values"].get(x)) for x in langs], _fmt(r["mean"])] for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(head)
        w.writerows(body)
        return out.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n"
    esc = lambda s: s.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")  # noqa: E731
    lines = [r"\begin{tabular}{" + "l" * 5 + "r" * (len(langs) + 1) + "}", r"\toprule",
             " & ".join(esc(h) for h in head) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(c) for c in row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
