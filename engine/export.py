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


class RoundHistory(list):
    """`round_history`'s rounds, with what reading the events skipped (see `engine.events.Events`):
    `damaged` lines dropped, `repaired` events kept without some of their fields."""

    damaged: int = 0
    repaired: int = 0


def round_history(events_path: Any) -> RoundHistory:
    """Per round of a run (`LiveRun.round_history`): the last test metrics of each model, the
    pools by model and the agreement of each pair.

    The events come through `engine.events.read_events`, so their fields have the declared types
    (a damaged line is skipped or loses its damaged fields): nothing here can fail on one."""
    from engine.events import read_events
    from engine.live import LiveRun

    live = LiveRun()
    events = read_events(events_path)[0]
    live.apply_all(events)
    out = RoundHistory(live.round_history())
    out.damaged, out.repaired = events.damaged, events.repaired
    return out


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _target_means(run: dict[str, Any], values: dict[str, Any]) -> dict[str, float | None]:
    """Mean over all, translated and independently written target languages of one result."""
    from engine.tasks import get_task

    task = run.get("config", {}).get("task", {})
    source = task.get("source_lang", "en")
    targets = [x for x in values if x not in ("mean", source)]
    try:
        translated = set(get_task(task.get("name", "")).translated_languages())
    except KeyError:
        translated = set()
    pick = lambda keep: [float(values[x]) for x in targets if keep(x) and values[x] is not None]  # noqa: E731
    return {"targets": _mean(pick(lambda x: True)), "translated": _mean(pick(lambda x: x in translated)),
            "independent": _mean(pick(lambda x: x not in translated))}


def summary_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs grouped by name and model: mean and standard deviation over their seeds."""
    import statistics

    groups: dict[tuple[str, str], list[dict[str, float | None]]] = {}
    for run in runs:
        for model, values in (run.get("results") or {}).items():
            if isinstance(values, dict):
                groups.setdefault((run.get("name", ""), model), []).append(_target_means(run, values))
    rows = []
    for (name, model), items in groups.items():
        row: dict[str, Any] = {"name": name, "model": model, "runs": len(items)}
        for key in ("targets", "translated", "independent"):
            xs = [m[key] for m in items if m[key] is not None]
            row[key] = _mean(xs)
            row[f"{key}_sd"] = statistics.stdev(xs) if len(xs) > 1 else None
        rows.append(row)
    return rows


def render_summary(runs: list[dict[str, Any]], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format is {fmt!r}; allowed: {', '.join(FORMATS)}")
    rows = summary_rows(runs)
    if fmt == "json":
        return json.dumps(rows, indent=1) + "\n"
    cell = lambda r, k: "" if r[k] is None else (_fmt(r[k]) + ("" if r[f"{k}_sd"] is None else f" ± {_fmt(r[f'{k}_sd'])}"))  # noqa: E731
    head = ["name", "model", "runs", "targets", "translated", "independent"]
    body = [[r["name"], r["model"], str(r["runs"]), cell(r, "targets"), cell(r, "translated"), cell(r, "independent")]
            for r in rows]
    return _table(head, body, fmt, numeric=3)


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
    return _table(head, body, fmt, numeric=len(langs) + 1)


def _table(head: list[str], body: list[list[str]], fmt: str, numeric: int) -> str:
    """Markdown, CSV or LaTeX; the last `numeric` columns are right-aligned numbers."""
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(head)
        w.writerows(body)
        return out.getvalue()
    if fmt == "md":
        align = ["---"] * (len(head) - numeric) + ["--:"] * numeric
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n"
    esc = lambda s: s.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")  # noqa: E731
    lines = [r"\begin{tabular}{" + "l" * (len(head) - numeric) + "r" * numeric + "}", r"\toprule",
             " & ".join(esc(h) for h in head) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(c) for c in row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
