"""Messages thread workers post to screens. Workers only read files and post these; widgets are
touched on the app's thread alone.

Messages that carry a whole new picture (`RunsLoaded`, `EventsArrived`) replace an older one of
the same kind still waiting in the queue, so a burst of updates becomes one redraw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class RunsLoaded(Message):
    """Every run in the folder (index rows, live state applied), newest first."""

    rows: list[dict[str, Any]]
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsLoaded)


@dataclass
class EventsArrived(Message):
    """New events of a followed run wait in the follower's buffer (drained by the handler).

    The message itself carries nothing, so any number of them coalesce without losing events."""

    run_id: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsArrived) and message.run_id == self.run_id


@dataclass
class RunDetails(Message):
    """`store.show()` of one run, and the events of its folder when asked for."""

    run_id: str
    info: dict[str, Any] | None
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class ActionDone(Message):
    """A run action (start, resume, stop, kill, delete, save) ended; `error` is one sentence."""

    verb: str
    run_id: str = ""
    outcome: str = ""
    error: str | None = None


@dataclass
class EstimateReady(Message):
    """The size of the work a config asks for, computed off the app's thread."""

    key: str
    sizes: dict[str, Any] | None
    seconds: float | None = None
    basis: str = ""
    error: str | None = None


@dataclass
class PresetRead(Message):
    """A preset, resolved and validated by the engine (or the defaults), to fill the form with;
    and every preset's description, for the palette."""

    name: str
    data: dict[str, Any]
    error: str | None = None
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class PreviewRead(Message):
    """What a run's folder added since byte `start` of its events file (the runs screen's preview).

    `start` lets the handler drop a read that overlaps one already folded (two reads of the same
    bytes can be in flight when the highlight comes back to a run); `config` is sent once."""

    run_id: str
    start: int
    end: int
    events: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] | None = None
    error: str | None = None
