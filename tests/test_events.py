"""The event stream: whole lines, flushed; readers skip torn lines, unknown types and events of
the wrong shape (tests/test_damaged_events.py has the damaged lines one by one)."""
from __future__ import annotations

import json

from pathlib import Path

from engine.events import SCHEMA, EventWriter, Tail, check_event, parse_lines, read_events


def test_writer_lines_carry_t_run_type(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventWriter(path, "r1", clock=lambda: 12.5) as w:
        w.emit("progress", step=1, total=10, losses={"ce": 0.5}, samples_per_s=3.0)
    line = json.loads(path.read_text().splitlines()[0])
    assert line == {"t": 12.5, "run": "r1", "type": "progress", "step": 1, "total": 10,
                    "losses": {"ce": 0.5}, "samples_per_s": 3.0}


def test_reader_skips_torn_last_line_until_it_is_complete(tmp_path):
    path = tmp_path / "events.jsonl"
    good = json.dumps({"t": 1, "run": "r", "type": "log", "message": "a"})
    path.write_text(good + "\n" + '{"t": 2, "run": "r", "ty')
    events, offset = read_events(path)
    assert [e["message"] for e in events] == ["a"]
    assert offset == len(good) + 1
    with open(path, "a") as f:  # the writer finishes the line
        f.write('pe": "log", "message": "b"}\n')
    more, _ = read_events(path, offset)
    assert [e["message"] for e in more] == ["b"]


def test_reader_skips_unknown_types_and_garbage(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        json.dumps({"t": 1, "run": "r", "type": "from_the_future", "x": 1}),
        "not json at all",
        json.dumps([1, 2]),
        json.dumps({"t": 2, "run": "r", "type": "phase", "phase": "train"}),
    ]) + "\n")
    events, _ = read_events(path)
    assert [e["type"] for e in events] == ["phase"]
    # garbage is damage; a type from a newer version is not
    assert (events.damaged, events.repaired) == (2, 0)


def test_new_writer_ends_a_torn_line_left_by_a_killed_worker(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 1, "run": "r", "type": "log", "mess')
    with EventWriter(path, "r") as w:
        w.emit("log", message="after resume")
    events, _ = read_events(path)
    assert [e["message"] for e in events] == ["after resume"]


def test_tail_returns_only_new_events(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = Tail(path)
    assert tail.poll() == []  # no file yet
    with EventWriter(path, "r") as w:
        w.emit("log", message="1")
        assert [e["message"] for e in tail.poll()] == ["1"]
        w.emit("log", message="2")
        w.emit("log", message="3")
        assert [e["message"] for e in tail.poll()] == ["2", "3"]
    assert tail.poll() == [] and tail.seen == 3


def test_readers_keep_their_old_shape(tmp_path):
    """(events, offset) as before; the events list also says what it skipped."""
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"t": 1, "run": "r", "type": "log", "message": "a"}) + "\n{oops\n")
    events, offset = read_events(path)
    assert events == [{"t": 1, "run": "r", "type": "log", "message": "a"}] and isinstance(events, list)
    assert offset == path.stat().st_size and events.damaged == 1
    assert read_events(tmp_path / "none.jsonl") == ([], 0)
    assert parse_lines(b"") == ([], 0) and parse_lines(b"\n\n  \n")[0].damaged == 0


def test_what_the_engine_writes_passes_unchanged(tmp_path):
    """Every event of the recorded runs and of the writers' own shapes fits the schema as written:
    nothing a healthy run writes is dropped or trimmed (a mean over no language, NaN, reads as null)."""
    recorded = sorted((Path(__file__).resolve().parent / "data" / "runs").glob("*/events.jsonl"))
    assert recorded
    seen = set()
    for file in recorded:
        lines = [json.loads(x) for x in file.read_text().splitlines() if x.strip()]
        events, _ = read_events(file)
        assert events == lines and (events.damaged, events.repaired) == (0, 0), file
        seen |= {e["type"] for e in events}
    assert {"started", "phase", "data", "progress", "metrics", "pools", "agreement", "checkpoint", "log",
            "finished", "failed", "stopped"} <= seen
    path = tmp_path / "events.jsonl"
    with EventWriter(path, "r") as w:
        w.emit("resumed", pid=3, host="h", config={"name": "x"})
        w.emit("phase", phase="train", model="lm", round=0, examples=10, epochs=1, stage=2)
        w.emit("progress", model="lm", round=0, stage=2, epoch=0, epochs=1, step=1, total=2,
               losses={"ce": 0.5, "sa": 1.25}, samples_per_s=3.5, lr=1e-5, eta_s=0.0)
        w.emit("metrics", round=0, model="lm", split="test", metric="accuracy", values={"en": 0.5}, mean=float("nan"))
        w.emit("agreement", round=0, pair=["lm", "emb"], rate=None, by_lang={}, items=0)
        w.emit("pools", round=0, U_lm=1, D_lm=2, C_lm=3, S_lm=0, precision={"S_lm": None})
        w.emit("failed", error="OSError", message="disk", hint=None, resumable=True)
    events, _ = read_events(path)
    assert len(events) == 7 and (events.damaged, events.repaired) == (0, 0)
    assert events[3]["mean"] is None and events[4]["rate"] is None


def test_every_known_type_has_a_schema():
    from engine.events import KNOWN_TYPES

    assert set(SCHEMA) == KNOWN_TYPES


def test_check_event_for_events_from_elsewhere():
    ev = {"type": "progress", "step": "x", "total": 4, "losses": {"ce": "?", "la": 0.5}}
    assert check_event(ev) == {"type": "progress", "total": 4, "losses": {"la": 0.5}}
    assert check_event({"type": "metrics", "model": "lm", "round": 0, "split": "test"}) is None
    assert check_event(["x"]) is None and check_event({"type": "from_the_future"}) is None
