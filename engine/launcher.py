"""Starting, queueing and stopping runs on this machine.

`LocalLauncher` starts `python -m engine.worker RUN_DIR` in a session of its own, so the run
outlives the CLI or app that started it. GPUs are found through NVML (no torch import); a run
waits `queued` while every GPU is busy (or, without GPUs, while XLU_MAX_CPU_RUNS runs use the
CPU) and a worker that ends starts the oldest queued run that fits.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol

from engine import layout
from engine.config import ConfigError
from engine.events import EventWriter
from engine.store import RESUMABLE, RunStore, boot_id, now_iso, pid_alive

_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_children: list[subprocess.Popen] = []  # reaped now and then, so ended workers leave no zombies


class Launcher(Protocol):
    def start(self, run_id: str, gpus: list[int] | None = None) -> str: ...
    def stop(self, run_id: str, kill: bool = False) -> str: ...
    def start_queued(self) -> list[str]: ...


def gpu_inventory() -> list[dict[str, Any]]:
    """The GPUs NVML sees, with memory use and whether any process computes on them."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver: a CPU machine
        return []
    gpus = []
    try:
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            try:
                procs = len(pynvml.nvmlDeviceGetComputeRunningProcesses(h))
            except Exception:
                procs = 0
            name = pynvml.nvmlDeviceGetName(h)
            gpus.append({"index": i, "name": name.decode() if isinstance(name, bytes) else name,
                         "memory_total": int(mem.total), "memory_used": int(mem.used), "processes": procs})
    finally:
        pynvml.nvmlShutdown()
    return gpus


def parse_gpus(text: str | None) -> list[int] | None:
    """`--gpus`: None (pick), `cpu` (no GPU) -> [], or `0,2` -> [0, 2]."""
    if text is None or text.strip() == "":
        return None
    if text.strip().lower() in ("cpu", "none"):
        return []
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--gpus is {text!r}; give GPU indices like 0 or 0,1, or cpu") from None
    if any(x < 0 for x in out):
        raise ConfigError(f"--gpus is {text!r}; GPU indices are 0 or more")
    # Checked before a run exists: a run made for a GPU this machine lacks would train on the CPU later.
    known = {g["index"] for g in gpu_inventory()}
    missing = [g for g in out if g not in known]
    if missing:
        raise ConfigError(f"--gpus asks for GPU {missing[0]}; this machine has "
                          + (f"GPU {', '.join(map(str, sorted(known)))}" if known else "no GPU (use --gpus cpu)"))
    return out


def max_cpu_runs() -> int:
    try:
        return max(1, int(os.environ.get("XLU_MAX_CPU_RUNS", "1")))
    except ValueError:
        return 1


class LocalLauncher:
    def __init__(self, store: RunStore):
        self.store = store

    def _reap(self) -> None:
        _children[:] = [p for p in _children if p.poll() is None]

    def _running(self) -> list[dict[str, Any]]:
        """Status of every run whose worker is alive."""
        return [self.store.raw_status(r["id"]) for r in self.store.list_runs() if r.get("state") == "running"]

    def _pick(self, wanted: list[int] | None) -> list[int] | None:
        """The GPUs to give the run ([] = CPU), or None when it must wait."""
        running = self._running()
        held = {g for st in running for g in (st.get("gpus") or [])}
        inventory = gpu_inventory()
        if wanted == [] or (wanted is None and not inventory):
            cpu_runs = [st for st in running if not st.get("gpus")]
            return [] if len(cpu_runs) < max_cpu_runs() else None
        known = {g["index"] for g in inventory}
        if wanted:
            missing = [g for g in wanted if g not in known]
            if missing:
                raise ConfigError(f"--gpus asks for GPU {missing[0]}; this machine has "
                                  f"{', '.join(map(str, sorted(known))) or 'no GPU (use --gpus cpu)'}")
            busy = [g for g in wanted if g in held]
            return None if busy else wanted
        free = [g["index"] for g in inventory if g["index"] not in held and g["processes"] == 0]
        return free[:1] or None

    def start(self, run_id: str, gpus: list[int] | None = None) -> str:
        """Start the run now if a device is free, else queue it. Returns the new state."""
        self._reap()
        with self.store._lock("launch"):
            return self._start_locked(run_id, gpus)

    def _start_locked(self, run_id: str, gpus: list[int] | None) -> str:
        # Checked under the launch lock: whoever started the run a moment ago holds it no more,
        # and a run is started once however many callers race for it.
        st = self.store.status(run_id)
        state = st.get("state")
        if state == "running":
            return "running"
        if state == "damaged":
            raise ConfigError(f"run {run_id} is damaged: {st.get('damage')}")
        if state not in ("queued", *RESUMABLE):
            raise ConfigError(f"run {run_id} is {state}; only queued, {', '.join(RESUMABLE)} runs can start")
        picked = self._pick(gpus)
        if picked is None:
            self.store.write_status(run_id, {"state": "queued", "requested_gpus": gpus, "queued_at": now_iso()})
            return "queued"
        self._spawn(run_id, picked)
        return "running"

    def _spawn(self, run_id: str, gpus: list[int]) -> None:
        folder = self.store.run_dir(run_id).resolve()
        env = dict(os.environ)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus))  # "" hides every GPU: a CPU run
        env["PYTHONPATH"] = os.pathsep.join(x for x in (_PROJECT_ROOT, env.get("PYTHONPATH", "")) if x)
        env.setdefault("PYTHONUNBUFFERED", "1")
        with open(layout.inside(folder, layout.LOG_FILE), "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "engine.worker", str(folder)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True, close_fds=True, cwd=_PROJECT_ROOT)
        _children.append(proc)
        self.store.write_status(run_id, {"state": "running", "pid": proc.pid, "host": socket.gethostname(),
                                         "boot_id": boot_id(), "gpus": gpus,
                                         "device": ("cuda:" + ",".join(map(str, gpus))) if gpus else "cpu",
                                         "launched": now_iso(), "error": None})

    def start_queued(self) -> list[str]:
        """Start queued runs, oldest first, while devices are free. The whole pass holds the
        launch lock, so two callers (two workers ending together) never start one run twice."""
        self._reap()
        started = []
        with self.store._lock("launch"):
            for row in reversed(self.store.list_runs()):  # oldest first
                if row.get("state") != "queued":
                    continue
                wanted = self.store.raw_status(row["id"]).get("requested_gpus")
                try:
                    if self._start_locked(row["id"], wanted) == "running":
                        started.append(row["id"])
                    else:
                        break
                except ConfigError:
                    continue
        return started

    def stop(self, run_id: str, kill: bool = False) -> str:
        """Ask the worker to stop after its current step (SIGTERM), or kill it at once."""
        self._reap()
        with self.store._lock("launch"):  # a queued run is stopped, or started, never both
            st = self.store.status(run_id)
            state = st.get("state")
            if state == "queued":
                self.store.write_status(run_id, {"state": "stopped", "ended": now_iso()})
                return "stopped"
        if state != "running":
            raise ConfigError(f"run {run_id} is {state}, not running; nothing to stop")
        if st.get("host") and st["host"] != socket.gethostname():
            raise ConfigError(f"run {run_id} runs on host {st['host']}, not this one ({socket.gethostname()}); "
                              "stop it there")
        pid = st["pid"]
        if not kill:
            os.kill(pid, signal.SIGTERM)
            return "stopping"
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        folder = self.store.run_dir(run_id)
        for _ in range(50):
            self._reap()
            if not pid_alive(pid, folder):
                break
            time.sleep(0.05)
        self.store.write_status(run_id, {"state": "stopped", "ended": now_iso(), "killed": True})
        with EventWriter(layout.inside(folder, layout.EVENTS_FILE), run_id) as ev:
            ev.emit("stopped", reason="killed", resumable=True)
        self.start_queued()
        return "stopped"
