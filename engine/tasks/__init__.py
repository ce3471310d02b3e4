"""Task registry: every task by name, importable without the training stack.

A task module defines a subclass of `Task` and registers it with `@register`. Loading data
may import heavy libraries, but only inside `load()`.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from engine.config import TaskConfig
    from engine.tasks.base import TaskData

# name -> module; modules are imported on first use so `xlu-tui --help` stays fast.
_MODULES = {
    "topics": "engine.tasks.topics",
}
_TASKS: dict[str, type["Task"]] = {}


class Task:
    """A task: its languages, labels, text kind, metric, and how to draw D, U, Dbi, test."""

    name: ClassVar[str]
    kind: ClassVar[str] = "single"  # single | pair | tokens
    metric: ClassVar[str] = "accuracy"
    description: ClassVar[str] = ""
    #: True for a task that reads the user's own files from `task.data_dir`
    takes_data_dir: ClassVar[bool] = False

    def languages(self) -> list[str]:
        raise NotImplementedError

    def labels(self) -> list[str]:
        raise NotImplementedError

    def default_source(self) -> str:
        return "en"

    def source_languages(self) -> list[str]:
        """Languages with labeled training data (may be fewer than `languages()`)."""
        return [self.default_source()]

    def translated_languages(self) -> list[str]:
        """Target languages whose texts are translations of source items (have Dbi)."""
        return []

    def check(self, cfg: "TaskConfig") -> None:
        """Raise ValueError (one sentence naming the field) for a config this task cannot serve.
        Called by config validation, so it must be cheap: no data is read."""
        if cfg.data_dir is not None and not self.takes_data_dir:
            raise ValueError(f"task.data_dir is {cfg.data_dir!r}: task {self.name} takes none (it brings its own "
                             "data); leave task.data_dir out, or pick a task that reads your own files")
        if cfg.parallel_size > 0:
            targets = set(cfg.resolved_targets())
            if not targets & set(self.translated_languages()):
                raise ValueError(
                    f"task.parallel_size is {cfg.parallel_size} but no target language of task {self.name} has "
                    f"translations of the source items; languages with translations: "
                    f"{', '.join(self.translated_languages()) or 'none'} (or set task.parallel_size = 0)")

    def load(self, cfg: "TaskConfig", seed: int) -> "TaskData":
        raise NotImplementedError


def register(cls: type[Task]) -> type[Task]:
    _TASKS[cls.name] = cls
    return cls


def task_names() -> list[str]:
    return sorted(_MODULES)


def get_task(name: str) -> Task:
    if name not in _MODULES:
        raise KeyError(name)
    if name not in _TASKS:
        importlib.import_module(_MODULES[name])
    return _TASKS[name]()
