"""Intake command handlers: load, decide, append and project in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from intake_service import projections
from intake_service.bootstrap import Intake
from intake_service.domain.aspiration import RecordAspiration, recorded_event
from intake_service.tables import aspirations
from shared.events.envelope import NewEvent
from shared.eventstore.store import ConcurrencyError
from shared.tracking_code import new_tracking_code


@dataclass(frozen=True)
class Recorded:
    aspiration_id: str
    tracking_code: str
    created: bool


def stream_id(aspiration_id: str) -> str:
    return f"aspiration-{aspiration_id}"


def record_aspiration(intake: Intake, command: RecordAspiration, actor: str | None) -> Recorded:
    """Record a new aspiration; replaying the same client id returns the first result."""
    try:
        return _record_once(intake, command, actor)
    except ConcurrencyError:  # a concurrent request with the same client id won
        return _record_once(intake, command, actor)


def _record_once(intake: Intake, command: RecordAspiration, actor: str | None) -> Recorded:
    with intake.engine.begin() as conn:
        existing = conn.execute(
            select(aspirations.c.tracking_code).where(
                aspirations.c.aspiration_id == command.aspiration_id
            )
        ).first()
        if existing:
            return Recorded(command.aspiration_id, existing.tracking_code, created=False)
        code = _unused_tracking_code(conn)
        events = intake.store.append(
            conn,
            stream_id(command.aspiration_id),
            0,
            [NewEvent("AspirationRecorded", recorded_event(command, code), actor=actor)],
        )
        for event in events:
            projections.apply(conn, event)
    return Recorded(command.aspiration_id, code, created=True)


def _unused_tracking_code(conn) -> str:
    while True:
        code = new_tracking_code()
        taken = conn.execute(
            select(aspirations.c.aspiration_id).where(aspirations.c.tracking_code == code)
        ).first()
        if not taken:
            return code
