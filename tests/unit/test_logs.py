"""Log lines one aspiration can be followed by (shared/logs.py), in both formats."""

import io
import json
import logging

from shared import logs


def _line(fmt: str, monkeypatch, **extra) -> str:
    monkeypatch.setenv("LOG_FORMAT", fmt)
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logs.configure("intake", "relay", stream=stream)
        with logs.bound(request_id="req-1"):
            logging.getLogger("test").info("relay: published 2 events", extra=extra)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return stream.getvalue().strip()


def test_a_batch_line_names_every_chain_it_carries_in_json_and_on_the_console(monkeypatch):
    extra = {"correlation_ids": ["chain-a", "chain-b"]}
    record = json.loads(_line("json", monkeypatch, **extra))
    assert record["correlation_ids"] == ["chain-a", "chain-b"]
    assert (record["service"], record["process"], record["request_id"]) == (
        "intake",
        "relay",
        "req-1",
    )
    console = _line("console", monkeypatch, **extra)
    assert "correlation_ids=chain-a,chain-b" in console
    assert "request_id=req-1" in console
