"""Following a run's folder from a thread: new events and the run's status, handed over through
a buffer that the screen drains on its own thread.

The thread never touches a widget. It appends what it read to an `EventBuffer` and posts an
`EventsArrived` message, which coalesces with others still queued; the handler takes everything
buffered at once, so a burst of events costs one redraw however many messages it posted.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from engine.events import Tail

from xlu_tui.messages import EventsArrived


class EventBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._status: dict[str, Any] | None = None
        self._since: float | None = None  # when the oldest event still waiting was read
        self.read_total = 0  # events read from the file so far (the backlog is read_total - applied)

    def put(self, events: list[dict[str, Any]], status: dict[str, Any] | None) -> None:
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()
            self._events.extend(events)
            self.read_total += len(events)
            if status is not None:
                self._status = status

    def take(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None, float]:
        """Everything waiting, and how long the oldest of it waited (seconds)."""
        with self._lock:
            events, status, since = self._events, self._status, self._since
            self._events, self._status, self._since = [], None, None
        return events, status, (time.monotonic() - since) if since is not None else 0.0

    def pending(self) -> int:
        with self._lock:
            return len(self._events)


def follow_run(store: Any, run_id: str, buffer: EventBuffer, post: Callable[[Any], Any],
               is_cancelled: Callable[[], bool], interval: float, status_every: float = 1.0) -> None:
    """Tail the run's events and re-read its status until cancelled.

    Polls every `interval` seconds while events flow; a run that has gone quiet is polled less
    often (up to a second), and picked up again at once when it writes.
    """
    tail = Tail(store.events_path(run_id))
    last_status: dict[str, Any] | None = None
    status_at = 0.0
    quiet = interval
    while not is_cancelled():
        events = tail.poll()
        status = None
        now = time.monotonic()
        if now - status_at >= status_every or events:
            status_at = now
            try:
                status = store.status(run_id)
            except Exception:  # the folder went away (deleted): keep what we have
                status = None
            if status == last_status and not events:
                status = None
            elif status is not None:
                last_status = status
        if events or status is not None:
            buffer.put(events, status)
            post(EventsArrived(run_id))
            quiet = interval
        else:
            quiet = min(quiet * 1.5, max(interval, 1.0))
        end = time.monotonic() + quiet
        while not is_cancelled() and time.monotonic() < end:
            time.sleep(min(0.05, quiet))
