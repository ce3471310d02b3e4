"""The run's event stream: one JSON object per line in `events.jsonl`, written by the worker,
read (and tailed) by the CLI and the app.

Reading is defensive here, at one boundary, so that no reader downstream (`LiveRun`,
`export.round_history`, `runs watch`/`runs show`, the app's screens) needs a `try` of its own:

- A line that is not a complete JSON object (a torn line, garbage, an integer of thousands of
  digits, nesting deeper than the parser goes) is skipped.
- A type the reader does not know (a run written by a newer version) is skipped.
- Every known type is checked against `SCHEMA`, which holds what the writers in `engine/` emit
  (README, "Event types"). Each type names its *required* fields, without which the event means
  nothing or would mean something false (a metrics event without its `model`, `round`, `split`
  or `values`; a pools or agreement event without its `round`; a phase without its name; a log
  without its message): an event whose required field is missing or of the wrong type is
  dropped whole. Its other, *optional*, fields are dropped one by one when they are of the
  wrong type, and the rest of the event is kept (a progress event whose `losses` is `3` still
  moves the progress bar). That keeps the most information while every field a reader finds
  has the declared type: a reader may use `ev.get(field, default)` and trust the result.
- What the types mean: `count` is an int (never a bool) from 0 to 2**53; `number` a finite int
  or float; `measure` a number or null, where NaN and infinity read as null (the worker writes
  a mean over no target language as NaN); per-language (or per-name) maps keep their good
  entries and lose the others; lists of strings are kept whole or dropped whole. Fields a schema
  does not declare pass through unchecked (a newer writer's additions), except in `pools`, whose
  every other field is a set size and so must be a count.

What was skipped is counted: the event lists returned by `parse_lines` and `read_events` (and
`Tail`) carry `damaged`, the number of lines dropped as not a well-formed event, and `repaired`,
the number of events kept without some of their fields. Lines of unknown types are not damage.
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


# --------------------------------------------------------------------------- the schema

# A check takes a field's value and returns it (or a cleaned copy), or _BAD.
_BAD: Any = object()
_MAX_INT = 2 ** 53


def count(v: Any) -> Any:
    """An int from 0 to 2**53 (not a bool)."""
    return v if type(v) is int and 0 <= v <= _MAX_INT else _BAD


def number(v: Any) -> Any:
    """A finite int or float (not a bool)."""
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else _BAD  # NaN and ±inf give NaN
    return v if t is int and -_MAX_INT <= v <= _MAX_INT else _BAD


def measure(v: Any) -> Any:
    """A number or None; NaN and ±inf read as None (no value)."""
    t = type(v)
    if t is float:
        return v if v - v == 0.0 else None
    if v is None or (t is int and -_MAX_INT <= v <= _MAX_INT):
        return v
    return _BAD


def text(v: Any) -> Any:
    return v if type(v) is str else _BAD


def text_or_none(v: Any) -> Any:
    return v if v is None or type(v) is str else _BAD


def flag(v: Any) -> Any:
    return v if type(v) is bool else _BAD


def obj(v: Any) -> Any:
    """Any JSON object; its contents are the reader's own business (a run's config)."""
    return v if type(v) is dict else _BAD


def texts(v: Any) -> Any:
    """A list of strings, whole."""
    return v if type(v) is list and all(type(x) is str for x in v) else _BAD


def mapping(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An object whose values pass `check`; entries that do not are dropped, the rest kept."""
    def checked(v: Any) -> Any:
        if type(v) is not dict:
            return _BAD
        for k, x in v.items():
            if check(x) is not x:  # rare: build the cleaned copy
                out = {}
                for k2, x2 in v.items():
                    y = check(x2)
                    if y is not _BAD:
                        out[k2] = y
                return out
        return v
    checked.__name__ = f"mapping({check.__name__})"
    return checked


def size(v: Any) -> Any:
    """A set size, or sizes by language (`sizes.test`)."""
    return count(v) if type(v) is not dict else _counts(v)


_counts = mapping(count)
_measures = mapping(measure)


@dataclass(frozen=True)
class Schema:
    required: dict[str, Callable[[Any], Any]]
    optional: dict[str, Callable[[Any], Any]]
    rest: Callable[[Any], Any] | None = None  # the check of undeclared fields (None: unchecked)


_ENVELOPE = {"t": number, "run": text}

SCHEMA: dict[str, Schema] = {
    "started": Schema({}, {"pid": count, "host": text, "config": obj, "rounds_from": count}),
    "resumed": Schema({}, {"pid": count, "host": text, "config": obj, "rounds_from": count}),
    "phase": Schema({"phase": text}, {"model": text, "round": count, "examples": count, "epochs": count,
                                      "stage": count, "task": text, "spec": text}),
    "progress": Schema({}, {"model": text, "round": count, "stage": count, "epoch": count, "epochs": count,
                            "step": count, "total": count, "losses": mapping(number),
                            "samples_per_s": number, "lr": number, "eta_s": number}),
    "metrics": Schema({"model": text, "round": count, "split": text, "values": _measures},
                      {"epoch": count, "mean": measure, "metric": text}),
    # sizes by set and model (`U_a`, `S_b`: engine.live.pool_sizes reads them), all counts
    "pools": Schema({"round": count}, {"precision": _measures}, rest=count),
    "agreement": Schema({"round": count}, {"pair": texts, "rate": measure, "by_lang": _measures,
                                           "items": count}),
    "checkpoint": Schema({}, {"tag": text, "path": text, "seconds": number, "round": count, "model": text,
                              "stage": count, "epoch": count}),
    "log": Schema({"message": text}, {"level": text}),
    "data": Schema({}, {"sizes": mapping(size), "labels": texts, "notes": texts, "source": text,
                        "targets": texts}),
    "finished": Schema({}, {"results": mapping(_measures)}),  # model -> language (and "mean") -> value
    "failed": Schema({}, {"error": text, "message": text, "hint": text_or_none, "resumable": flag}),
    "stopped": Schema({}, {"reason": text, "resumable": flag}),
}
assert set(SCHEMA) == KNOWN_TYPES

# Per type: (required checks, the check of every declared field (the envelope's too), rest).
_PLAN = {kind: (tuple(s.required.items()), {"type": None, **_ENVELOPE, **s.required, **s.optional}, s.rest)
         for kind, s in SCHEMA.items()}

_DROP, _KEEP, _REPAIRED = 0, 1, 2


def _check(ev: dict[str, Any], plan: tuple[Any, ...]) -> int:
    """Make `ev` fit its schema in place: _DROP, _KEEP (as it was, or with a NaN read as None)
    or _REPAIRED (fields, or entries of a map, dropped)."""
    required, checks, rest = plan
    for name, check in required:
        if name not in ev or check(ev[name]) is _BAD:
            return _DROP
    changed = None
    # Every field, the required ones again: the common kinds are checked inline, since this
    # loop runs for every event of a 10,000-event replay.
    for name, v in ev.items():
        check = checks.get(name, rest)
        if check is None:
            continue
        t = type(v)
        if check is count:
            if t is int and 0 <= v <= _MAX_INT:
                continue
        elif check is number:
            if t is float:
                if v - v == 0.0:
                    continue
            elif t is int and -_MAX_INT <= v <= _MAX_INT:
                continue
        elif check is text:
            if t is str:
                continue
        if check(v) is not v:
            (changed := changed or []).append(name)
    if changed is None:
        return _KEEP
    outcome = _KEEP
    for name in changed:
        v = ev[name]
        w = checks.get(name, rest)(v)
        if w is _BAD:
            del ev[name]  # (never a required one: those passed above)
            outcome = _REPAIRED
        else:
            if type(w) is dict and _entries(w) != _entries(v):
                outcome = _REPAIRED
            ev[name] = w
    return outcome


def _entries(v: dict[str, Any]) -> int:
    """How many entries a map holds, with its maps' entries (two levels, as deep as the schema)."""
    return sum(1 + (len(x) if type(x) is dict else 0) for x in v.values())


def check_event(ev: Any) -> dict[str, Any] | None:
    """`ev` made to fit the schema (fields of the wrong type dropped, in place), or None when it
    is not a well-formed event of a known type. For events that did not come from a file."""
    if type(ev) is not dict:
        return None
    plan = _PLAN.get(ev.get("type")) if type(ev.get("type")) is str else None
    if plan is None or _check(ev, plan) == _DROP:
        return None
    return ev


# --------------------------------------------------------------------------- reading

class Events(list):
    """A list of events, with what reading them skipped: `damaged` lines dropped, `repaired`
    events kept without some of their fields."""

    damaged: int = 0
    repaired: int = 0


def parse_lines(data: bytes) -> tuple[Events, int]:
    """Events in `data` and how many bytes were consumed (complete lines only)."""
    end = data.rfind(b"\n")
    events = Events()
    if end < 0:
        return events, 0
    damaged = repaired = 0
    loads, plans, append = json.loads, _PLAN, events.append
    for line in data[: end + 1].splitlines():
        try:
            ev = loads(line)
        except (ValueError, RecursionError):  # JSON and UTF-8 errors are ValueErrors
            if line.strip():
                damaged += 1  # torn by a killed writer (and ended by the next one), or garbage
            continue
        if type(ev) is not dict:
            damaged += 1
            continue
        kind = ev.get("type")
        plan = plans.get(kind) if type(kind) is str else None
        if plan is None:
            if type(kind) is not str:
                damaged += 1
            continue  # a type from a newer version: not damage
        outcome = _check(ev, plan)
        if outcome:
            append(ev)
            if outcome == _REPAIRED:
                repaired += 1
        else:
            damaged += 1
    events.damaged, events.repaired = damaged, repaired
    return events, end + 1


def read_events(path: str | Path, offset: int = 0) -> tuple[Events, int]:
    """Events from byte `offset` on, and the offset to continue from next time."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return Events(), offset
    events, used = parse_lines(data)
    return events, offset + used


@dataclass
class Tail:
    """Follows an events file by polling: call `poll()` for what arrived since last time.
    `damaged` and `repaired` add up what every poll skipped (see `Events`)."""

    path: Path
    offset: int = 0
    seen: int = field(default=0)
    damaged: int = 0
    repaired: int = 0

    def poll(self) -> Events:
        events, self.offset = read_events(self.path, self.offset)
        self.seen += len(events)
        self.damaged += events.damaged
        self.repaired += events.repaired
        return events
