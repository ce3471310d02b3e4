"""Method registry: each method by name with its declared parameters.

The parameter schemas are read by the config validator, the CLI `--set` and the TUI form, so
method modules must import without torch; training code is imported inside `run()`.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from engine.methods.base import Method, MethodInfo

_MODULES = {
    "finetune": "engine.methods.finetune",
    "cotrain": "engine.methods.cotrain",
    "selftrain": "engine.methods.cotrain",
    "translate-train": "engine.methods.langadapt",
    "langadapt": "engine.methods.langadapt",
    "langadapt+cotrain": "engine.methods.langadapt",
}
_METHODS: dict[str, type["Method"]] = {}


def register(cls: type["Method"]) -> type["Method"]:
    _METHODS[cls.name] = cls
    return cls


def method_names() -> list[str]:
    return sorted(_MODULES)


def get_method(name: str) -> type["Method"]:
    if name not in _MODULES:
        raise KeyError(name)
    if name not in _METHODS:
        importlib.import_module(_MODULES[name])
    return _METHODS[name]


def method_params(name: str) -> type[BaseModel]:
    return get_method(name).Params


def method_info(name: str) -> "MethodInfo":
    """What the faces show of a method (models, primary model, agreement pairs, pseudo labels,
    Dbi, rounds): declared by the method, importable without torch."""
    return get_method(name).info()
