"""The run's event stream: one JSON object per line in `events.jsonl`, written by the worker,
read (and tailed) by the CLI and the app.

Readers take only complete lines, skip lines that do not parse and types they do not know, so
a torn last line or a run written by a newer version never breaks a reader.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

EVENTS_FILE = "events.jsonl"

# The types a reader understands; anything else is skipped.
KNOWN_TYPES = frozenset({
    "started", "phase", "progress", "metrics", "pools", "agreement", "checkpoint", "log",
    "data", "finished", "failed", "stopped", "resumed",
})
# States in which a run writes no more events.
TERMINAL_TYPES = frozenset({"finished", "failed", "stopped"})


class EventWriter:
    """Appends events; each line is written whole and flushed, so tailers see it at once."""

    def __init__(self, path: str | Path, run_id: str, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.run_id = run_id
        self._clock = clock
        self._fh = open(self.path, "a", encoding="utf-8")
        # A previous worker killed mid-write may have left a torn line: end it so the next
        # event starts on a line of its own (the reader skips the torn one).
        if self._fh.tell() > 0:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    self._fh.write("\n")
                    self._fh.flush()

    def emit(self, type: str, **fields: Any) -> dict[str, Any]:
        event = {"t": round(self._clock(), 3), "run": self.run_id, "type": type, **fields}
        self._fh.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._fh.flush()
        return event

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """Events in `data` and how many bytes were consumed (complete lines only)."""
    end = data.rfind(b"\n")
    if end < 0:
        return [], 0
    events = []
    for line in data[: end + 1].splitlines():
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # a line torn by a killed writer, later ended by the next writer
        if isinstance(ev, dict) and ev.get("type") in KNOWN_TYPES:
            events.append(ev)
    return events, end + 1


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events from byte `offset` on, and the offset to continue from next time."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    events, used = parse_lines(data)
    return events, offset + used


@dataclass
class Tail:
    """Follows an events file by polling: call `poll()` for what arrived since last time."""

    path: Path
    offset: int = 0
    seen: int = field(default=0)

    def poll(self) -> list[dict[str, Any]]:
        events, self.offset = read_events(self.path, self.offset)
        self.seen += len(events)
        return events
