"""What the app's tests share: the recorded runs folder, a fixed clock, a launcher that only
records, a stand-in worker process, and a co-training event stream for load tests.

(No tests here; named test_app_* so it lives with the app's tests.)
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

from engine.events import EventWriter
from engine.store import RunStore

DATA = Path(__file__).resolve().parent / "data" / "runs"


def _data_now() -> float:
    """Ten minutes after the last recorded run ended: a fixed "now" for every test, so times on
    screen do not depend on the day the tests run."""
    ends = []
    for status in DATA.glob("*/status.json"):
        ended = json.loads(status.read_text()).get("ended")
        if ended:
            ends.append(time.mktime(time.strptime(ended[:19], "%Y-%m-%dT%H:%M:%S")))
    return max(ends) + 600 if ends else 1.8e9


NOW = _data_now()


class FakeLauncher:
    """Records what the app asks of a launcher; starts nothing."""

    def __init__(self, store: RunStore | None = None, start_state: str = "queued"):
        self.store = store
        self.calls: list[tuple[str, str, Any]] = []
        self.start_state = start_state

    def start(self, run_id: str, gpus: list[int] | None = None) -> str:
        self.calls.append(("start", run_id, gpus))
        return self.start_state

    def stop(self, run_id: str, kill: bool = False) -> str:
        self.calls.append(("kill" if kill else "stop", run_id, None))
        return "stopped" if kill else "stopping"

    def start_queued(self) -> list[str]:
        return []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def topics_corpus_read() -> None:
    """Read the demo corpus once per session (the engine caches it per process), so the first
    form a test opens does not pay for it while it is being timed or drawn."""
    from engine.config import TaskConfig
    from engine.tasks import get_task

    get_task("topics").load(TaskConfig(target_langs=["it"], max_source=10, max_unlabeled=10, max_test=10), 0)


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the recorded runs; the working directory is its parent, so the app shows
    the relative path `runs` (the same in every snapshot)."""
    shutil.copytree(DATA, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    return Path("runs")


def run_id(runs_dir: Path, name: str) -> str:
    for cfg in sorted(Path(runs_dir).glob("*/config.toml")):
        if tomllib.loads(cfg.read_text()).get("name") == name:
            return cfg.parent.name
    raise KeyError(name)


def app_for(runs_dir: Path, launcher: Any = None, **options: Any):  # noqa: ANN201
    from xlu_tui.app import make_app

    store = RunStore(runs_dir)
    options.setdefault("clock", lambda: NOW)
    options.setdefault("poll_interval", 0.05)
    options.setdefault("list_interval", 0.5)
    return make_app(runs_dir, launcher=launcher or FakeLauncher(store), **options)


async def until(pilot: Any, cond: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Pause the pilot until `cond()` is true (the app's workers run meanwhile)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what or cond}")


@pytest.fixture
def worker_process():
    """Starts a process that `pid_alive` takes for the worker of a run folder (its command line
    names engine.worker and the folder), so a run can be `running` without training anything."""
    procs: list[subprocess.Popen] = []

    def spawn(folder: Path) -> int:
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "engine.worker", str(folder)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        procs.append(p)
        return p.pid

    yield spawn
    for p in procs:
        p.kill()
        p.wait()


def make_running_run(runs_dir: Path, template: str, spawn: Callable[[Path], int], name: str = "live-run",
                     method: str | None = None) -> str:
    """A run folder in state `running`, owned by the process `spawn(folder)` starts (the
    `worker_process` fixture), with the config of a recorded run and no events yet: tests write
    its events."""
    store = RunStore(runs_dir)
    src = store.run_dir(run_id(runs_dir, template))
    text = (src / "config.toml").read_text()
    data = tomllib.loads(text)
    data["name"] = name
    if method:
        data["method"] = {"name": method}
    import tomli_w

    rid = f"{time.strftime('%Y%m%d-%H%M', time.localtime(NOW))}-{zlib.crc32(name.encode()) % 0xFFFF:04x}"
    folder = Path(runs_dir) / rid
    folder.mkdir()
    (folder / "config.toml").write_text(tomli_w.dumps(data))
    pid = spawn(folder)
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(NOW - 95))
    store.write_status(rid, {"state": "running", "pid": pid, "device": "cpu", "created": started,
                             "started": started, "rounds": 3, "round": 1, "phase": "train"})
    return rid


def cotrain_stream(run: str, n: int, langs: tuple[str, ...] = ("it", "de", "es", "ja", "ko", "zh"),
                   t0: float | None = None, steps_per_epoch: int = 40) -> list[dict[str, Any]]:
    """`n` events shaped like a co-training run's (the schema the engine announces): progress of
    lm and emb, metrics per round for both, pools, agreement, logs and checkpoints."""
    t = (t0 if t0 is not None else NOW - 90)
    out: list[dict[str, Any]] = []

    def ev(type: str, **fields: Any) -> None:
        nonlocal t
        t += 0.01
        out.append({"t": round(t, 3), "run": run, "type": type, **fields})

    ev("started", pid=1, host="test")
    ev("data", sizes={"D": 660, "U": 6000, "Dbi": 0, "test": {x: 100 for x in ("en", *langs)}},
       labels=["a", "b"], source="en", targets=list(langs))
    r = 0
    u_lm = u_emb = 6000
    d_lm = d_emb = 660
    while len(out) < n:
        for model in ("lm", "emb"):
            ev("phase", phase="train", model=model, round=r)
            total = steps_per_epoch * 3
            for step in range(1, total + 1):
                ev("progress", model=model, round=r, epoch=(step - 1) // steps_per_epoch, epochs=3, step=step,
                   total=total, losses={"ce": 2.5 / (1 + 0.01 * step + r)}, samples_per_s=400.0 + step,
                   lr=5e-5 * (1 - step / total), eta_s=(total - step) * 0.04)
                if len(out) >= n:
                    return out
            base = 0.5 + 0.04 * r + (0.05 if model == "emb" else 0)
            values = {x: round(min(0.99, base + 0.01 * i), 4) for i, x in enumerate(("en", *langs))}
            ev("metrics", round=r, model=model, split="test", metric="accuracy", values=values,
               mean=round(sum(values[x] for x in langs) / len(langs), 6))
        picked = 300
        u_lm, u_emb, d_lm, d_emb = u_lm - picked, u_emb - picked, d_lm + picked, d_emb + picked
        ev("agreement", round=r, pair=["lm", "emb"], rate=0.7 + 0.02 * r,
           by_lang={x: 0.68 + 0.02 * r + 0.01 * i for i, x in enumerate(langs)}, items=u_lm)
        ev("pools", round=r, U_lm=u_lm, U_emb=u_emb, D_lm=d_lm, D_emb=d_emb, C_lm=900, C_emb=800, S_lm=picked,
           S_emb=picked, precision={"S_lm": 0.8 + 0.01 * r, "S_emb": None})
        ev("log", level="info", message=f"round {r}: {picked} items each way")
        ev("checkpoint", tag=f"round-{r}", path=f"checkpoints/round-{r}", seconds=0.1)
        r += 1
    return out[:n]


def append_events(runs_dir: Path, rid: str, events: list[dict[str, Any]]) -> None:
    """Append events as the worker writes them: whole lines, flushed."""
    path = Path(runs_dir) / rid / "events.jsonl"
    with open(path, "a", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
        f.flush()


def writer_for(runs_dir: Path, rid: str) -> EventWriter:
    return EventWriter(Path(runs_dir) / rid / "events.jsonl", rid, clock=lambda: NOW)


# --------------------------------------------------------------------------- damaged runs

BROKEN = {"status.json": "{not json", "config.toml": "name = [\n", "results.json": "{\"lm\": "}


def damage(runs_dir: Path, rid: str, file: str = "status.json") -> None:
    """Make one file of a run's folder unreadable, as a crash or a bad hand edit leaves it."""
    (Path(runs_dir) / rid / file).write_text(BROKEN[file], encoding="utf-8")


__all__ = [
    "DATA", "NOW", "FakeLauncher", "anyio_backend", "topics_corpus_read", "runs", "run_id", "app_for",
    "until", "worker_process", "make_running_run", "cotrain_stream", "append_events", "writer_for",
    "damage",
]
