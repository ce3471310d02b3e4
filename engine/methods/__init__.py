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
    """Add a method by its name (the built-in ones register when their module is imported; a
    method defined elsewhere, e.g. in a test, by calling this)."""
    _METHODS[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a method registered from outside `_MODULES` (a test's stub)."""
    if name not in _MODULES:
        _METHODS.pop(name, None)


def method_names() -> list[str]:
    return sorted(set(_MODULES) | set(_METHODS))


def get_method(name: str) -> type["Method"]:
    if name not in _METHODS:
        if name not in _MODULES:
            raise KeyError(name)
        importlib.import_module(_MODULES[name])
    return _METHODS[name]


def method_params(name: str) -> type[BaseModel]:
    return get_method(name).Params


def method_info(name: str) -> "MethodInfo":
    """What the faces show of a method (models, primary model, agreement pairs, pseudo labels,
    Dbi, rounds): declared by the method, importable without torch."""
    return get_method(name).info()


def find_method_info(name: object) -> "MethodInfo | None":
    """`method_info(name)`, or None for a name the engine does not know (a run made by a method
    since removed, or a damaged config): readers then show what the run's events hold."""
    if not isinstance(name, str):
        return None
    try:
        return method_info(name)
    except Exception:  # noqa: BLE001 - unknown, or its module fails to import
        return None
