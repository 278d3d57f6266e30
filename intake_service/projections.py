"""Intake read models, updated in the same transaction as the events and rebuildable by replay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from intake_service.tables import aspirations, meetings
from shared.events.envelope import EventEnvelope


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def apply(conn: Connection, event: EventEnvelope) -> None:
    p, t = event.payload, event.event_type
    handler = _HANDLERS.get(t)
    if handler:
        handler(conn, event, p)


def _meeting_recorded(conn, event, p):
    conn.execute(
        insert(meetings).values(
            meeting_id=p["meeting_id"],
            unit=p["unit"],
            kind=p["kind"],
            held_at=_when(p["held_at"]),
            kecamatan=p["place"].get("kecamatan"),
            kelurahan=p["place"]["kelurahan"],
            region_code=p["place"].get("region_code"),
            data=p,
            aspiration_count=0,
            version=event.stream_version,
            recorded_at=event.recorded_at,
        )
    )


def _aspiration_recorded(conn, event, p):
    conn.execute(insert(aspirations).values(**aspiration_row(event)))
    if p["meeting_id"]:
        _count_aspirations(conn, p["meeting_id"], 1)


def aspiration_row(recorded: EventEnvelope, identified: EventEnvelope | None = None) -> dict:
    """The read-model row of a new aspiration (with its reporter, if identified at once)."""
    p = recorded.payload
    row = {
        "aspiration_id": p["aspiration_id"],
        "tracking_code": p["tracking_code"],
        "meeting_id": p["meeting_id"],
        "unit": p["unit"],
        "category": p["category"],
        "summary": p["summary"],
        "public_summary": p["public_summary"],
        "description": p["description"],
        "kelurahan": p["kelurahan"],
        "location": p["location"],
        **located(p["location"]),
        "urgency": p["urgency"],
        "confidential": p["confidential"],
        "status": "open",
        "backing_count": p["backing_count"],
        "backing_groups": p["backing_groups"],
        "attachments": p["attachments"],
        "channel": p["channel"],
        "channel_client": p["channel_client"],
        "attributes": p["attributes"],
        "private": {"raised_by": None, "supporters": []},
        "raised_at": _when(p["raised_at"]) or recorded.recorded_at,
        "position": recorded.global_position,
        "version": recorded.stream_version,
        "recorded_at": recorded.recorded_at,
        "extra": {"amendments": 0, "photos": p.get("photos", [])},
    }
    if identified is not None:  # what _reporter_identified would then set
        row["private"]["raised_by"] = _person(identified.payload)
        row["version"] = identified.stream_version
    return row


def located(location: dict) -> dict:
    """The read model's columns for a location's code and verification."""
    return {
        "region_code": location.get("region_code"),
        "location_verified": bool(location.get("verified")),
    }


def record_new_aspirations(
    conn: Connection, recorded: list[EventEnvelope], identified: dict[str, EventEnvelope]
) -> None:
    """A batch of new aspirations in one INSERT (the same rows a replay builds one event
    at a time); `identified` maps a stream id to its ReporterIdentified event."""
    if not recorded:
        return
    conn.execute(
        insert(aspirations),
        [aspiration_row(e, identified.get(e.stream_id)) for e in recorded],
    )
    per_meeting: dict[str, int] = {}
    for event in recorded:
        if event.payload["meeting_id"]:
            per_meeting[event.payload["meeting_id"]] = (
                per_meeting.get(event.payload["meeting_id"], 0) + 1
            )
    for meeting_id, count in per_meeting.items():
        _count_aspirations(conn, meeting_id, count)


def _count_aspirations(conn, meeting_id: str, count: int) -> None:
    conn.execute(
        update(meetings)
        .where(meetings.c.meeting_id == meeting_id)
        .values(aspiration_count=meetings.c.aspiration_count + count)
    )


def _person(p: dict) -> dict:
    return {k: p[k] for k in ("name", "kind", "contact")}


def _row(conn, aspiration_id: str):
    return conn.execute(
        select(aspirations).where(aspirations.c.aspiration_id == aspiration_id)
    ).one()


def _set(conn, event, aspiration_id: str, **values):
    conn.execute(
        update(aspirations)
        .where(aspirations.c.aspiration_id == aspiration_id)
        .values(version=event.stream_version, **values)
    )


def _reporter_identified(conn, event, p):
    private = dict(_row(conn, p["aspiration_id"]).private or {})
    person = _person(p)
    if p["backing_id"]:
        private["supporters"] = [*private.get("supporters", []), person]
    else:
        private["raised_by"] = person
    _set(conn, event, p["aspiration_id"], private=private)


def _aspiration_backed(conn, event, p):
    row = _row(conn, p["aspiration_id"])
    groups = list(dict.fromkeys([*(row.backing_groups or []), *p["groups"]]))
    _set(conn, event, p["aspiration_id"], backing_count=p["total_count"], backing_groups=groups)


def _aspiration_amended(conn, event, p):
    row = _row(conn, p["aspiration_id"])
    values = dict(p["changes"])
    if "location" in values:
        values["kelurahan"] = values["location"]["kelurahan"]
        values.update(located(values["location"]))
    extra = {**row.extra, "amendments": row.extra.get("amendments", 0) + 1}
    _set(conn, event, p["aspiration_id"], extra=extra, **values)


def _aspiration_withdrawn(conn, event, p):
    row = _row(conn, p["aspiration_id"])
    withdrawal = {k: p[k] for k in ("reason", "duplicate_of", "note", "withdrawn_by")}
    _set(
        conn,
        event,
        p["aspiration_id"],
        status="withdrawn",
        extra={**row.extra, "withdrawal": withdrawal},
    )


def _photos_removed(conn, event, p):
    row = _row(conn, p["aspiration_id"])
    removed = sorted({*row.extra.get("photos_removed", ()), *map(str, p["photo_ids"])})
    _set(conn, event, p["aspiration_id"], extra={**row.extra, "photos_removed": removed})


_HANDLERS = {
    "MeetingRecorded": _meeting_recorded,
    "AspirationRecorded": _aspiration_recorded,
    "ReporterIdentified": _reporter_identified,
    "AspirationBacked": _aspiration_backed,
    "AspirationAmended": _aspiration_amended,
    "AspirationWithdrawn": _aspiration_withdrawn,
    "PhotosRemoved": _photos_removed,
}


def rebuild(conn: Connection, store) -> int:
    """Drop the read models and replay every event into them."""
    conn.execute(delete(aspirations))
    conn.execute(delete(meetings))
    count = 0
    for event in store.read_all(conn):
        apply(conn, event)
        count += 1
    return count
