"""Errors the faces turn into one sentence and exit code 2 (kept free of imports: the CLI loads it first)."""


class ConfigError(ValueError):
    """Bad input: `str(err)` is one sentence naming the field, the value and what is allowed."""
