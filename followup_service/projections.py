"""Case read models, updated with the case events and rebuildable by replay."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from followup_service.tables import cases
from shared.events.envelope import EventEnvelope


def apply(conn: Connection, event: EventEnvelope) -> None:
    p = event.payload
    if event.event_type == "CaseOpened":
        conn.execute(
            insert(cases).values(
                case_id=p["case_id"],
                aspiration_id=p["aspiration_id"],
                tracking_code=p["tracking_code"],
                category=p["category"],
                kelurahan=p["kelurahan"],
                status="open",
                summary=p["summary"],
                version=event.stream_version,
                opened_at=event.occurred_at,
                updated_at=event.recorded_at,
                detail={},
            )
        )


def rebuild(conn: Connection, store) -> int:
    conn.execute(delete(cases))
    count = 0
    for event in store.read_all(conn):
        apply(conn, event)
        count += 1
    return count
