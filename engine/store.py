"""Run folders and the history index: the only code that writes either.

The run folder is the truth (config.toml, status.json, events.jsonl, results.json,
checkpoints/); `history.json` (TinyDB) is an index of it, rebuilt at will by `reindex()`.
Every write is atomic (temp file + rename, synced) and every read-modify-write of shared files
holds an inter-process lock, so the CLI, the app and any number of workers can share a runs
folder. Reading is defensive here and nowhere else: a run folder whose files are damaged reads
as a run in state `damaged` with a sentence saying which file and why, and never breaks the
listing of the others.
"""
from __future__ import annotations

import copy
import errno
import json
import math
import os
import re
import secrets
import shutil
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.storages import Storage

from engine.errors import ConfigError, WriteFailed
from engine.layout import (CHECKPOINTS_DIR, CONFIG_FILE, EVENTS_FILE, LOG_FILE, RESULTS_FILE,  # noqa: F401
                           STATUS_FILE, OutsideRunFolder, has_checkpoint, inside)

if TYPE_CHECKING:  # the config models cost ~0.15 s to build; the app's Runs screen needs none
    from engine.config import RunConfig

INDEX_FILE = "history.json"

STATES = ("queued", "running", "finished", "failed", "stopped", "interrupted", "damaged")
RESUMABLE = ("failed", "stopped", "interrupted")
_WRITTEN_STATES = ("queued", "running", "finished", "failed", "stopped")  # what status.json may hold

_ID_RE = re.compile(r"^\d{8}-\d{4}-[0-9a-f]{4}$")
_TYPED_ID_RE = re.compile(r"^[0-9a-f-]{4,18}$")


class RunNotFound(ConfigError):
    pass


class RunDamaged(ConfigError):
    """The run's folder cannot be read as a run: `str(err)` says which file and why."""


class IndexCorrupt(Exception):
    pass


# --------------------------------------------------------------------------- atomic files

def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power cut (a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_failed(path: Path, err: OSError) -> WriteFailed:
    """One sentence for a write the machine refused (disk full, read-only, permissions)."""
    if isinstance(err, WriteFailed):
        return err
    why = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
           errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
           errno.EPERM: "permission denied"}.get(err.errno, err.strerror or type(err).__name__)
    return WriteFailed(f"could not write {path}: {why}; nothing already written was changed", path=path, why=why)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new file, never a part; a failed
    write (disk full) leaves the old file and no temporary file behind."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise write_failed(path, err) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


class AtomicJSONStorage(Storage):
    """TinyDB storage whose writes replace the file atomically and whose reads fail loudly on
    a corrupt or wrong-shaped file (TinyDB's own JSONStorage truncates in place and would start
    empty)."""

    def __init__(self, path: str | Path, **_: Any):
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (IsADirectoryError, UnicodeDecodeError) as err:
            raise IndexCorrupt(f"{self.path}: {err}") from None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise IndexCorrupt(f"{self.path}: {err}") from None
        tables = data if isinstance(data, dict) else None
        if tables is None or not all(isinstance(t, dict) and all(isinstance(r, dict) for r in t.values())
                                     for t in tables.values()):
            raise IndexCorrupt(f"{self.path}: not an index of runs")
        return data

    def write(self, data: dict[str, Any]) -> None:
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False))

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- process liveness

def boot_id() -> str | None:
    """This boot of this machine (pids start over after a reboot)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def worker_identity() -> dict[str, Any]:
    """What status.json records of the process that owns a run, so only that process counts."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "boot_id": boot_id()}


def _cmdline(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):  # a zombie has ended
            return None
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def pid_alive(pid: Any, run_dir: Path | None = None, marker: str = "engine.worker") -> bool:
    """True if `pid` is a live worker, and, given `run_dir`, the worker of that run folder (a
    reused pid, or another run's worker, is not)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if Path("/proc/self/cmdline").exists():
        args = _cmdline(pid)
        if args is None or not any(marker in a for a in args):
            return False
        if run_dir is None:
            return True
        want = os.path.realpath(run_dir)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = "/"
        return any(os.path.realpath(os.path.join(cwd, a)) == want for a in args[1:])
    try:  # no /proc (macOS): the pid is all there is to check
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_alive(status: dict[str, Any], run_dir: Path) -> bool:
    """Is the process status.json names as the run's worker still running it? A worker on
    another host cannot be seen from here and counts as alive; one from before a reboot as dead."""
    host = status.get("host")
    if host and host != socket.gethostname():
        return True
    recorded_boot, this_boot = status.get("boot_id"), boot_id()
    if recorded_boot and this_boot and recorded_boot != this_boot:
        return False
    return pid_alive(status.get("pid"), run_dir)


def new_run_id(now: float | None = None) -> str:
    return time.strftime("%Y%m%d-%H%M", time.localtime(now)) + "-" + secrets.token_hex(2)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


# --------------------------------------------------------------------------- reading a run folder

_NUMBER = (int, float)
# Fields of status.json that listings and the launcher read, and the types they must have.
_STATUS_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "pid": ((int,), "a whole number"), "created_t": (_NUMBER, "a number"), "round": ((int,), "a whole number"),
    "rounds": ((int,), "a whole number"), "latest_mean": (_NUMBER, "a number"), "best_mean": (_NUMBER, "a number"),
    "host": ((str,), "a string"), "device": ((str,), "a string"), "created": ((str,), "a string"),
    "started": ((str,), "a string"), "ended": ((str,), "a string"), "error": ((dict,), "an object"),
    "gpus": ((list,), "a list"), "requested_gpus": ((list,), "a list"), "boot_id": ((str,), "a string"),
}
_CONFIG_SECTIONS = ("task", "models", "train", "method")


def _read_text(name: str, path: Path) -> tuple[str | None, str | None]:
    """(text, None) for a readable text file, else (None, the sentence why)."""
    try:
        return path.read_bytes().decode("utf-8"), None
    except FileNotFoundError:
        return None, f"{name} is missing"
    except IsADirectoryError:
        return None, f"{name} is a folder, not a file"
    except UnicodeDecodeError:
        return None, f"{name} is not text (binary data)"
    except OSError as err:
        return None, f"{name} cannot be read ({err.strerror})"


def _json_problem(name: str, path: Path, want: str = "an object") -> tuple[Any, str | None]:
    """(data, None) for a readable JSON file holding `want`, else (None, the sentence why)."""
    text, problem = _read_text(name, path)
    if problem:
        return None, problem
    if not text.strip():
        return None, f"{name} is empty"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return None, f"{name} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(data), "a number")
        return None, f"{name} holds {kind}, not {want}"
    return data, None


def _status_problem(st: dict[str, Any]) -> str | None:
    state = st.get("state")
    if state is None:
        return f"{STATUS_FILE} has no state"
    if state not in _WRITTEN_STATES:
        return f"{STATUS_FILE} has state {state!r}; a run is one of {', '.join(_WRITTEN_STATES)}"
    for key, (types, what) in _STATUS_TYPES.items():
        value = st.get(key)
        bad_number = isinstance(value, float) and not math.isfinite(value)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool) or bad_number):
            return f"{STATUS_FILE} has {key} = {json.dumps(value)[:40]}; it must be {what}"
    return None


def _config_problem(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    import tomllib

    text, problem = _read_text(CONFIG_FILE, path)
    if problem:
        return None, problem
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return None, f"{CONFIG_FILE} is not valid TOML ({err})"
    for section in _CONFIG_SECTIONS:  # a run's config is written whole: every section is there
        if section not in data:
            return None, f"{CONFIG_FILE} has no [{section}] table"
        if not isinstance(data[section], dict):
            return None, f"{CONFIG_FILE} has {section} = {data[section]!r}; it must be a [{section}] table"
    for key in ("name", "preset"):
        if not isinstance(data.get(key, ""), str):
            return None, f"{CONFIG_FILE} has {key} = {data[key]!r}; it must be a string"
    langs = data.get("task", {}).get("target_langs", [])
    if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
        return None, f"{CONFIG_FILE} has task.target_langs = {langs!r}; it must be a list of language codes"
    return data, None


def _results_problem(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    if not path.exists():
        return None, None  # a run without results yet
    data, problem = _json_problem(RESULTS_FILE, path)
    if problem:
        return None, problem
    for model, values in data.items():
        if not isinstance(values, dict):
            return None, f"{RESULTS_FILE} has {model} = {json.dumps(values)[:40]}; it must map languages to values"
        for lang, v in values.items():
            if v is not None and (not isinstance(v, _NUMBER) or isinstance(v, bool)):
                return None, f"{RESULTS_FILE} has {model}.{lang} = {json.dumps(v)[:40]}; it must be a number"
    return data, None


@dataclass
class RunFiles:
    """What a run folder's files say, read once and checked: `damage` is None for a sound run."""

    run_id: str
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    damage: str | None = None


def read_run(folder: Path) -> RunFiles:
    """The one place that reads a run folder's config, status and results."""
    files = RunFiles(folder.name)
    problems = []
    try:
        for name in (CONFIG_FILE, STATUS_FILE, RESULTS_FILE, EVENTS_FILE, LOG_FILE, CHECKPOINTS_DIR):
            inside(folder, name)
    except OutsideRunFolder as err:
        files.damage = str(err)
        return files
    config, problem = _config_problem(folder / CONFIG_FILE)
    files.config = config or {}
    problems.append(problem)
    status, problem = _json_problem(STATUS_FILE, folder / STATUS_FILE)
    problem = problem or _status_problem(status)
    files.status = status if not problem else {}
    problems.append(problem)
    files.results, problem = _results_problem(folder / RESULTS_FILE)
    problems.append(problem)
    found = [p for p in problems if p]
    if found:
        files.damage = "; ".join(found)
    return files


def recovery_hint(run_id: str, damage: str) -> str:
    """What to do about a damaged run, in the user's words (`repair()` is what reindex does)."""
    delete = f"or delete the run: `xlu-tui runs rm {run_id}`"
    if "symbolic link" in damage or "leads out" in damage:
        return f"replace the link by a file of the run's own, {delete}"
    rebuilt = [name for name in (STATUS_FILE, CONFIG_FILE, RESULTS_FILE) if name in damage]
    if not rebuilt:
        return delete
    return (f"`xlu-tui runs reindex` rebuilds {' and '.join(rebuilt)} from the run's event log and keeps the "
            f"damaged file aside (a config.toml only if the run ever started; else restore it by hand), {delete}")


# --------------------------------------------------------------------------- the store

class RunStore:
    def __init__(self, runs_dir: str | Path):
        # Absolute: workers start in the project folder, where a relative path points elsewhere.
        self.root = Path(os.path.abspath(Path(runs_dir).expanduser()))
        # run id -> (stamps of its files, what they said): the app lists every second, and most
        # folders have not changed since the last time
        self._read_cache: dict[str, tuple[tuple, RunFiles]] = {}
        self._index_checked = False

    # ----- paths and ids
    def ensure(self) -> None:
        """Make the runs folder (with a .gitignore, when we are the ones who made it), or say in
        one sentence why it cannot be used."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"runs folder {self.root} is a file, not a folder; give --runs-dir (or XLU_RUNS_DIR) "
                              "a folder")
        made = not self.root.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConfigError(f"runs folder {self.root} cannot be made: a part of its path is a file") from None
        except OSError as err:
            raise ConfigError(f"runs folder {self.root} cannot be made: {write_failed(self.root, err).why}") from None
        if not os.access(self.root, os.W_OK) or _read_only(self.root):
            raise ConfigError(f"runs folder {self.root} is not writable (read-only file system or no permission); "
                              "give --runs-dir a folder you can write to")
        if made:
            try:
                atomic_write_text(self.root / ".gitignore", "*\n")
            except WriteFailed as err:
                raise ConfigError(f"runs folder {self.root} is not usable: {err.why}") from None

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_FILE

    def run_dir(self, run_id: str) -> Path:
        if not _ID_RE.match(run_id):
            raise RunNotFound(f"run id {run_id!r} is not a run id (like 20261121-2351-ab12)")
        return self.root / run_id

    def run_ids(self) -> list[str]:
        """Every run folder: complete ones, and damaged ones (a run folder appears whole, by a
        rename, so one with a missing file is damaged, not half-made)."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"runs folder {self.root} is a file, not a folder; give --runs-dir (or XLU_RUNS_DIR) "
                              "a folder")
        try:
            return sorted(p.name for p in self.root.iterdir() if _ID_RE.match(p.name) and p.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            return []

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
        named = [r["id"] for r in self.list_runs() if r.get("name") == text]
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
        """A new run folder, made whole under a hidden name and renamed into place: a failure
        (disk full) leaves nothing, and no reader ever sees a run without its status."""
        self.ensure()
        staging = self.root / f".creating-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            (staging / CHECKPOINTS_DIR).mkdir()
            now = time.time()
            atomic_write_json(staging / STATUS_FILE, {"state": state, "created": now_iso(), "created_t": now,
                                                      "host": socket.gethostname(), "updated": now})
            atomic_write_text(staging / CONFIG_FILE, cfg.to_toml())
            fsync_dir(staging)
            for _ in range(20):
                run_id = new_run_id()
                try:
                    # a taken id is a folder with files in it, which rename() refuses to replace
                    os.rename(staging, self.root / run_id)
                    break
                except OSError as err:
                    if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
            else:  # pragma: no cover - 65k ids a minute
                raise RuntimeError("could not find a free run id")
            fsync_dir(self.root)
        except BaseException as err:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(err, OSError):
                why = write_failed(staging, err).why
                raise WriteFailed(f"could not create a run in {self.root}: {why}; nothing already written was "
                                  "changed", path=self.root, why=why) from err
            raise
        self.sync_index(run_id)
        return run_id

    # ----- the files of a run
    def events_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / EVENTS_FILE

    def has_checkpoint(self, run_id: str) -> bool:
        """Would a resume continue from a checkpoint (else it starts over)?"""
        return has_checkpoint(self.run_dir(run_id))

    # ----- config, status, results
    def _read(self, run_id: str) -> RunFiles:
        """read_run(), skipped when no file of the folder changed since the last read."""
        folder = self.root / run_id
        stamps = tuple(_stamp(folder / name) for name in (CONFIG_FILE, STATUS_FILE, RESULTS_FILE))
        hit = self._read_cache.get(run_id)
        if hit is not None and hit[0] == stamps:
            return hit[1]
        files = read_run(folder)
        self._read_cache[run_id] = (stamps, files)
        return files

    def files(self, run_id: str) -> RunFiles:
        """What the run's files say (a copy: callers may change it)."""
        return copy.deepcopy(self._read(self.run_dir(run_id).name))

    def config(self, run_id: str) -> RunConfig:
        """The run's validated config; a damaged or invalid config.toml is one sentence."""
        from engine.config import validate

        files = self.files(run_id)
        if CONFIG_FILE in (files.damage or ""):
            raise RunDamaged(f"run {run_id} is damaged: {files.damage}")
        try:
            return validate(files.config)
        except ConfigError as err:
            raise RunDamaged(f"run {run_id}'s {CONFIG_FILE} is not a valid config: {err}") from None

    def config_dict(self, run_id: str) -> dict[str, Any]:
        return self.files(run_id).config

    def raw_status(self, run_id: str) -> dict[str, Any]:
        return self.files(run_id).status

    def status(self, run_id: str) -> dict[str, Any]:
        """Status with liveness applied: a `running` run whose worker is gone is `interrupted`;
        a run whose files do not read is `damaged`, with `damage` saying why."""
        return self._live_status(self.files(run_id))

    def _live_status(self, files: RunFiles) -> dict[str, Any]:
        st = dict(files.status)
        if files.damage:
            return {**st, "state": "damaged", "damage": files.damage}
        if st.get("state") == "running" and not owner_alive(st, self.root / files.run_id):
            st["state"] = "interrupted"
        return st

    def write_status(self, run_id: str, changes: dict[str, Any], sync: bool = True,
                     expect: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """Merge `changes` into status.json under the run's lock; then refresh the index.
        A damaged status.json is replaced by the merge (the run's next write repairs it).
        With `expect`, the write happens only if `expect(current status)` holds (else None)."""
        folder = self.run_dir(run_id)
        if not folder.is_dir():
            raise RunNotFound(f"run {run_id} does not exist in {self.root} (it may have been deleted)")
        with FileLock(str(folder / ".status.lock"), timeout=60):
            path = inside(folder, STATUS_FILE)
            st, problem = _json_problem(STATUS_FILE, path)
            st = st if not problem else {}
            if expect is not None and not expect(st):
                return None  # type: ignore[return-value]
            st.update(changes)
            st["updated"] = time.time()
            atomic_write_json(path, st)
        if sync and (changes.keys() & _INDEXED_STATUS):
            self.sync_index(run_id)
        return st

    def results(self, run_id: str) -> dict[str, Any] | None:
        return self.files(run_id).results

    def write_results(self, run_id: str, results: dict[str, Any]) -> None:
        atomic_write_json(inside(self.run_dir(run_id), RESULTS_FILE), results)

    # ----- the index
    def _summary(self, files: RunFiles) -> dict[str, Any]:
        """The index row of a run, built from its folder alone."""
        cfg, st, res = files.config, files.status, files.results or {}
        task = cfg.get("task", {})
        method = cfg.get("method", {})
        row = {
            "id": files.run_id,
            "name": cfg.get("name") or cfg.get("preset") or (f"{method.get('name', '?')}-{task.get('name', '?')}"
                                                             if cfg else ""),
            "preset": cfg.get("preset", ""),
            "task": task.get("name", ""),
            "method": method.get("name", ""),
            "source": task.get("source_lang", ""),
            "targets": task.get("target_langs", []),
            "seed": cfg.get("seed"),
            "results": res,
        }
        row.update({key: st.get(key, default) for key, default in _STATUS_ROW.items()})
        row["state"] = st.get("state", "queued")
        if files.damage:
            row.update(state="damaged", damage=files.damage)
        return row

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
        os.replace(self.index_path, aside)  # a file or a folder: either moves aside whole
        return aside

    def sync_index(self, run_id: str) -> None:
        # The row is built under the index lock: built before it, a slower writer could put an
        # older status over a newer one.
        def upsert(table: Any) -> None:
            folder = self.root / run_id
            if folder.is_dir():
                table.upsert(self._summary(read_run(folder)), Query().id == run_id)
            else:
                table.remove(Query().id == run_id)

        self._with_index(upsert)

    def drop_index(self, run_id: str) -> None:
        self._with_index(lambda t: t.remove(Query().id == run_id))

    def _rebuild_locked(self) -> int:
        rows = [self._summary(read_run(self.root / rid)) for rid in self.run_ids()]
        db = self._db()
        db.drop_table("runs")
        db.table("runs").insert_multiple(rows)
        return len(rows)

    def reindex(self) -> int:
        """Rebuild the index from the run folders (a damaged index is kept aside); returns the
        number of runs."""
        with self._lock("history"):
            if self.index_path.exists() or self.index_path.is_symlink():
                try:
                    AtomicJSONStorage(self.index_path).read()
                except IndexCorrupt:
                    self._set_aside_corrupt_index()
            return self._rebuild_locked()

    def repair(self, run_id: str) -> list[str]:
        """Rebuild what the run's event log can tell of its damaged files: config.toml from the
        config its worker announced, status.json from its last events, results.json from its
        `finished` event. Each damaged file is kept aside as `<name>.damaged-<time>`. Returns a
        sentence per file repaired; what cannot be rebuilt stays damaged."""
        from engine.events import read_events

        folder = self.run_dir(run_id)
        files = read_run(folder)
        if not files.damage or "symbolic link" in files.damage or "leads out" in files.damage:
            return []
        try:
            events = read_events(inside(folder, EVENTS_FILE))[0]
        except OutsideRunFolder:
            events = []
        done = []
        stamp = time.strftime("%Y%m%d-%H%M%S")

        def set_aside(name: str) -> None:
            if (folder / name).exists():
                os.replace(folder / name, folder / f"{name}.damaged-{stamp}")

        if CONFIG_FILE in files.damage:
            announced = [e["config"] for e in events if e.get("type") in ("started", "resumed")
                         and isinstance(e.get("config"), dict)]
            if announced:
                from engine.config import validate

                try:
                    text = validate(announced[-1]).to_toml()
                except ConfigError:
                    text = None
                if text is not None:
                    set_aside(CONFIG_FILE)
                    atomic_write_text(folder / CONFIG_FILE, text)
                    done.append(f"{CONFIG_FILE} rebuilt from the config its worker announced")
        if STATUS_FILE in files.damage:
            set_aside(STATUS_FILE)
            atomic_write_json(folder / STATUS_FILE, _status_from_events(events, folder))
            done.append(f"{STATUS_FILE} rebuilt from the event log")
        if RESULTS_FILE in files.damage:
            set_aside(RESULTS_FILE)
            finished = [e["results"] for e in events if e.get("type") == "finished" and isinstance(e.get("results"), dict)]
            if finished:
                atomic_write_json(folder / RESULTS_FILE, finished[-1])
                done.append(f"{RESULTS_FILE} rebuilt from the finished event")
            else:
                done.append(f"{RESULTS_FILE} set aside (the run had not finished)")
        if done:
            self.sync_index(run_id)
        return done

    def index_rows(self) -> list[dict[str, Any]]:
        """The index as it is on disk (rebuilt first when it is missing or damaged)."""
        try:
            data = AtomicJSONStorage(self.index_path).read()
        except IndexCorrupt:
            data = None
            if self._writable():
                self.reindex()
                return self.index_rows()
        if data is None and self.run_ids() and self._writable():
            self.reindex()
            data = AtomicJSONStorage(self.index_path).read()
        return [r for r in (data or {}).get("runs", {}).values() if isinstance(r.get("id"), str)]

    def index_entry(self, run_id: str) -> dict[str, Any] | None:
        for row in self.index_rows():
            if row.get("id") == run_id:
                return row
        return None

    def _writable(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK) and not _read_only(self.root)

    # ----- what the CLI and app show
    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first, with live state (interrupted where the worker is gone,
        damaged where a file does not read). Read from the folders: the index may lag them.
        The first listing of a store also heals a missing or damaged index."""
        ids = self.run_ids()
        if not self._index_checked:
            self._index_checked = True
            self.index_rows()
        out = []
        for rid in ids:
            files = self._read(rid)
            row = copy.deepcopy(self._summary(files))
            row["state"] = self._live_status(files).get("state", "queued")
            out.append(row)
        # ids share a minute's prefix, so the creation time orders runs made in the same minute
        return sorted(out, key=lambda r: (_number(r.get("created_t")), r["id"]), reverse=True)

    def show(self, run_id: str) -> dict[str, Any]:
        folder = self.run_dir(run_id)
        if not folder.is_dir():
            raise RunNotFound(f"run {run_id} does not exist in {self.root} (it may have been deleted)")
        files = self.files(run_id)
        st = self._live_status(files)
        row = self._summary(files)
        row.update(state=st.get("state", "queued"), status=st, config=files.config, results=files.results,
                   dir=str(folder))
        if files.damage:
            row["recovery"] = recovery_hint(run_id, files.damage)
        return row

    def remove(self, run_id: str) -> None:
        st = self.status(run_id)
        if st.get("state") == "running":
            raise ConfigError(f"run {run_id} is running; stop it first (xlu-tui runs stop {run_id})")
        folder = self.run_dir(run_id)
        # Rename first so a half-deleted folder never looks like a run.
        trash = self.root / f".deleting-{run_id}-{secrets.token_hex(2)}"
        try:
            os.replace(folder, trash)
        except FileNotFoundError:
            raise RunNotFound(f"run {run_id} does not exist in {self.root} (it was just deleted)") from None
        self.drop_index(run_id)
        shutil.rmtree(trash, ignore_errors=True)


# Status fields the index row carries (and their defaults); a status write touching none of them
# (a phase change) leaves the index alone.
_STATUS_ROW = {"state": "queued", "pid": None, "device": "", "created": "", "created_t": 0.0, "started": "",
               "ended": "", "round": None, "rounds": None, "latest_mean": None, "best_mean": None, "error": None}
_INDEXED_STATUS = frozenset(_STATUS_ROW)


def _status_from_events(events: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """A status.json for a run whose own was lost: what its events say it came to. A run whose
    log ends mid-way is `stopped` (resumable, and not started again behind the user's back)."""
    created_t = next((e["t"] for e in events if isinstance(e.get("t"), _NUMBER)), None)
    if created_t is None:
        created_t = folder.stat().st_mtime
    st: dict[str, Any] = {"state": "stopped", "created_t": created_t, "host": socket.gethostname(),
                          "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(created_t)),
                          "recovered": now_iso(), "updated": time.time()}
    for e in events:
        kind = e.get("type")
        if kind in ("started", "resumed"):
            st.update(state="stopped", ended=None, error=None)
            if isinstance(e.get("pid"), int) and pid_alive(e["pid"], folder):
                st.update(state="running", pid=e["pid"], boot_id=boot_id())
        elif kind == "finished":
            st.update(state="finished")
        elif kind == "failed":
            st.update(state="failed", error={"class": str(e.get("error")), "message": str(e.get("message")),
                                             "hint": str(e.get("hint"))})
        elif kind == "stopped":
            st.update(state="stopped")
    # the round and the headline (the primary model's latest and best mean), as the worker keeps them
    from engine.live import LiveRun

    live = LiveRun()
    live.apply_all(e for e in events if e.get("type") in ("started", "resumed", "data", "metrics"))
    st.update(live.headline())
    return st


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _number(v: Any) -> float:
    return float(v) if isinstance(v, _NUMBER) and not isinstance(v, bool) else 0.0


def _read_only(path: Path) -> bool:
    """os.access says yes to root on a read-only mount; statvfs knows."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
