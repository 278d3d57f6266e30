"""Delivers the notification outbox: claim, send, mark; retries with backoff, dead letters.

Each outbox row is one (event, subscriber): the notifier wrote it once, whatever Kafka
redelivered. The sender claims due rows (status `sending`, a lease of
NOTIFY_LEASE_SECONDS, committed before it talks to a provider), sends each and marks it
`sent` in its own short transaction. A row whose sender died keeps `sending` until its
lease runs out and is then tried again: the one window where a message can go twice is
between the provider's acceptance and that commit (one database round trip); email
carries the same Message-ID both times.

A failure the channel calls temporary (429, 5xx, a lost connection) is tried again after
domain.retry_delay (exponential, jittered, at least the provider's Retry-After); after
NOTIFY_MAX_ATTEMPTS, or at once for a permanent failure (401, a refused address), the
row becomes a dead letter: `followup_service.cli notifications dead-letters` lists and
replays them. WhatsApp and SMS rows wait out the quiet hours; email goes any time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from followup_service.notifications import store
from followup_service.notifications.channels import Channel, ChannelError, Outgoing
from followup_service.notifications.domain import CHANNELS, QuietHours, quiet_channel, retry_delay
from followup_service.notifications.settings import NotifySettings
from shared.contact_cipher import ContactCipher
from shared.outage import unavailable_part

log = logging.getLogger(__name__)

SENT = Counter("kawal_notifications_sent", "Messages a provider accepted, by channel", ["channel"])
FAILED = Counter("kawal_notifications_failed", "Send attempts that failed, by channel", ["channel"])
RETRIED = Counter(
    "kawal_notifications_retried",
    "Failed sends scheduled to be tried again, by channel",
    ["channel"],
)
DEAD_LETTERED = Counter(
    "kawal_notifications_dead_lettered",
    "Messages given up on (dead-letter list), by channel",
    ["channel"],
)
for _channel in CHANNELS:  # label values from a fixed set only: never an address
    for _metric in (SENT, FAILED, RETRIED, DEAD_LETTERED):
        _metric.labels(channel=_channel)


class QueueAgeCollector(Collector):
    """kawal_notification_queue_age_seconds{channel}: the oldest unsent message's wait."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        family = GaugeMetricFamily(
            "kawal_notification_queue_age_seconds",
            "Seconds the oldest unsent notification has waited, by channel",
            labels=["channel"],
        )
        try:
            with self.engine.connect() as conn:
                ages = store.queue_ages(conn, datetime.now(UTC))
        except Exception:  # noqa: BLE001 - a scrape during a database outage shows nothing
            ages = None
        if ages is not None:
            for channel in CHANNELS:
                family.add_metric([channel], ages.get(channel, 0.0))
        yield family

    def describe(self):
        return []


NOTIFIER_METRICS = (SENT, FAILED, RETRIED, DEAD_LETTERED)


class Sender:
    def __init__(
        self,
        engine: Engine,
        cipher: ContactCipher,
        channels: dict[str, Channel],
        settings: NotifySettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        intake=None,  # intake_client.IntakeNotifyRequests: erase its untaken requests too
    ):
        self.engine = engine
        self.cipher = cipher
        self.channels = channels
        self.settings = settings
        self.quiet = QuietHours.parse(settings.quiet_hours)
        self.clock = clock
        self.intake = intake
        self._last_erasure = datetime.min.replace(tzinfo=UTC)

    def open_channels(self, now: datetime) -> list[str]:
        """Configured channels that may send now (quiet hours hold WhatsApp and SMS)."""
        return [
            name
            for name in self.channels
            if not (self.quiet and quiet_channel(name) and self.quiet.is_quiet(now))
        ]

    def send_once(self) -> int:
        """Claim and deliver one batch; returns how many were claimed."""
        now = self.clock()
        lease = timedelta(seconds=self.settings.lease_seconds)
        with self.engine.begin() as conn:
            batch = store.claim_due(
                conn, now, self.open_channels(now), self.settings.sender_batch, lease
            )
        for n, due in enumerate(batch):
            if self.clock() - now > lease / 2:
                # a slow provider: give the rest back before another sender could take
                # them (their lease running out) while this one still means to send them
                with self.engine.begin() as conn:
                    store.release(conn, batch[n:], self.clock())
                return n
            self._deliver(due)
        return len(batch)

    def _deliver(self, due: store.Due) -> None:
        channel = self.channels[due.channel]
        unsubscribe = (
            f"{self.settings.public_base_url}/kabar/{due.token}/berhenti" if due.token else None
        )
        outgoing = Outgoing(
            message_id=f"{due.event_id}.{due.subscription_id}",
            subject=due.subject,
            body=due.body,
            language=due.language,
            unsubscribe_url=unsubscribe if due.channel == "email" else None,
            tracking_code=due.subject[1:].split("]", 1)[0],
        )
        try:
            address = self.cipher.open(due.sealed_contact)["address"]
            channel.send(address, outgoing)
        except ChannelError as exc:
            FAILED.labels(channel=due.channel).inc()
            self._failed(due, exc)
            return
        except ValueError:  # a contact sealed with a key this process does not hold
            FAILED.labels(channel=due.channel).inc()
            self._failed(due, ChannelError("contact does not open", retry=False))
            return
        with self.engine.begin() as conn:
            store.mark_sent(conn, due, self.clock())
        SENT.labels(channel=due.channel).inc()

    def _failed(self, due: store.Due, exc: ChannelError) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            if exc.retry and due.attempts < self.settings.max_attempts:
                delay = retry_delay(
                    due.attempts,
                    self.settings.backoff_base,
                    self.settings.backoff_cap,
                    exc.retry_after,
                )
                store.mark_retry(conn, due, now + timedelta(seconds=delay), exc.reason)
                RETRIED.labels(channel=due.channel).inc()
                log.warning(
                    "notification %s via %s failed (%s); attempt %d, again in %.1fs",
                    due.event_id,
                    due.channel,
                    exc.reason,
                    due.attempts,
                    delay,
                )
            else:
                store.mark_dead(conn, due, exc.reason)
                DEAD_LETTERED.labels(channel=due.channel).inc()
                log.error(
                    "notification %s via %s dead-lettered after %d attempts (%s)",
                    due.event_id,
                    due.channel,
                    due.attempts,
                    exc.reason,
                )

    def erase_expired(self) -> int:
        """Erase subscriptions past their retention here, and have intake erase requests
        no case took within it; returns how many subscriptions were erased."""
        with self.engine.begin() as conn:
            erased = store.erase_due(conn, self.clock())
        if self.intake is not None:
            try:
                self.intake.erase_stale(self.settings.retention_days)
            except Exception:  # noqa: BLE001 - tried again at the next sweep
                log.warning("intake could not erase stale notify requests yet")
        return erased

    def run(self, stop: threading.Event) -> None:
        backoff = self.settings.sender_interval
        while not stop.is_set():
            try:
                now = self.clock()
                if now - self._last_erasure > timedelta(seconds=self.settings.erase_interval):
                    erased = self.erase_expired()
                    self._last_erasure = now
                    if erased:
                        log.info("erased %d contacts past their retention", erased)
                claimed = self.send_once()
                backoff = self.settings.sender_interval
                if not claimed:
                    stop.wait(self.settings.sender_interval)
            except Exception as exc:
                part = unavailable_part(exc)
                if part:
                    log.warning("notification sender: %s unavailable; waiting", part)
                else:
                    log.exception("notification sender failed; retrying")
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        for channel in self.channels.values():
            channel.close()
