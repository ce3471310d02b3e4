"""Record the runs folder the app's tests replay: real engine runs with a tiny transformer.

    .venv/bin/python tests/record_runs.py                       # finetune runs (the default)
    .venv/bin/python tests/record_runs.py --method cotrain --method selftrain  # and one run of each

Writes tests/data/runs/: two finished runs that differ only in their seed (to compare), a run
stopped mid-training, and a failed run (models.lm is an empty folder), plus one finished run per
`--method`. Every file is the engine's own output; the script only leaves out what the app does
not read and would bloat the repository: checkpoints/, history.json (rebuilt from the folders),
and the worker log of runs that did not fail (a failed run keeps the end of its traceback).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from conftest import build_tiny_model, tiny_sets  # noqa: E402

OUT = HERE / "data" / "runs"
# A fixed place for the tiny model, so configs (and the snapshots showing them) do not change
# from one recording to the next.
MODEL_DIR = Path(tempfile.gettempdir()) / "xlu-record" / "tiny-bert"
KEEP = ("config.toml", "status.json", "events.jsonl", "results.json")
LOG_LINES = 12


def xlu(runs: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XLU_RUNS_DIR": str(runs), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_VERBOSITY": "error"}
    out = subprocess.run([sys.executable, "-m", "xlu_tui.cli", *args], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    if out.returncode not in (0, 1):
        raise SystemExit(f"xlu-tui {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def start(runs: Path, name: str, sets: list[str]) -> str:
    args = ["run", "--detach", "--json", "--name", name]
    for s in sets:
        args += ["--set", s]
    return json.loads(xlu(runs, *args).stdout)["id"]


def state(runs: Path, rid: str) -> str:
    return json.loads((runs / rid / "status.json").read_text()).get("state", "")


def events(runs: Path, rid: str) -> list[dict]:
    path = runs / rid / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip().endswith("}")]


def wait(pred, what: str, timeout: float = 600) -> None:  # noqa: ANN001
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def ended(runs: Path, rid: str) -> None:
    wait(lambda: state(runs, rid) in ("finished", "failed", "stopped"), f"run {rid} to end")


def method_sets(method: str) -> dict[str, str]:
    """A short run of a pseudo-labelling method that still moves items: few rounds, a threshold
    the tiny model's confidences reach, a pool big enough to draw from."""
    from engine.methods import method_params

    declared = method_params(method).model_fields
    sets = {"method.name": method, "train.epochs": "3", "task.max_unlabeled": "200"}
    if "rounds" in declared:
        sets["method.rounds"] = "3"
    if "threshold" in declared:
        sets["method.threshold"] = "0.2"
    return sets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", action="append", default=[],
                    help="also record one finished run of this method (repeatable), e.g. cotrain")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    if not (MODEL_DIR / "config.json").exists():
        print(f"building the tiny model in {MODEL_DIR}")
        build_tiny_model(MODEL_DIR)
    work = Path(tempfile.mkdtemp(prefix="xlu-record-"))
    runs = work / "runs"
    # Enough steps for curves with a shape, few enough to keep each run under a minute.
    common = {"task.target_langs": "[it,de,es]", "train.epochs": "6", "task.max_source": "480",
              "train.lr": "3e-3"}

    # One at a time: a CPU machine runs one run at once and queues the rest anyway.
    recorded = []
    for seed in ("7", "8"):
        rid = start(runs, f"tiny-seed{seed}", tiny_sets(MODEL_DIR, seed=seed, **common))
        print(f"{rid}: finished run, seed {seed}")
        ended(runs, rid)
        recorded.append(rid)

    rid = start(runs, "tiny-stopped", tiny_sets(MODEL_DIR, **{**common, "train.epochs": "10"}))
    print(f"{rid}: stopped after its second evaluation")
    wait(lambda: sum(e["type"] == "metrics" for e in events(runs, rid)) >= 2, "the second evaluation")
    xlu(runs, "runs", "stop", rid)
    ended(runs, rid)
    recorded.append(rid)

    empty = MODEL_DIR.parent / "empty-model"  # fixed, like MODEL_DIR: its path is in the error
    empty.mkdir(exist_ok=True)
    rid = start(runs, "broken-model", tiny_sets(MODEL_DIR, **{**common, "models.lm": str(empty)}))
    print(f"{rid}: failed (models.lm is an empty folder)")
    ended(runs, rid)
    recorded.append(rid)

    for method in args.method:
        rid = start(runs, f"tiny-{method}", tiny_sets(MODEL_DIR, **{**common, **method_sets(method)}))
        print(f"{rid}: finished run of method {method}")
        ended(runs, rid)
        recorded.append(rid)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    for rid in recorded:
        dst = args.out / rid
        dst.mkdir()
        for name in KEEP:
            if (runs / rid / name).exists():
                shutil.copy2(runs / rid / name, dst / name)
        if state(runs, rid) == "failed":
            lines = (runs / rid / "worker.log").read_text(errors="replace").splitlines()
            (dst / "worker.log").write_text("\n".join(lines[-LOG_LINES:]) + "\n")
        print(f"{rid}: {state(runs, rid)}, {sum(f.stat().st_size for f in dst.iterdir()) // 1024} kB")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
