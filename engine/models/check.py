"""Model specs checked before a run is created: one sentence for a model the worker could not load.

The faces call `check_models(cfg)` after the config validates and before `store.create()`. It
checks only the `models` fields the run's method builds classifiers from (`Method.uses_models`),
reads nothing but folder listings, `config.json` files and the Hugging Face cache layout, and
imports neither torch nor transformers, so it is cheap enough for the CLI.

What it cannot know without the network: whether a Hugging Face id exists on the hub when
HF_HUB_OFFLINE is not set (the worker downloads it then, and says so when it cannot).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError
from engine.models import OFFLINE_MODELS, TFHUB_HINT, TFHUB_UNAVAILABLE

if TYPE_CHECKING:
    from engine.config import RunConfig

WANT = "give a Hugging Face id or a folder holding a transformers model (config.json, weights, tokenizer)"
#: files that hold a transformers model's weights (one is enough); a sharded model has the index
WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
#: files a tokenizer loads from (one is enough)
TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model",
             "sentencepiece.bpe.model", "tokenizer.model")
# what huggingface_hub accepts as a repo id: `name` or `org/name`, no `--` or `..`, at most 96 characters
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]+$")
_TRUE = {"1", "ON", "YES", "TRUE"}  # huggingface_hub's reading of a flag variable


def check_models(cfg: "RunConfig") -> None:
    """Raise ConfigError (one sentence naming the field, the value, what is wrong and the fix) for
    a model the run's method uses that cannot be loaded; return None when all of them can."""
    from engine.methods import get_method

    for field in get_method(cfg.method.name).uses_models:
        check_model(f"models.{field}", getattr(cfg.models, field))


def check_model(field: str, spec: str) -> None:
    """Check one model spec; `field` is what the sentence names (e.g. `models.<role>`)."""
    if spec in OFFLINE_MODELS:
        return
    said = f"{field} is {spec!r}"
    if spec.startswith("tfhub:"):
        raise ConfigError(f"{said}: {TFHUB_UNAVAILABLE}; {TFHUB_HINT}")
    path = os.path.expanduser(spec) if spec.startswith("~") else spec
    if os.path.lexists(path):
        if not os.path.isdir(path):
            if os.path.basename(path) == "config.json":
                raise ConfigError(f"{said}: that is the model's config.json, not its folder; give the folder "
                                  f"{os.path.dirname(path) or '.'!r}")
            what = "a broken link" if not os.path.exists(path) else "a file, not a folder"
            raise ConfigError(f"{said}: {what}; {WANT}")
        wrong = _folder_problem(path)
        if wrong:
            raise ConfigError(f"{said}: {wrong}; {WANT}")
        return
    if not _is_repo_id(spec):
        raise ConfigError(f"{said}: no such folder; {WANT}")
    # A Hugging Face id: offline, it must be in the cache; online the worker downloads it.
    flag = offline_flag()
    if flag is None:
        return
    cache = hub_cache()
    snapshot = cached_snapshot(spec, cache)
    get = f"download it once with network (`hf download {spec}`) or give a folder holding a transformers model"
    if snapshot is None:
        nor = " nor a folder here" if "/" in spec else ""
        raise ConfigError(f"{said}: {flag} is set and the model is not in the Hugging Face cache ({cache}){nor}; "
                          f"{get}")
    wrong = _folder_problem(str(snapshot))
    if wrong:
        raise ConfigError(f"{said}: its copy in the Hugging Face cache ({snapshot}) is incomplete: {wrong}; "
                          f"{flag} is set: {get}")


def _is_repo_id(spec: str) -> bool:
    return (len(spec) <= 96 and bool(_REPO_ID.match(spec)) and "--" not in spec and ".." not in spec
            and not spec.startswith((".", "-")) and not spec.endswith((".", "-", ".git")))


def _folder_problem(folder: str) -> str | None:
    """What keeps `folder` from being a transformers model, as a clause (None: it looks like one)."""
    try:
        names = set(os.listdir(folder))
    except OSError as err:
        return f"the folder cannot be read ({err.strerror or err})"
    if not names:
        return "the folder is empty"
    if "config.json" not in names:
        return "the folder has no config.json, so it is not a transformers model"
    config = os.path.join(folder, "config.json")
    try:
        with open(config, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        return f"its config.json is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
    except UnicodeDecodeError:
        return "its config.json is not UTF-8 text"
    except OSError as err:
        return f"its config.json cannot be read ({err.strerror or err})"
    if not isinstance(data, dict):
        return "its config.json is not a JSON object"
    if not names & set(WEIGHTS):
        return f"the folder has no weights ({' or '.join(WEIGHTS[:2])})"
    if not (names & set(TOKENIZER) or any(n.endswith(".model") for n in names)):
        return f"the folder has no tokenizer ({', '.join(TOKENIZER[:3])} ...)"
    return None


def offline_flag() -> str | None:
    """The variable that keeps Hugging Face offline (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), if set."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        value = os.environ.get(name)
        if value:  # as huggingface_hub reads them: the first one given decides
            return name if value.strip().upper() in _TRUE else None
    return None


def hub_cache() -> Path:
    """The Hugging Face hub cache folder, as huggingface_hub finds it, read now (not at import)."""
    env = os.environ
    where = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if not where:
        home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"),
                                                   "huggingface")
        where = os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(where)))


def cached_snapshot(repo_id: str, cache: Path | None = None) -> Path | None:
    """The cached snapshot of a model that offline loading would use (holding a config.json), or None."""
    repo = (cache or hub_cache()) / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    try:
        ref = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        ref = ""
    candidates = [snapshots / ref] if ref else []
    try:
        candidates += sorted(p for p in snapshots.iterdir() if p.name != ref)
    except OSError:
        pass
    return next((p for p in candidates if (p / "config.json").is_file()), None)
