"""How long a run will take here: from earlier runs in the runs folder, and, for the demo
presets, from what was measured on the project's own machine. Shared by the New run form and
`xlu-tui run --app`; no UI and no training stack (the GPUs are looked at through NVML, the
method through its declared metadata)."""
from __future__ import annotations

import os
import statistics
from typing import Any

# Measured on this project's 2-core CPU machine (no GPU) with two runs sharing the cores, in
# minutes (README, "The demo presets"): (fastest, slowest, worst seen under heavy load or None).
MEASURED_ON = "this project's 2-core CPU machine (no GPU), two runs sharing the cores"
MEASURED_MIN: dict[str, tuple[float, float, float | None]] = {
    "demo": (12, 18, 47),
    "demo-selftrain": (14, 18, None),
    "demo-finetune": (4, 5, None),
    "demo-finetune-long": (10, 13, None),
    "demo-finetune-use": (0.5, 1, None),
    "demo-fewshot-translate-train": (4, 7, None),
    "demo-fewshot-langadapt": (4, 7, None),
    "demo-fewshot-langadapt-cotrain": (19, 25, None),
}


def short(v: Any, width: int = 40) -> str:
    text = str(v)
    return text if len(text) <= width else "…" + text[-(width - 1):]


def method_rounds(cfg: Any) -> int:
    """Rounds the method will run, as the method declares (one for a method the engine does not know)."""
    from engine.methods import find_method_info

    info = find_method_info(cfg.method.name)
    return info.rounds(cfg.method.model_extra or {}) if info is not None else 1


def primary_role(method: Any) -> str | None:
    """The role of the model whose numbers are a method's headline (None: a method not known)."""
    from engine.methods import find_method_info

    info = find_method_info(method)
    return info.primary if info is not None else None


def primary_spec(cfg: Any) -> str:
    """The model spec of the config's primary model: the model a run's time is mostly spent on."""
    role = primary_role(cfg.method.name)
    return str(getattr(cfg.models, role, "") or "") if role else ""


def throughput_estimate(store: Any, cfg: Any, sizes: dict[str, Any]) -> tuple[float | None, str]:
    """Time of one fine-tuning on D, from the training speed earlier runs of the same primary
    model reached here (their progress events); None when no such run exists."""
    from engine.events import read_events

    spec = primary_spec(cfg)
    speeds: list[float] = []
    source = ""
    try:
        rows = store.list_runs()
    except Exception:  # noqa: BLE001
        rows = []
    for row in rows:
        if len(speeds) >= 40 or row.get("state") not in ("finished", "stopped", "running"):
            continue
        try:
            other = store.config_dict(row["id"])
        except Exception:  # noqa: BLE001
            continue
        # the earlier run's speed of its own primary model (a co-training run's other model
        # trains far faster), when that is the model this run's headline comes from
        role = primary_role((other.get("method") or {}).get("name"))
        if not spec or role is None or (other.get("models") or {}).get(role) != spec:
            continue
        try:
            events, _ = read_events(store.run_dir(row["id"]) / "events.jsonl")
        except Exception:  # noqa: BLE001 - a run deleted meanwhile, or unreadable: no speed from it
            continue
        got = [e["samples_per_s"] for e in events if e.get("type") == "progress" and e.get("samples_per_s")
               and e.get("model", role) == role]
        if got:
            speeds += got[-10:]
            source = source or (row.get("name") or row["id"])
    if not speeds:
        return None, f"no earlier {short(spec, 20)} run"
    sps = statistics.median(speeds)
    seconds = (sizes.get("D") or 0) * cfg.train.epochs / sps
    return seconds, f"at {sps:.0f} samples/s, as in {short(source, 24)}"


def _iso_seconds(text: Any) -> float | None:
    import time

    if not text:
        return None
    try:
        return time.mktime(time.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None


def earlier_durations(rows: list[dict[str, Any]], preset: str) -> list[float]:
    """Seconds that earlier finished runs of `preset` took (start to end), newest first.
    A resumed run counts from its first start, so its time includes the pause: left out."""
    out = []
    for r in rows:
        if r.get("state") != "finished" or not preset or r.get("preset") != preset:
            continue
        started, ended = _iso_seconds(r.get("started")), _iso_seconds(r.get("ended"))
        if started and ended and ended > started:
            out.append(ended - started)
    return out


def minutes(seconds: float) -> str:
    m = seconds / 60
    return f"{m:.0f} min" if m >= 1.5 else ("under a minute" if m < 1 else "a minute")


def machine() -> dict[str, Any]:
    """This machine's CPU cores (those this process may use) and GPUs (NVML; no torch)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        from engine.launcher import gpu_inventory

        gpus = gpu_inventory()
    except Exception:  # noqa: BLE001 - no NVML: as if there were no GPU
        gpus = []
    return {"cores": cores, "gpus": gpus}


def machine_words(facts: dict[str, Any]) -> str:
    gpus = facts.get("gpus") or []
    cores = facts.get("cores") or 1
    if not gpus:
        gpu = "no GPU"
    else:
        names = sorted({str(g.get("name", "GPU")) for g in gpus})
        gpu = f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''} ({', '.join(names)})"
    return f"{cores} CPU core{'s' if cores != 1 else ''} and {gpu}"


def how_long(preset: str | None, rows: list[dict[str, Any]], facts: dict[str, Any],
             speed: tuple[float, str, int] | None = None, lm: str = "") -> str:
    """What is known of how long a run of `preset` takes on this machine, in a sentence or three:
    earlier runs of it here, else the training speed earlier runs of its model reached here
    (`speed`: seconds of one fine-tuning on D, where that came from, rounds; see
    `throughput_estimate`), what was measured on the project's machine, and this machine."""
    sentences = []
    took = earlier_durations(rows, preset or "")
    if took:
        lo, hi = min(took), max(took)
        span = minutes(lo) if minutes(lo) == minutes(hi) else f"{minutes(lo)} to {minutes(hi)}"
        n = len(took)
        sentences.append(f"{n} earlier {preset} run{'s' if n != 1 else ''} here took {span}")
    elif speed is not None:
        seconds, basis, rounds = speed
        text = f"training {lm or 'its model'} here ran {basis}: one fine-tuning on D takes {minutes(seconds)}"
        text += (f"; this run does {rounds} rounds of it, and evaluates and labels besides" if rounds > 1
                 else ", evaluation aside")
        sentences.append(text)
    measured = MEASURED_MIN.get(preset or "")
    if measured:
        lo_m, hi_m, worst = measured
        span = f"{lo_m:g} to {hi_m:g} min" if lo_m >= 1 else f"under {hi_m:g} min"
        text = f"preset {preset} was measured only on {MEASURED_ON}: {span}"
        if worst:
            text += f", {worst:g} min at worst under heavy load"
        sentences.append(text)
    if not sentences:
        name = f"preset {preset}" if preset else "this config"
        sentences.append(f"no earlier run of {name} here to time it by")
    here = f"this machine has {machine_words(facts)}"
    if measured and not took and speed is None:
        cores, gpus = facts.get("cores") or 1, facts.get("gpus") or []
        if gpus:
            here += ": it should be faster, by how much was never measured"
        elif cores > 2:
            here += ": likely faster, by how much was never measured"
        elif cores < 2:
            here += ": likely slower"
        else:
            here += ", like that one: expect about the same, longer while other work shares the cores"
    sentences.append(here)
    return " ".join(x[0].upper() + x[1:] + "." for x in sentences)
