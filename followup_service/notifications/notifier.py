"""The notifier's consumer: case events -> one outbox row per (event, subscriber).

It reads `<prefix>.followup.case-events` with its own consumer group
(`<prefix>.followup.notifier`), through shared.eventstore.consumer.ConsumerRunner: the
offsets and processed event ids live in the follow-up database and are written in the
same transaction as the outbox rows, so a redelivered event adds nothing.

When it meets a CaseOpened it asks intake for the reporter's sealed `notify` request
(intake_client.py) and stores it as a subscription in the same transaction; once that
committed it asks intake to erase its copy. A sub-case of a split inherits its parent's
subscribers. CaseClosed sets the subscriptions' erasure time (retention after closing),
CaseReopened clears it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Connection, select

from followup_service.notifications import store
from followup_service.notifications.domain import NOTIFIED, CaseFacts, Links, message_for
from followup_service.notifications.intake_client import IntakeNotifyRequests
from followup_service.notifications.settings import NotifySettings
from followup_service.tables import cases
from shared.contact_cipher import ContactCipher
from shared.events.envelope import EventEnvelope

log = logging.getLogger(__name__)

NOTIFIER_GROUP = "followup.notifier"


def notifier_group(settings) -> str:
    return f"{settings.topic_prefix}.{NOTIFIER_GROUP}"


class NotifyOnCaseEvents:
    """The ConsumerRunner handler (handle_batch, after_commit, after_rollback)."""

    def __init__(
        self,
        cipher: ContactCipher,
        settings: NotifySettings,
        intake: IntakeNotifyRequests | None,
    ):
        self.cipher = cipher
        self.settings = settings
        self.intake = intake
        self._taken: list[str] = []

    def handle_batch(self, conn: Connection, envelopes: list[EventEnvelope]) -> None:
        for envelope in envelopes:
            if envelope.event_type == "CaseOpened":
                self._open(conn, envelope)
        notified = [e for e in envelopes if e.event_type in NOTIFIED]
        case_ids = sorted({e.payload["case_id"] for e in notified})
        followers = store.subscribers(conn, case_ids)
        facts = _case_facts(conn, [c for c in case_ids if c in followers])
        rows = []
        for envelope in envelopes:
            case_id = envelope.payload.get("case_id")
            if envelope.event_type == "CaseClosed":
                keep = timedelta(days=self.settings.retention_days)
                store.set_erasure(conn, [case_id], envelope.occurred_at + keep)
            elif envelope.event_type == "CaseReopened":
                store.set_erasure(conn, [case_id], None)
            if envelope.event_type not in NOTIFIED or case_id not in facts:
                continue
            for sub in followers.get(case_id, []):
                message = message_for(
                    envelope.event_type,
                    envelope.payload,
                    facts[case_id],
                    sub.language,
                    self._links(facts[case_id].tracking_code, sub.token),
                    sub.channel,
                )
                if message is None:
                    continue
                rows.append(
                    store.outbox_row(
                        event_id=str(envelope.event_id),
                        subscription=sub,
                        event_type=envelope.event_type,
                        subject=message.subject,
                        body=message.body,
                        now=_in_order(envelope),
                    )
                )
        store.enqueue(conn, rows)

    def _links(self, code: str, token: str) -> Links:
        base = self.settings.public_base_url
        return Links(
            case=f"{base}/lacak/{code}",
            unsubscribe=f"{base}/kabar/{token}/berhenti",
            confirm=f"{base}/kabar/{token}/selesai",
            dispute=f"{base}/kabar/{token}/bantah",
        )

    def _open(self, conn: Connection, envelope: EventEnvelope) -> None:
        payload = envelope.payload
        now = envelope.recorded_at
        if payload.get("parent_id"):
            store.copy_subscriptions(conn, payload["parent_id"], payload["case_id"], now)
            return
        if self.intake is None:
            return
        sealed = self.intake.take(payload["aspiration_id"])
        if sealed is None:
            return
        contact = self.cipher.open(sealed)
        store.subscribe(
            conn,
            case_id=payload["case_id"],
            channel=contact["channel"],
            language=contact.get("language") or "id",
            sealed_contact=self.cipher.seal(contact),
            contact_digest=self.cipher.digest(contact["address"]),
            source="intake",
            now=now,
        )
        self._taken.append(payload["aspiration_id"])

    def after_commit(self) -> None:
        taken, self._taken = self._taken, []
        for aspiration_id in taken:
            try:
                self.intake.forget(aspiration_id)
            except Exception:  # noqa: BLE001 - intake erases leftovers after the retention
                log.warning("intake kept a notify request it was asked to erase")

    def after_rollback(self) -> None:
        self._taken = []


def _in_order(envelope: EventEnvelope):
    """The outbox row's time, which orders the sender: when the event was recorded, plus
    its stream version in microseconds, so events recorded in one transaction (the same
    time) still go out in their case's order."""
    return envelope.recorded_at + timedelta(microseconds=envelope.stream_version)


def _case_facts(conn: Connection, case_ids: list[str]) -> dict[str, CaseFacts]:
    if not case_ids:
        return {}
    rows = conn.execute(
        select(
            cases.c.case_id,
            cases.c.tracking_code,
            cases.c.sensitive,
            cases.c.agency_id,
            cases.c.agency_name,
        ).where(cases.c.case_id.in_(case_ids))
    ).all()
    return {row.case_id: CaseFacts(*row[1:]) for row in rows}


def main(followup, stop) -> None:
    """`python -m followup_service.cli notifier`: the consumer here, the sender in a thread."""
    import threading

    from followup_service.notifications.channels import configured_channels
    from followup_service.notifications.sender import (
        NOTIFIER_METRICS,
        QueueAgeCollector,
        Sender,
    )
    from followup_service.tables import metadata
    from shared.events.topics import CASE_EVENTS
    from shared.processes import run_consumer

    settings = followup.settings
    notify = NotifySettings.from_env()
    cipher = ContactCipher.from_env()
    channels, skipped = configured_channels(notify)
    for line in skipped:
        log.warning("notifier: channel skipped (%s)", line)
    log.info("notifier: channels %s", ", ".join(channels) or "none")
    intake = None
    if settings.intake_url:
        intake = IntakeNotifyRequests(settings.intake_url, cipher)
    else:
        log.warning("notifier: FOLLOWUP_INTAKE_URL not set; reporters' notify requests unread")
    sender = Sender(followup.engine, cipher, channels, notify, intake=intake)
    thread = threading.Thread(target=sender.run, args=(stop,), name="notification-sender")
    thread.start()
    try:
        run_consumer(
            settings,
            followup.engine,
            metadata,
            [settings.topic(CASE_EVENTS)],
            notifier_group(settings),
            NotifyOnCaseEvents(cipher, notify, intake),
            stop,
            collectors=(*NOTIFIER_METRICS, QueueAgeCollector(followup.engine)),
            # the case-events topic is often created at the same moment by the relay: a
            # group joined before its partitions had leaders is assigned nothing until
            # the next metadata refresh (kafka-python: 5 minutes), so refresh every 5 s
            consumer_config={"metadata_max_age_ms": 5_000},
        )
    finally:
        stop.set()
        thread.join(timeout=30)
