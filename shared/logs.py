"""Logs one aspiration can be followed by, across both services and every process.

Each record is one JSON line (``LOG_FORMAT=json``, the default): time, level, service,
process, logger, message, and what the record is about: ``request_id`` (an incoming
``X-Request-ID`` or a new one, see shared/web.py), ``correlation_id`` (the request id
that started the chain: stored on every event the request appends, carried by follow-up
onto the events it derives), ``aspiration_id``, ``case_id``, ``event_ids`` where known;
a batch (the relay's, a consumer's poll) lists its ``correlation_ids``.
``LOG_FORMAT=console`` (run.sh) prints the same fields as readable text.

The context is kept in a ContextVar, so threads and requests never mix their ids; a
field given in ``extra=`` wins over the context.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

FIELDS = (
    "request_id",
    "correlation_id",
    "correlation_ids",
    "aspiration_id",
    "case_id",
    "event_ids",
)
_context: ContextVar[dict] = ContextVar("kawal_log_context", default={})  # noqa: B039


def current(name: str) -> str | None:
    """A field of the current context (e.g. the request id of the request being served)."""
    return _context.get().get(name)


@contextlib.contextmanager
def bound(**fields):
    """Add fields to the context of every record logged inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields):
    """Add fields for the rest of the current context (a request); returns the reset token."""
    return _context.set({**_context.get(), **{k: v for k, v in fields.items() if v}})


def unbind(token) -> None:
    _context.reset(token)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str, process: str):
        super().__init__()
        self.service, self.process = service, process

    def filter(self, record: logging.LogRecord) -> bool:
        record.service, record.process_name = self.service, self.process
        context = _context.get()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "process": getattr(record, "process_name", None),
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _console_value(value) -> str:
    """A batch's ids as a,b,c (the relay's and consumer's lines name every chain they carry)."""
    return ",".join(map(str, value)) if isinstance(value, list | tuple | set) else str(value)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={_console_value(getattr(record, name))}"
            for name in (
                "request_id",
                "correlation_id",
                "correlation_ids",
                "aspiration_id",
                "case_id",
            )
            if getattr(record, name, None)
        )
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        text = f"{when} {getattr(record, 'service', '')} {getattr(record, 'process_name', '')} "
        text += f"{record.levelname} {record.getMessage()}" + (f"  [{ids}]" if ids else "")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(service: str, process: str, stream=None) -> None:
    """Send every record to stderr, one line each, in LOG_FORMAT (json or console) at
    LOG_LEVEL (INFO). Replaces whatever handlers the root logger had."""
    handler = logging.StreamHandler(stream or sys.stderr)
    console = os.environ.get("LOG_FORMAT", "json").lower() == "console"
    handler.setFormatter(ConsoleFormatter() if console else JsonFormatter())
    handler.addFilter(_ContextFilter(service, process))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is connection chatter


def configure_once(service: str, process: str) -> None:
    """Configure unless something (a test runner, a host process) already did."""
    if not logging.getLogger().handlers:
        configure(service, process)
