"""SQL over the notification tables: subscriptions, confirmations, the outbox, erasure."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from followup_service.tables import metadata

SUBSCRIPTIONS = metadata.tables["notify_subscriptions"]
CODE_MESSAGE = "-"  # the subscription id of a one-time code's message (no subscription yet)
CONFIRMATIONS = metadata.tables["notify_confirmations"]
OUTBOX = metadata.tables["notification_outbox"]


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    case_id: str
    channel: str
    language: str
    sealed_contact: str
    token: str


@dataclass(frozen=True)
class Due:
    """A message the sender may deliver now."""

    event_id: str
    subscription_id: str
    case_id: str
    channel: str
    language: str
    event_type: str
    subject: str
    body: str
    sealed_contact: str
    attempts: int
    created_at: datetime
    token: str | None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def subscribe(
    conn: Connection,
    *,
    case_id: str,
    channel: str,
    language: str,
    sealed_contact: str,
    contact_digest: str,
    source: str,
    now: datetime,
) -> bool:
    """Add a subscriber; False when this address already follows the case on that channel."""
    row = {
        "subscription_id": str(uuid.uuid4()),
        "case_id": case_id,
        "channel": channel,
        "language": language,
        "sealed_contact": sealed_contact,
        "contact_digest": contact_digest,
        "source": source,
        "token": new_token(),
        "created_at": now,
        "erase_after": None,
    }
    result = conn.execute(
        insert(SUBSCRIPTIONS)
        .values(row)
        .on_conflict_do_nothing(constraint="uq_notify_subscriber")
        .returning(SUBSCRIPTIONS.c.subscription_id)
    )
    return result.first() is not None


def copy_subscriptions(conn: Connection, from_case: str, to_case: str, now: datetime) -> None:
    """A split's sub-case keeps its parent's subscribers."""
    for sub in subscribers(conn, [from_case]).get(from_case, []):
        conn.execute(
            insert(SUBSCRIPTIONS)
            .values(
                subscription_id=str(uuid.uuid4()),
                case_id=to_case,
                channel=sub.channel,
                language=sub.language,
                sealed_contact=sub.sealed_contact,
                contact_digest=_digest_of(conn, sub.subscription_id),
                source="split",
                token=new_token(),
                created_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_notify_subscriber")
        )


def _digest_of(conn: Connection, subscription_id: str) -> str:
    return conn.execute(
        select(SUBSCRIPTIONS.c.contact_digest).where(
            SUBSCRIPTIONS.c.subscription_id == subscription_id
        )
    ).scalar_one()


def _select_subscriptions():
    """The columns of a Subscription, in its fields' order."""
    t = SUBSCRIPTIONS
    return select(
        t.c.subscription_id, t.c.case_id, t.c.channel, t.c.language, t.c.sealed_contact, t.c.token
    )


def subscribers(conn: Connection, case_ids: list[str]) -> dict[str, list[Subscription]]:
    if not case_ids:
        return {}
    t = SUBSCRIPTIONS
    rows = conn.execute(
        _select_subscriptions()
        .where(t.c.case_id.in_(sorted(set(case_ids))))
        .order_by(t.c.created_at)
    ).all()
    found: dict[str, list[Subscription]] = {}
    for row in rows:
        found.setdefault(row.case_id, []).append(Subscription(*row))
    return found


def subscriber_count(conn: Connection, case_id: str) -> int:
    """How many follow a case (what staff may see: never who)."""
    return conn.execute(
        select(func.count()).select_from(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.case_id == case_id)
    ).scalar_one()


def subscriber_counts(conn: Connection, case_ids: list[str]) -> dict[str, int]:
    """How many follow each of these cases (the staff worklist); absent: none."""
    if not case_ids:
        return {}
    rows = conn.execute(
        select(SUBSCRIPTIONS.c.case_id, func.count())
        .where(SUBSCRIPTIONS.c.case_id.in_(sorted(set(case_ids))))
        .group_by(SUBSCRIPTIONS.c.case_id)
    ).all()
    return {case_id: n for case_id, n in rows}


def by_token(conn: Connection, token: str) -> Subscription | None:
    row = conn.execute(_select_subscriptions().where(SUBSCRIPTIONS.c.token == token[:64])).first()
    return Subscription(*row) if row else None


def unsubscribe(conn: Connection, token: str) -> bool:
    """Erase a subscription and its unsent messages at once (one step, no login)."""
    sub = by_token(conn, token)
    if sub is None:
        return False
    conn.execute(
        delete(OUTBOX).where(
            OUTBOX.c.subscription_id == sub.subscription_id, OUTBOX.c.status != "sent"
        )
    )
    conn.execute(
        delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.subscription_id == sub.subscription_id)
    )
    return True


def unsubscribe_address(conn: Connection, contact_digest: str, channel: str) -> int:
    """STOP from a number: every subscription of that address on that channel."""
    tokens = conn.execute(
        select(SUBSCRIPTIONS.c.token).where(
            SUBSCRIPTIONS.c.contact_digest == contact_digest, SUBSCRIPTIONS.c.channel == channel
        )
    ).scalars()
    return sum(unsubscribe(conn, token) for token in list(tokens))


def set_erasure(conn: Connection, case_ids: list[str], when: datetime | None) -> None:
    """When a case closes its contacts are erased `when`; a reopened case keeps them."""
    if case_ids:
        conn.execute(
            update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.case_id.in_(case_ids))
            .values(erase_after=when)
        )


def erase_due(conn: Connection, now: datetime) -> int:
    """Delete subscriptions past their erasure time, their messages' sealed contacts and
    stale confirmations; returns how many subscriptions were erased."""
    gone = conn.execute(
        delete(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.erase_after <= now)
        .returning(SUBSCRIPTIONS.c.subscription_id)
    ).scalars()
    gone = list(gone)
    if gone:
        conn.execute(delete(OUTBOX).where(OUTBOX.c.subscription_id.in_(gone)))
    conn.execute(delete(CONFIRMATIONS).where(CONFIRMATIONS.c.expires_at <= now))
    # a one-time code's message (sent or given up on) outlives its use by a day at most
    conn.execute(
        delete(OUTBOX).where(
            OUTBOX.c.subscription_id == CODE_MESSAGE, OUTBOX.c.created_at <= now - timedelta(days=1)
        )
    )
    return len(gone)


def enqueue(conn: Connection, rows: list[dict]) -> int:
    """Outbox rows keyed by (event id, subscription id): a repeat adds nothing."""
    if not rows:
        return 0
    result = conn.execute(
        insert(OUTBOX).on_conflict_do_nothing(index_elements=["event_id", "subscription_id"]),
        rows,
    )
    return result.rowcount


def outbox_row(
    *, event_id, subscription: Subscription, event_type, subject, body, now: datetime
) -> dict:
    return {
        "event_id": event_id,
        "subscription_id": subscription.subscription_id,
        "case_id": subscription.case_id,
        "channel": subscription.channel,
        "language": subscription.language,
        "event_type": event_type,
        "subject": subject,
        "body": body,
        "sealed_contact": subscription.sealed_contact,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "sent_at": None,
        "last_error": None,
    }


def claim_due(
    conn: Connection, now: datetime, channels: list[str], limit: int, lease: timedelta
) -> list[Due]:
    """Take up to `limit` due messages of `channels`: pending ones whose time came, and
    ones claimed by a sender that did not finish (its lease ran out: it died)."""
    if not channels:
        return []
    o = OUTBOX
    due = (
        select(o.c.event_id, o.c.subscription_id)
        .where(
            o.c.channel.in_(channels),
            or_(
                and_(o.c.status == "pending", o.c.next_attempt_at <= now),
                and_(o.c.status == "sending", o.c.next_attempt_at <= now),
            ),
        )
        .order_by(o.c.created_at, o.c.event_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    claimed = conn.execute(
        update(o)
        .where(o.c.event_id == due.c.event_id, o.c.subscription_id == due.c.subscription_id)
        .values(status="sending", attempts=o.c.attempts + 1, next_attempt_at=now + lease)
        .returning(
            o.c.event_id,
            o.c.subscription_id,
            o.c.case_id,
            o.c.channel,
            o.c.language,
            o.c.event_type,
            o.c.subject,
            o.c.body,
            o.c.sealed_contact,
            o.c.attempts,
            o.c.created_at,
        )
    ).all()
    tokens = dict(
        conn.execute(
            select(SUBSCRIPTIONS.c.subscription_id, SUBSCRIPTIONS.c.token).where(
                SUBSCRIPTIONS.c.subscription_id.in_({r.subscription_id for r in claimed})
            )
        ).all()
    )
    ordered = sorted(claimed, key=lambda r: (r.created_at, r.event_id))  # the events' order
    return [Due(*row, token=tokens.get(row.subscription_id)) for row in ordered]


def release(conn: Connection, dues: list[Due], now: datetime) -> None:
    """Give back claimed messages not tried (their lease would run out before their turn)."""
    for due in dues:
        conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.event_id == due.event_id,
                OUTBOX.c.subscription_id == due.subscription_id,
                OUTBOX.c.status == "sending",
            )
            .values(status="pending", attempts=OUTBOX.c.attempts - 1, next_attempt_at=now)
        )


def mark_sent(conn: Connection, due: Due, now: datetime) -> None:
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.event_id == due.event_id, OUTBOX.c.subscription_id == due.subscription_id)
        .values(status="sent", sent_at=now, sealed_contact="", last_error=None)
    )


def mark_retry(conn: Connection, due: Due, when: datetime, error: str) -> None:
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.event_id == due.event_id, OUTBOX.c.subscription_id == due.subscription_id)
        .values(status="pending", next_attempt_at=when, last_error=error[:200])
    )


def mark_dead(conn: Connection, due: Due, error: str) -> None:
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.event_id == due.event_id, OUTBOX.c.subscription_id == due.subscription_id)
        .values(status="dead", last_error=error[:200])
    )


def dead_letters(conn: Connection) -> list[dict]:
    """What an admin sees: no contact, only which message, where, why."""
    o = OUTBOX
    rows = conn.execute(
        select(
            o.c.event_id,
            o.c.subscription_id,
            o.c.case_id,
            o.c.channel,
            o.c.event_type,
            o.c.attempts,
            o.c.last_error,
            o.c.created_at,
        )
        .where(o.c.status == "dead")
        .order_by(o.c.created_at)
    ).all()
    return [row._asdict() for row in rows]


def replay_dead(conn: Connection, now: datetime, keys: list[tuple[str, str]] | None) -> int:
    """Put dead letters back in the queue (all, or these (event id, subscription id))."""
    o = OUTBOX
    where = [o.c.status == "dead"]
    if keys is not None:
        where.append(or_(*[and_(o.c.event_id == e, o.c.subscription_id == s) for e, s in keys]))
    result = conn.execute(
        update(o).where(*where).values(status="pending", attempts=0, next_attempt_at=now)
    )
    return result.rowcount


def queue_ages(conn: Connection, now: datetime) -> dict[str, float]:
    """Seconds the oldest unsent message of each channel has waited."""
    o = OUTBOX
    rows = conn.execute(
        select(o.c.channel, func.min(o.c.created_at))
        .where(o.c.status.in_(("pending", "sending")))
        .group_by(o.c.channel)
    ).all()
    return {channel: max(0.0, (now - oldest).total_seconds()) for channel, oldest in rows}


# --- confirmations of an address given on /lacak ----------------------------------------


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def recent_confirmations(conn: Connection, *, contact_digest=None, client_digest=None, since):
    c = CONFIRMATIONS
    where = [c.c.created_at >= since]
    if contact_digest is not None:
        where.append(c.c.contact_digest == contact_digest)
    if client_digest is not None:
        where.append(c.c.client_digest == client_digest)
    return conn.execute(select(func.count()).select_from(c).where(*where)).scalar_one()


def add_confirmation(conn: Connection, row: dict) -> None:
    conn.execute(insert(CONFIRMATIONS).values(row))


def take_confirmation(conn: Connection, confirmation_id: str, code: str, now: datetime, max_tries):
    """The pending confirmation if `code` is right (then it is used up), else None."""
    c = CONFIRMATIONS
    row = conn.execute(
        select(c).where(c.c.confirmation_id == confirmation_id[:36]).with_for_update()
    ).first()
    if row is None or row.expires_at <= now or row.attempts >= max_tries:
        return None
    if not secrets.compare_digest(row.code_digest, code_digest(code)):
        conn.execute(
            update(c)
            .where(c.c.confirmation_id == row.confirmation_id)
            .values(attempts=c.c.attempts + 1)
        )
        return None
    conn.execute(delete(c).where(c.c.confirmation_id == row.confirmation_id))
    return row
