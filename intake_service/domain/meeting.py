"""Meeting: a community-policing meeting where residents raised aspirations. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass

from intake_service.domain.commands import RecordMeeting


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    unit: str
    held_at: str
    place: dict

    @classmethod
    def from_events(cls, events: list[tuple[str, dict]]) -> Meeting | None:
        for event_type, p in events:
            if event_type == "MeetingRecorded":
                return cls(p["meeting_id"], p["unit"], p["held_at"], p["place"])
        return None


def meeting_recorded(command: RecordMeeting) -> dict:
    """The MeetingRecorded payload."""
    return {
        "meeting_id": command.meeting_id,
        "kind": command.kind,
        "held_at": command.held_at.isoformat(),
        "unit": command.unit,
        "place": command.place,
        "host_officer": command.host_officer,
        "partners": list(command.partners),
        "attendee_count": command.attendee_count,
        "notes": command.notes,
    }
