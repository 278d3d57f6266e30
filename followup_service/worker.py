"""Deadline worker: escalates overdue cases once per breach and auto-closes verified ones.

python -m followup_service.cli worker [--interval 30] [--keep-hours 360]

It also keeps the consumer's bookkeeping bounded: once an hour it forgets the processed
event ids older than the intake topic can redeliver (prune_processed_events).

Safe with several replicas: each case is handled in its own transaction holding its
read-model row with FOR UPDATE SKIP LOCKED, so two workers never take the same case
at once, and the append's expected version (plus the breaches the case remembers)
stops a late duplicate from escalating twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from followup_service import handlers
from followup_service.bootstrap import Followup
from followup_service.tables import cases, metadata
from shared.eventstore.consumer import PROCESSED_IDS_KEPT, prune_processed_events
from shared.eventstore.store import ConcurrencyError

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds between prunes of processed event ids


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
                written += len(handlers.enforce_deadlines(fu, conn, case_id, touched))
        except ConcurrencyError:
            log.info("case %s changed while its deadline was handled; next sweep retries", case_id)
            continue
        handlers.refresh_cache(fu, touched)  # committed: readers trust the cache
    return written


def run_worker(
    fu: Followup,
    stop: threading.Event,
    interval: float = 30.0,
    keep_processed: timedelta = PROCESSED_IDS_KEPT,
    prune_every: float = PRUNE_EVERY,
) -> None:
    """Sweep until stop is set; prune processed ids at start and every prune_every seconds."""
    next_prune = time.monotonic()
    while not stop.is_set():
        try:
            count = sweep(fu)
            if count:
                log.info("deadline sweep wrote %d events", count)
        except Exception:
            log.exception("deadline sweep failed; retrying")
        if time.monotonic() >= next_prune:
            next_prune = time.monotonic() + prune_every
            try:
                pruned = prune_processed_events(fu.engine, metadata, keep_processed)
                if pruned:
                    log.info("forgot %d processed event ids older than %s", pruned, keep_processed)
            except Exception:
                log.exception("pruning processed event ids failed; next prune retries")
        stop.wait(interval)
