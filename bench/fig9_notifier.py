"""Figure 9: the notifier's sender, messages/s from its outbox to a local SMTP server
(aiosmtpd, as run.sh's sink), beside raw smtplib sending the same messages over one
connection to the same server. The sender does per message what raw smtplib does not:
claims the batch in PostgreSQL, opens the sealed contact (Fernet) and commits `sent`."""

from __future__ import annotations

import smtplib
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

from bench.core import Bench, Row, free_port


def run(bench: Bench) -> None:
    from cryptography.fernet import Fernet

    from followup_service.notifications import smtp_sink, store
    from followup_service.notifications.channels import EmailChannel
    from followup_service.notifications.sender import Sender
    from followup_service.notifications.settings import NotifySettings
    from shared.contact_cipher import ContactCipher
    from shared.db import make_engine

    p = bench.preset
    count = max(200, min(5000, p.relay_events // 20))
    engine = make_engine(bench.create_database("followup"))
    sink = smtp_sink.start("127.0.0.1", free_port())
    cipher = ContactCipher(Fernet.generate_key().decode())
    settings = NotifySettings(
        smtp_host="127.0.0.1", smtp_port=sink.port, quiet_hours="off", sender_batch=100
    )
    body = "Aspirasi Anda KA-TEST-01 diteruskan ke Dinas Perhubungan.\n\nLacak: http://x/lacak/KA"
    sealed = cipher.seal({"address": "warga@example.org", "channel": "email", "language": "id"})

    def fill() -> None:
        now = datetime.now(UTC)
        rows = []
        for _ in range(count):
            sub = store.Subscription(str(uuid.uuid4()), "case-bench", "email", "id", sealed, "t")
            rows.append(
                store.outbox_row(
                    event_id=str(uuid.uuid4()),
                    subscription=sub,
                    event_type="CaseRouted",
                    subject="[KA-TEST-01] Diteruskan",
                    body=body,
                    now=now,
                )
            )
        with engine.begin() as conn:
            store.enqueue(conn, rows)

    def notifier() -> float:
        fill()
        sender = Sender(engine, cipher, {"email": EmailChannel(settings)}, settings)
        received = len(sink.sink.messages)
        started = time.perf_counter()
        while sender.send_once():
            pass
        elapsed = time.perf_counter() - started
        sender.channels["email"].close()
        assert len(sink.sink.messages) - received == count
        return count / elapsed

    def raw() -> float:
        received = len(sink.sink.messages)
        started = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", sink.port)
        for n in range(count):
            message = EmailMessage()
            message["From"] = settings.smtp_from
            message["To"] = "warga@example.org"
            message["Subject"] = "[KA-TEST-01] Diteruskan"
            message["Message-ID"] = f"<raw-{n}@kawal-aspirasi>"
            message.set_content(body)
            smtp.send_message(message)
        smtp.quit()
        elapsed = time.perf_counter() - started
        assert len(sink.sink.messages) - received == count
        return count / elapsed

    try:
        results = bench.repeat(lambda: {"notifier": notifier(), "raw": raw()})
    finally:
        sink.stop()
        engine.dispose()
    bench.add(
        Row(
            "9",
            "notifier sender -> SMTP sink (claim, open contact, send, mark sent)",
            "msgs/s",
            results["notifier"],
            "raw smtplib, one connection, same messages and server",
            results["raw"],
            params={"messages_per_run": count, "sender_batch": settings.sender_batch},
        )
    )
