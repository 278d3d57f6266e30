"""Deleting a removed photo's blob, so that an erasure request is honoured even when the
store is away at the moment of the removal.

The removal's transaction (handlers.remove_photo) records the PhotoRemoved event and
queues the blob here (`request_deletion`), unless another case photo still names the
same content (blobs are stored by sha256). Right after the commit the API asks the store
(`delete_due(only=...)`); when that fails, or the process dies first, the worker asks
again every round with backoff (`delete_due`) until the store has deleted it. Deleting
twice is harmless, so a retry after a lost answer is too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.photos import StoreUnavailable
from shared.photos.store import PhotoStore, delete_photo

log = logging.getLogger(__name__)

DELETED = Counter(
    "kawal_photo_blobs_deleted", "Blobs of removed photos deleted from the photo store"
)
DEFERRED = Counter(
    "kawal_photo_blob_deletions_deferred",
    "Blob deletions the store could not do yet (tried again later)",
)
BACKOFF_CAP = timedelta(hours=1)


def _tables():
    from followup_service.tables import case_photos, photo_blob_deletions

    return case_photos, photo_blob_deletions


def _still_named(conn: Connection, sha256: str) -> bool:
    case_photos, _ = _tables()
    query = select(case_photos.c.photo_id).where(case_photos.c.sha256 == sha256).limit(1)
    return conn.execute(query).first() is not None


def request_deletion(conn: Connection, sha256: str, now: datetime) -> bool:
    """Queue the blob for deletion unless a case photo still names it; in the caller's
    transaction (after the removal was projected). Returns whether it was queued."""
    if _still_named(conn, sha256):
        return False
    _, queue = _tables()
    conn.execute(
        insert(queue)
        .values(sha256=sha256, requested_at=now, attempts=0, next_attempt_at=now)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return True


def pending(conn: Connection) -> int:
    _, queue = _tables()
    return len(conn.execute(select(queue.c.sha256)).all())


def delete_due(
    engine: Engine, store: PhotoStore, now: datetime, only: str | None = None, limit: int = 100
) -> int:
    """Delete the queued blobs that are due (or just `only`); returns how many went. A
    blob named again since (the same content attached anew) is dropped from the queue, not
    deleted. A store that is away leaves the row for later, with exponential backoff."""
    _, queue = _tables()
    query = select(queue).where(queue.c.next_attempt_at <= now).limit(limit)
    if only is not None:
        query = select(queue).where(queue.c.sha256 == only)
    with engine.connect() as conn:
        due = conn.execute(query).all()
    deleted = 0
    for row in due:
        with engine.begin() as conn:
            claimed = conn.execute(  # one deleter at a time per blob (API and worker)
                select(queue.c.sha256)
                .where(queue.c.sha256 == row.sha256)
                .with_for_update(skip_locked=True)
            ).first()
            if claimed is None:
                continue
            if not _still_named(conn, row.sha256):
                try:
                    delete_photo(store, row.sha256)
                except StoreUnavailable as exc:
                    delay = min(timedelta(seconds=2 ** min(row.attempts, 12)), BACKOFF_CAP)
                    conn.execute(
                        update(queue)
                        .where(queue.c.sha256 == row.sha256)
                        .values(
                            attempts=row.attempts + 1,
                            next_attempt_at=now + delay,
                            last_error=str(exc)[:200],
                        )
                    )
                    DEFERRED.inc()
                    log.warning(
                        "removed photo's blob %s… not deleted yet (%s); again in %ds",
                        row.sha256[:12],
                        exc,
                        delay.total_seconds(),
                    )
                    continue
                DELETED.inc()
                deleted += 1
            conn.execute(delete(queue).where(queue.c.sha256 == row.sha256))
    return deleted
