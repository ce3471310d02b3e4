"""Run folders and the history index: the only code that writes either.

The run folder is the truth (config.toml, status.json, events.jsonl, results.json,
checkpoints/); `history.json` (TinyDB) is an index of it, rebuilt at will by `reindex()`.
Every write is atomic (temp file + rename) and every read-modify-write of shared files holds
an inter-process lock, so the CLI, the app and any number of workers can share a runs folder.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.storages import Storage

from engine.errors import ConfigError

if TYPE_CHECKING:  # the config models cost ~0.15 s to build; the app's Runs screen needs none
    from engine.config import RunConfig

CONFIG_FILE = "config.toml"
STATUS_FILE = "status.json"
RESULTS_FILE = "results.json"
LOG_FILE = "worker.log"
INDEX_FILE = "history.json"

STATES = ("queued", "running", "finished", "failed", "stopped", "interrupted")
ENDED = ("finished", "failed", "stopped", "interrupted")
RESUMABLE = ("failed", "stopped", "interrupted")

_ID_RE = re.compile(r"^\d{8}-\d{4}-[0-9a-f]{4}$")
_TYPED_ID_RE = re.compile(r"^[0-9a-f-]{4,18}$")


class RunNotFound(ConfigError):
    pass


class IndexCorrupt(Exception):
    pass


# --------------------------------------------------------------------------- atomic files

def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new file, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


class AtomicJSONStorage(Storage):
    """TinyDB storage whose writes replace the file atomically and whose reads fail loudly on
    a corrupt file (TinyDB's own JSONStorage truncates in place and would start empty)."""

    def __init__(self, path: str | Path, **_: Any):
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise IndexCorrupt(f"{self.path}: {err}") from None
        if not isinstance(data, dict):
            raise IndexCorrupt(f"{self.path}: not a JSON object")
        return data

    def write(self, data: dict[str, Any]) -> None:
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False))

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- process liveness

def pid_alive(pid: int | None, marker: str = "engine.worker") -> bool:
    """True if `pid` runs and is a worker (guards against a reused pid and zombies)."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.parent.exists() and Path("/proc/self").exists():
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
            return marker in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_run_id(now: float | None = None) -> str:
    return time.strftime("%Y%m%d-%H%M", time.localtime(now)) + "-" + secrets.token_hex(2)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


# --------------------------------------------------------------------------- the store

class RunStore:
    def __init__(self, runs_dir: str | Path):
        self.root = Path(runs_dir).expanduser()

    # ----- paths and ids
    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        gitignore = self.root / ".gitignore"
        if not gitignore.exists():
            atomic_write_text(gitignore, "*\n")

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_FILE

    def run_dir(self, run_id: str) -> Path:
        if not _ID_RE.match(run_id):
            raise RunNotFound(f"run id {run_id!r} is not a run id (like 20261121-2351-ab12)")
        return self.root / run_id

    def run_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if _ID_RE.match(p.name) and (p / CONFIG_FILE).is_file())

    def resolve(self, text: str) -> str:
        """The run a user means: a full id, the end of one (e.g. `ab12`), or a unique name."""
        text = text.strip()
        ids = self.run_ids()
        if _ID_RE.match(text):
            if text in ids:
                return text
            raise RunNotFound(f"run {text!r} does not exist in {self.root}")
        if _TYPED_ID_RE.match(text):
            hits = [i for i in ids if i.endswith(text)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise RunNotFound(f"run {text!r} is ambiguous: it matches {len(hits)} runs "
                                  f"({', '.join(hits)}); type more of the id")
        # names from the index, and from the folder of a run the index does not know yet (copied in)
        names = {r.get("id"): r.get("name") for r in self.index_rows()}
        named = []
        for i in ids:
            if i not in names:
                try:
                    names[i] = self._summary(i)["name"]
                except Exception:  # a folder too broken to summarise has no name
                    names[i] = None
            if names[i] == text:
                named.append(i)
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise RunNotFound(f"run name {text!r} is ambiguous: {len(named)} runs have it "
                              f"({', '.join(sorted(named, reverse=True))}); give one of these ids")
        raise RunNotFound(f"run {text!r} does not exist in {self.root} (give an id, its last 4 characters, or a name)")

    # ----- locks
    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.ensure()
        with FileLock(str(self.root / f".{name}.lock"), timeout=60):
            yield

    # ----- create
    def create(self, cfg: RunConfig, state: str = "queued") -> str:
        self.ensure()
        for _ in range(20):
            run_id = new_run_id()
            folder = self.root / run_id
            try:
                folder.mkdir()
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 65k ids a minute
            raise RuntimeError("could not find a free run id")
        (folder / "checkpoints").mkdir()
        atomic_write_text(folder / CONFIG_FILE, cfg.to_toml())
        self.write_status(run_id, {"state": state, "created": now_iso(), "created_t": time.time(),
                                   "host": socket.gethostname()})
        return run_id

    # ----- config, status, results
    def config(self, run_id: str) -> RunConfig:
        import tomllib

        text = (self.run_dir(run_id) / CONFIG_FILE).read_text(encoding="utf-8")
        from engine.config import validate

        return validate(tomllib.loads(text))

    def config_dict(self, run_id: str) -> dict[str, Any]:
        import tomllib

        return tomllib.loads((self.run_dir(run_id) / CONFIG_FILE).read_text(encoding="utf-8"))

    def raw_status(self, run_id: str) -> dict[str, Any]:
        return read_json(self.run_dir(run_id) / STATUS_FILE, {}) or {}

    def status(self, run_id: str) -> dict[str, Any]:
        """Status with liveness applied: a `running` run whose worker is gone is `interrupted`."""
        st = self.raw_status(run_id)
        if st.get("state") == "running" and not pid_alive(st.get("pid")):
            st["state"] = "interrupted"
        return st

    def write_status(self, run_id: str, changes: dict[str, Any], sync: bool = True) -> dict[str, Any]:
        """Merge `changes` into status.json under the run's lock; then refresh the index."""
        folder = self.run_dir(run_id)
        with FileLock(str(folder / ".status.lock"), timeout=60):
            st = read_json(folder / STATUS_FILE, {}) or {}
            st.update(changes)
            st["updated"] = time.time()
            atomic_write_json(folder / STATUS_FILE, st)
        if sync:
            self.sync_index(run_id)
        return st

    def results(self, run_id: str) -> dict[str, Any] | None:
        return read_json(self.run_dir(run_id) / RESULTS_FILE)

    def write_results(self, run_id: str, results: dict[str, Any]) -> None:
        atomic_write_json(self.run_dir(run_id) / RESULTS_FILE, results)

    # ----- the index
    def _summary(self, run_id: str) -> dict[str, Any]:
        """The index row of a run, built from its folder alone."""
        cfg = self.config_dict(run_id)
        st = self.raw_status(run_id)
        task = cfg.get("task", {})
        res = self.results(run_id) or {}
        return {
            "id": run_id,
            "name": cfg.get("name") or cfg.get("preset") or f"{cfg.get('method', {}).get('name', '?')}-{task.get('name', '?')}",
            "preset": cfg.get("preset", ""),
            "task": task.get("name", ""),
            "method": cfg.get("method", {}).get("name", ""),
            "source": task.get("source_lang", ""),
            "targets": task.get("target_langs", []),
            "seed": cfg.get("seed"),
            "state": st.get("state", "queued"),
            "pid": st.get("pid"),
            "device": st.get("device", ""),
            "created": st.get("created", ""),
            "created_t": st.get("created_t", 0.0),
            "started": st.get("started", ""),
            "ended": st.get("ended", ""),
            "round": st.get("round"),
            "rounds": st.get("rounds"),
            "latest_mean": st.get("latest_mean"),
            "best_mean": st.get("best_mean"),
            "error": st.get("error"),
            "results": res,
        }

    def _db(self) -> TinyDB:
        return TinyDB(self.index_path, storage=AtomicJSONStorage)

    def _with_index(self, fn) -> Any:  # noqa: ANN001
        """Run `fn(table)` on a freshly opened index under the index lock."""
        with self._lock("history"):
            try:
                db = self._db()
                return fn(db.table("runs"))
            except IndexCorrupt:
                self._set_aside_corrupt_index()
                self._rebuild_locked()
                return fn(self._db().table("runs"))

    def _set_aside_corrupt_index(self) -> Path:
        aside = self.index_path.with_name(f"{INDEX_FILE}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(self.index_path, aside)
        self.index_path.unlink()
        return aside

    def sync_index(self, run_id: str) -> None:
        row = self._summary(run_id)
        self._with_index(lambda t: t.upsert(row, Query().id == run_id))

    def drop_index(self, run_id: str) -> None:
        self._with_index(lambda t: t.remove(Query().id == run_id))

    def _rebuild_locked(self) -> int:
        rows = []
        for rid in self.run_ids():
            try:
                rows.append(self._summary(rid))
            except Exception:  # a folder too broken to summarise stays out of the index
                continue
        db = self._db()
        db.drop_table("runs")
        db.table("runs").insert_multiple(rows)
        return len(rows)

    def reindex(self) -> int:
        """Rebuild the index from the run folders; returns the number of runs."""
        with self._lock("history"):
            if self.index_path.exists():
                try:
                    AtomicJSONStorage(self.index_path).read()
                except IndexCorrupt:
                    self._set_aside_corrupt_index()
            return self._rebuild_locked()

    def index_rows(self) -> list[dict[str, Any]]:
        if not self.index_path.exists():
            if not self.run_ids():
                return []
            self.reindex()
        try:
            data = AtomicJSONStorage(self.index_path).read() or {}
        except IndexCorrupt:
            self.reindex()
            data = AtomicJSONStorage(self.index_path).read() or {}
        return list((data.get("runs") or {}).values())

    def index_entry(self, run_id: str) -> dict[str, Any] | None:
        for row in self.index_rows():
            if row.get("id") == run_id:
                return row
        return None

    # ----- what the CLI and app show
    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first, with live state (interrupted where the worker is gone)."""
        rows = {r["id"]: r for r in self.index_rows() if "id" in r}
        for rid in self.run_ids():  # a folder the index does not know yet (e.g. copied in)
            if rid not in rows:
                rows[rid] = self._summary(rid)
        out = []
        for rid, row in rows.items():
            if not (self.root / rid).is_dir():
                continue
            if row.get("state") == "running" and not pid_alive(row.get("pid")):
                row = {**row, "state": "interrupted"}
            out.append(row)
        # ids share a minute's prefix, so the creation time orders runs made in the same minute
        return sorted(out, key=lambda r: (r.get("created_t") or 0.0, r["id"]), reverse=True)

    def show(self, run_id: str) -> dict[str, Any]:
        st = self.status(run_id)
        row = self._summary(run_id)
        row.update(state=st.get("state", "queued"), status=st, config=self.config_dict(run_id),
                   results=self.results(run_id), dir=str(self.run_dir(run_id)))
        return row

    def remove(self, run_id: str) -> None:
        st = self.status(run_id)
        if st.get("state") == "running":
            raise ConfigError(f"run {run_id} is running; stop it first (xlu-tui runs stop {run_id})")
        folder = self.run_dir(run_id)
        # Rename first so a half-deleted folder never looks like a run.
        trash = self.root / f".deleting-{run_id}-{secrets.token_hex(2)}"
        os.replace(folder, trash)
        self.drop_index(run_id)
        shutil.rmtree(trash, ignore_errors=True)
