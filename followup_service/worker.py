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

from sqlalchemy import select

from followup_service import handlers
from followup_service.bootstrap import Followup
from followup_service.tables import cases
from shared.eventstore.store import ConcurrencyError

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
                written += len(handlers.enforce_deadlines(fu, conn, case_id, touched))
        except ConcurrencyError:
            log.info("case %s changed while its deadline was handled; next sweep retries", case_id)
            continue
        handlers.refresh_cache(fu, touched)  # committed: readers trust the cache
    return written


def run_worker(fu: Followup, stop: threading.Event, interval: float = 30.0) -> None:
    """Sweep until stop is set; each round also rewrites the accounts' standing in Redis,
    so a Redis that lost its data refuses no one for longer than one interval."""
    from followup_service.accounts import AccountService
    from shared.web_auth import make_tokens

    accounts = AccountService(fu, make_tokens(fu.settings, fu.redis))
    while not stop.is_set():
        try:
            count = sweep(fu)
            if count:
                log.info("deadline sweep wrote %d events", count)
        except Exception:
            log.exception("deadline sweep failed; retrying")
        try:
            accounts.publish_all()
        except Exception:
            log.exception("publishing account standing failed; retrying")
        stop.wait(interval)
