"""Deadline worker: escalates overdue cases once per breach and auto-closes verified ones.

python -m followup_service.cli worker [--interval 30]

Safe with several replicas: each case is handled in its own transaction holding its
read-model row with FOR UPDATE SKIP LOCKED, so two workers never take the same case
at once, and the append's expected version (plus the breaches the case remembers)
stops a late duplicate from escalating twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from followup_service import handlers
from followup_service.bootstrap import Followup
from followup_service.metrics import count_deadline_events
from followup_service.tables import cases, metadata
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.consumer import OffsetStore
from shared.eventstore.kafka_io import redelivery_horizon
from shared.eventstore.store import ConcurrencyError
from shared.outage import unavailable_part

log = logging.getLogger(__name__)


def sweep(fu: Followup, limit: int = 1000) -> int:
    """Handle every case whose next deadline has passed at fu.clock(); returns events written."""
    written, seen = 0, set()
    while len(seen) < limit:
        now, touched = fu.clock(), {}
        try:
            with fu.engine.begin() as conn:
                query = (
                    select(cases.c.case_id)
                    .where(cases.c.next_deadline_at <= now)
                    .order_by(cases.c.next_deadline_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if seen:
                    query = query.where(cases.c.case_id.not_in(seen))
                case_id = conn.execute(query).scalar()
                if case_id is None:
                    return written
                seen.add(case_id)
                events = handlers.enforce_deadlines(fu, conn, case_id, touched)
        except ConcurrencyError:
            log.info("case %s changed while its deadline was handled; next sweep retries", case_id)
            continue
        written += len(events)
        count_deadline_events(events)  # committed: counted once
        handlers.refresh_cache(fu, touched)  # committed: readers trust the cache
    return written


PRUNE_EVERY = timedelta(minutes=10)
PRUNE_MARGIN = timedelta(days=1)  # beyond the broker's own horizon: clocks, slow cleaners


def prune_processed(fu: Followup, group_id: str, margin: timedelta = PRUNE_MARGIN) -> int:
    """Forget the intake consumer's processed ids that Kafka can no longer redeliver:
    older than the intake topic's retention + segment roll (asked of the broker) plus a
    margin. A topic that keeps records forever keeps every id."""
    horizon = redelivery_horizon(
        fu.settings.kafka_bootstrap_servers, [fu.settings.topic(INTAKE_EVENTS)]
    )
    if horizon is None:
        return 0
    cutoff = datetime.now(UTC) - horizon - margin
    with fu.engine.begin() as conn:
        pruned = OffsetStore(metadata, group_id).prune(conn, cutoff)
    if pruned:
        log.info("pruned %d processed event ids older than %s", pruned, cutoff.isoformat())
    return pruned


CREDENTIALS_CHECK_EVERY = 1.0  # seconds: how soon an emptied Redis gets its credentials back


def run_worker(
    fu: Followup, stop: threading.Event, interval: float = 30.0, group_id: str | None = None
) -> None:
    """Sweep until stop is set. Each round also rewrites the credential cache in Redis
    (standings and revocations, from the durable record), and every second the worker
    checks that the cache is still complete, rebuilding it at once if Redis lost it (until
    then both services answer staff requests with 503). Every PRUNE_EVERY the consumer's
    processed ids are pruned. A part that is away (database, Redis) is waited for."""
    from followup_service.accounts.service import AccountService
    from shared.web_auth import make_tokens

    accounts = AccountService(fu, make_tokens(fu.settings, fu.redis))
    pruned_at, swept_at = None, None
    while not stop.is_set():
        if swept_at is None or time.monotonic() - swept_at >= interval:
            swept_at = time.monotonic()
            _attempt("deadline sweep", lambda: _sweep_and_log(fu))
            _attempt("publishing the credential cache", accounts.publish_all)
            _attempt("refreshing the report cards", lambda: _refresh_report_cards(fu))
            _attempt("deleting removed photos' blobs", lambda: _delete_photo_blobs(fu))
        else:
            _attempt("checking the credential cache", accounts.rebuild_credentials)
        prune_due = pruned_at is None or datetime.now(UTC) - pruned_at >= PRUNE_EVERY
        if group_id and prune_due and _attempt("pruning", lambda: prune_processed(fu, group_id)):
            pruned_at = datetime.now(UTC)
        stop.wait(min(interval, CREDENTIALS_CHECK_EVERY))


def _refresh_report_cards(fu: Followup) -> None:
    """The public report cards (/rapor), when cases changed or the clock moved on."""
    from followup_service.report_cards.store import refresh_if_due

    refresh_if_due(fu.engine, fu.rules, fu.clock())


_photo_store = None  # made at first use: a store that is away at start is waited for


def _delete_photo_blobs(fu: Followup) -> None:
    """Blobs of removed photos the API could not delete at once (the store was away)."""
    global _photo_store
    from followup_service.photos import blobs
    from shared.photos.store import store_from_env

    if _photo_store is None:
        _photo_store = store_from_env(prefix="FOLLOWUP_")
    deleted = blobs.delete_due(fu.engine, _photo_store, fu.clock())
    if deleted:
        log.info("deleted %d removed photos' blobs", deleted)


def _sweep_and_log(fu: Followup) -> None:
    count = sweep(fu)
    if count:
        log.info("deadline sweep wrote %d events", count)


def _attempt(what: str, work) -> bool:
    """Run one duty of the worker; a failure is logged and retried next round."""
    try:
        work()
        return True
    except Exception as exc:
        part = unavailable_part(exc)
        if part:
            log.warning("%s: %s unavailable (%s); retrying", what, part, type(exc).__name__)
        else:
            log.exception("%s failed; retrying", what)
        return False
