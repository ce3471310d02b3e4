"""The event stream: whole lines, flushed; readers skip torn lines and unknown types."""
from __future__ import annotations

import json

from engine.events import EventWriter, Tail, read_events


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
