"""Errors the faces turn into one sentence (kept free of imports: the CLI loads it first)."""
from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """Bad input: `str(err)` is one sentence naming the field, the value and what is allowed.
    The faces exit with code 2."""


class WriteFailed(OSError):
    """The machine refused a write (disk full, read-only, no permission): `str(err)` is one
    sentence naming the file and why, and nothing already written was changed. Exit code 1."""

    def __init__(self, message: str, path: Path | None = None, why: str = ""):
        super().__init__(message)
        self.path = path
        self.why = why

    def __str__(self) -> str:
        return str(self.args[0])
