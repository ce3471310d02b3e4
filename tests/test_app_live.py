"""The live screen under load: 10,000 events written far faster than any run writes them must be
read, folded and drawn without a backlog that grows. Measured, not assumed: the test samples the
backlog (events written but not yet on screen) while a thread writes, and prints what it saw."""
from __future__ import annotations

import threading
import time

import pytest
from textual.widgets import DataTable

from test_app_support import (  # noqa: F401 - fixtures are used by name
    anyio_backend, app_for, append_events, cotrain_stream, make_running_run, run_id, runs, until, worker_process,
)
from xlu_tui.screens.live import LiveScreen

pytestmark = pytest.mark.anyio

N = 10_000
RATE = 2_000  # events per second: a hundred times what a real run writes


async def open_run(pilot, runs_dir, name: str) -> LiveScreen:  # noqa: ANN001
    from xlu_tui.screens.runs import RunsScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.loaded)
    table = pilot.app.screen.query_one("#runs", DataTable)
    ids = [str(k.value) for k in table.rows]
    table.move_cursor(row=ids.index(run_id(runs_dir, name)))
    await pilot.press("enter")
    screen = await until(pilot, lambda: isinstance(pilot.app.screen, LiveScreen) and pilot.app.screen)
    await until(pilot, lambda: screen.info)
    return screen


async def test_live_screen_keeps_up_with_10000_events(runs, worker_process):
    rid = make_running_run(runs, "tiny-cotrain", worker_process, name="firehose", method="cotrain")
    events = cotrain_stream(rid, N)
    app = app_for(runs, poll_interval=0.25)  # the app's own poll interval
    written = 0
    done = threading.Event()

    def writer() -> None:
        nonlocal written
        chunk = RATE // 100
        start = time.monotonic()
        for i in range(0, N, chunk):
            append_events(runs, rid, events[i:i + chunk])
            written = min(i + chunk, N)
            time.sleep(max(0.0, start + (i + chunk) / RATE - time.monotonic()))
        done.set()

    async with app.run_test(size=(200, 50)) as pilot:
        screen = await open_run(pilot, runs, "firehose")
        samples: list[tuple[float, int, int]] = []
        t0, cpu0 = time.monotonic(), time.process_time()
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        while not done.is_set():
            await pilot.pause(0.05)
            samples.append((time.monotonic() - t0, written, screen.applied))
        wrote_in = time.monotonic() - t0
        cpu = time.process_time() - cpu0  # the whole process: app, follower and the writer thread
        t_end = time.monotonic()
        await until(pilot, lambda: screen.applied == N, timeout=15, what="every event on screen")
        drain = time.monotonic() - t_end
        await pilot.pause()
        chart = screen.query_one("#chart").data

    backlog = [w - a for _, w, a in samples]
    # How the backlog moves over time (least squares, after the first second): a screen that
    # falls behind shows a backlog rising at (rate - what it manages) events per second.
    steady = [(t, w - a) for t, w, a in samples if t >= 1.0]
    mt = sum(t for t, _ in steady) / len(steady)
    mb = sum(b for _, b in steady) / len(steady)
    slope = sum((t - mt) * (b - mb) for t, b in steady) / sum((t - mt) ** 2 for t, _ in steady)
    stats = screen.stats
    busy = stats["busy_s"] / wrote_in
    waits = sorted(stats["waits"])
    print(f"\n{N} events in {wrote_in:.2f} s ({N / wrote_in:.0f}/s): backlog mean {mb:.0f}, max {max(backlog)}, "
          f"trend {slope:+.0f} events/s; drained {drain:.2f} s after the last write; "
          f"{stats['batches']} batches (largest {stats['max_batch']} events, "
          f"slowest {1000 * stats['max_batch_s']:.0f} ms, wait from read to drawn: "
          f"median {1000 * waits[len(waits) // 2]:.0f} ms, longest {1000 * waits[-1]:.0f} ms); "
          f"event handler busy {100 * busy:.0f}% of the time, whole process {100 * cpu / wrote_in:.0f}% of a core")

    assert screen.live.events_seen == N and screen.applied == N
    assert chart.x_labels and len(screen.live.metrics["lm"]) == len(screen.live.metrics["emb"]) >= 1
    # no growing backlog: it does not trend upwards, and stays within a few polls' worth of events
    # (the poll is every 0.25 s; a busy machine may delay one)
    assert slope < RATE * 0.15, slope
    assert max(backlog) <= RATE * 2, max(backlog)
    # what was behind is on screen within a couple of polls
    assert drain < 1.5
    # drawing costs a fraction of the time the events take to arrive: room to spare
    assert busy < 0.5


async def test_replaying_10000_events_of_an_ended_run_is_quick(runs, worker_process):
    rid = make_running_run(runs, "tiny-cotrain", worker_process, name="replay", method="cotrain")
    append_events(runs, rid, cotrain_stream(rid, N))
    app = app_for(runs, poll_interval=0.25)
    async with app.run_test(size=(200, 50)) as pilot:
        t0 = time.monotonic()
        screen = await open_run(pilot, runs, "replay")
        await until(pilot, lambda: screen.applied == N, timeout=15)
        took = time.monotonic() - t0
        print(f"\nreplayed {N} events in {took:.2f} s ({screen.stats['batches']} batch(es), "
              f"fold and draw {1000 * screen.stats['busy_s']:.0f} ms)")
    assert took < 5
