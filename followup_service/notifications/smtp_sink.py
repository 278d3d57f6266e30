"""A local SMTP server (aiosmtpd) that keeps every message it gets: for run.sh and tests.

    python -m followup_service.notifications.smtp_sink --port 8025 --dir .local/mail

Each message is written as one file, `<UTC time>-<n>.eml`, under --dir; nothing leaves the
machine. It is a development tool (aiosmtpd is in the dev extra): production points
SMTP_HOST at a real mail server.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy


class MailSink:
    """aiosmtpd handler: keeps each message in memory and, with a directory, on disk."""

    def __init__(self, directory: str | None = None):
        self.directory = directory
        self.messages: list = []  # email.message.EmailMessage, in arrival order
        self._lock = threading.Lock()
        self._count = 0
        if directory:
            os.makedirs(directory, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        with self._lock:
            self._count += 1
            self.messages.append(message)
            n = self._count
        if self.directory:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
            path = os.path.join(self.directory, f"{stamp}-{n:06d}.eml")
            with open(path, "wb") as out:
                out.write(raw)
        return "250 Message accepted for delivery"


def start(host: str, port: int, directory: str | None = None):
    """A running aiosmtpd Controller with a MailSink; call .stop() on it when done."""
    from aiosmtpd.controller import Controller

    sink = MailSink(directory)
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    controller.sink = sink
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smtp_sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_PORT", 8025)))
    parser.add_argument("--dir", default=os.path.join(".local", "mail"))
    args = parser.parse_args(argv)
    controller = start(args.host, args.port, args.dir)
    print(f"SMTP sink on {args.host}:{args.port}, each message a file in {args.dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
