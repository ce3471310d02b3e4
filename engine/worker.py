"""`python -m engine.worker RUN_DIR`: the process that trains one run, detached from any UI.

It reads the run's config, resumes from the latest checkpoint if there is one, streams events,
and leaves status.json `finished`, `stopped` (resumable) or `failed` (resumable, with the
error and a hint). Exit code: 0 finished or stopped, 1 failed.
"""
from __future__ import annotations

import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from engine import layout
from engine.errors import ConfigError, WriteFailed
from engine.store import RunStore, now_iso, owner_alive, worker_identity


def error_hint(err: BaseException) -> str:
    """A sentence on what the user can do about an error."""
    hint = getattr(err, "hint", None)
    if hint:
        return hint
    text = str(err)
    if isinstance(err, WriteFailed) or "no space left" in text.lower():
        return "free space on the disk of the runs folder (or fix its permissions), then resume the run"
    if isinstance(err, ConfigError):
        return ("restore the run's config.toml (`xlu-tui runs reindex` rebuilds a damaged one from the event log), "
                "then resume the run")
    if "out of memory" in text.lower():
        return "lower train.batch_size or train.max_length, or use a GPU with more memory; then resume"
    if isinstance(err, MemoryError):
        return "the machine ran out of memory: lower task.max_unlabeled or train.batch_size; then resume"
    return "see worker.log in the run folder for the traceback; fix the cause and resume the run"


def pick_device(cfg: Any) -> Any:
    import torch

    want = cfg.train.device
    if want in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if want == "cuda":
        from engine.models.hf import ModelLoadError

        raise ModelLoadError("train.device is 'cuda' but torch sees no GPU",
                             "set train.device=auto to run on the CPU, or check the CUDA driver and torch build")
    return torch.device("cpu")


def run(run_dir: Path) -> int:
    store = RunStore(run_dir.parent)
    run_id = run_dir.name
    me = worker_identity()

    def free(st: dict[str, Any]) -> bool:  # no other live worker owns the folder
        return not (st.get("state") == "running" and st.get("pid") != me["pid"] and owner_alive(st, run_dir))

    claimed = store.write_status(run_id, {"state": "running", **me, "ended": None, "error": None, "phase": "start"},
                                 expect=free)
    if claimed is None:
        print(f"run {run_id} already has a live worker; this one leaves it alone", file=sys.stderr)
        return 2
    if not claimed.get("started"):
        store.write_status(run_id, {"started": now_iso()})
    events_path = layout.inside(run_dir, layout.EVENTS_FILE)
    resumed = events_path.exists() and events_path.stat().st_size > 0
    try:
        cfg = store.config(run_id)
    except ConfigError as err:  # a config damaged since the run was made: a readable failure
        from engine.events import EventWriter

        with EventWriter(events_path, run_id) as events:
            return _failed(store, run_id, events, err)
    from engine.context import RunContext

    ctx = RunContext(store, run_id, cfg, device=None)
    ctx.install_signal_handlers()
    ctx.emit("resumed" if resumed else "started", pid=os.getpid(), host=socket.gethostname(),
             config=cfg.to_dict())
    try:
        import torch

        from engine.methods import get_method
        from engine.tasks import get_task
        from engine.train import StopRequested

        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        ctx.device = pick_device(cfg)
        ctx.status(device=str(ctx.device) if ctx.device.type == "cpu" else f"cuda:{os.environ.get('CUDA_VISIBLE_DEVICES', '0')}")
        task = get_task(cfg.task.name)
        ctx.metric_name = task.metric
        ctx.phase("load-data", task=task.name)
        data = task.load(cfg.task, cfg.seed)
        ctx.n_labels = len(task.labels())
        if cfg.task.parallel_size and not get_method(cfg.method.name).needs_parallel:
            data.notes.append(f"task.parallel_size is {cfg.task.parallel_size} but method {cfg.method.name} does not "
                              "train on translation pairs: Dbi is drawn (and kept out of U) but not used")
        ctx.emit("data", sizes=data.sizes(), labels=task.labels(), notes=data.notes,
                 source=cfg.task.source_lang, targets=cfg.task.resolved_targets())
        method = get_method(cfg.method.name)(ctx, data)
        try:
            results = method.run()
        except StopRequested:
            store.write_status(run_id, {"state": "stopped", "ended": now_iso(), "phase": "stopped"})
            ctx.emit("stopped", reason="requested", resumable=True)
            return 0
        store.write_results(run_id, results)
        store.write_status(run_id, {"state": "finished", "ended": now_iso(), "phase": "done"})
        ctx.emit("finished", results=results)
        # Nothing resumes a finished run and a clone starts from its config: its checkpoint
        # (weights and optimizer, hundreds of MB) would only take room.
        from engine import checkpoint

        checkpoint.discard(run_dir)
        return 0
    except BaseException as err:  # noqa: BLE001 - every failure must leave a readable, resumable run
        return _failed(store, run_id, ctx.events, err)
    finally:
        ctx.events.close()
        try:
            from engine.launcher import LocalLauncher

            LocalLauncher(store).start_queued()
        except Exception:  # the queue is retried by the next launcher call anyway
            traceback.print_exc()


def _failed(store: RunStore, run_id: str, events: Any, err: BaseException) -> int:
    """Record a failure where the UI reads it: status (error and hint) and a `failed` event."""
    traceback.print_exc()
    # All of a multi-line message (libraries list the alternatives on later lines), on one line.
    message = " ".join(x.strip() for x in str(err).splitlines() if x.strip())[:800] or type(err).__name__
    hint = error_hint(err)
    try:
        store.write_status(run_id, {"state": "failed", "ended": now_iso(),
                                    "error": {"class": type(err).__name__, "message": message, "hint": hint}})
    finally:
        events.emit("failed", error=type(err).__name__, message=message, hint=hint, resumable=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m engine.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(args[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
