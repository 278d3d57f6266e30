"""Intake read models, updated in the same transaction as the events and rebuildable by replay."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from intake_service.tables import aspirations
from shared.events.envelope import EventEnvelope


def apply(conn: Connection, event: EventEnvelope) -> None:
    p = event.payload
    if event.event_type == "AspirationRecorded":
        conn.execute(
            insert(aspirations).values(
                aspiration_id=p["aspiration_id"],
                tracking_code=p["tracking_code"],
                category=p["category"],
                summary=p["summary"],
                description=p.get("description", ""),
                kelurahan=p["kelurahan"],
                status="recorded",
                version=event.stream_version,
                recorded_at=event.recorded_at,
                extra={},
            )
        )


def rebuild(conn: Connection, store) -> int:
    """Drop the read models and replay every event into them."""
    conn.execute(delete(aspirations))
    count = 0
    for event in store.read_all(conn):
        apply(conn, event)
        count += 1
    return count
