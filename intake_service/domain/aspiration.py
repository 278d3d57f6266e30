"""Aspiration: one thing residents raised at a meeting; its state is a fold of its events.

Pure Python: decisions take the current state and a command and return event payloads,
or raise an IntakeError. Reporter identity only ever goes into the private payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from intake_service.domain.commands import (
    AmendAspiration,
    BackAspiration,
    RecordAspiration,
    Reporter,
    WithdrawAspiration,
)
from intake_service.domain.errors import ConflictError, InvalidError
from intake_service.domain.meeting import Meeting

PUBLIC_FIELDS = (
    "category",
    "summary",
    "public_summary",
    "description",
    "location",
    "urgency",
    "confidential",
    "attachments",
)


@dataclass(frozen=True)
class Aspiration:
    aspiration_id: str
    tracking_code: str
    meeting_id: str | None
    unit: str | None
    fields: dict
    withdrawn: bool = False
    backing_count: int = 0
    version: int = 0
    backing_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def category(self) -> str:
        return self.fields["category"]

    @property
    def kelurahan(self) -> str:
        return self.fields["location"]["kelurahan"]

    @property
    def message_key(self) -> str:
        return message_key(self.meeting_id, self.aspiration_id)

    @classmethod
    def from_events(cls, events: list[tuple[str, dict]]) -> Aspiration | None:
        state: Aspiration | None = None
        for version, (event_type, p) in enumerate(events, start=1):
            state = evolve(state, event_type, p)
            if state is not None:
                state = replace(state, version=version)
        return state


def evolve(state: Aspiration | None, event_type: str, p: dict) -> Aspiration | None:
    """Apply one event to the state."""
    if event_type == "AspirationRecorded":
        return Aspiration(
            aspiration_id=p["aspiration_id"],
            tracking_code=p["tracking_code"],
            meeting_id=p.get("meeting_id"),
            unit=p.get("unit"),
            fields={name: p.get(name) for name in PUBLIC_FIELDS},
            backing_count=p.get("backing_count", 0),
        )
    if state is None:
        return None
    if event_type == "AspirationAmended":
        return replace(state, fields={**state.fields, **p["changes"]})
    if event_type == "AspirationBacked":
        return replace(
            state,
            backing_count=p["total_count"],
            backing_ids=state.backing_ids | {p["backing_id"]},
        )
    if event_type == "AspirationWithdrawn":
        return replace(state, withdrawn=True)
    return state  # private events do not change the public state


def message_key(meeting_id: str | None, aspiration_id: str) -> str:
    """Kafka key: a meeting's aspirations share one, so their events stay in order."""
    return f"meeting-{meeting_id}" if meeting_id else f"aspiration-{aspiration_id}"


def recorded_event(
    command: RecordAspiration, tracking_code: str, meeting: Meeting | None, unit: str | None
) -> dict:
    """The AspirationRecorded payload; location defaults to the meeting's place."""
    location = command.location or (meeting.place if meeting else None)
    if not location or not location.get("kelurahan"):
        raise InvalidError("location", "A kelurahan is needed when there is no meeting.")
    return {
        "aspiration_id": command.aspiration_id,
        "meeting_id": meeting.meeting_id if meeting else None,
        "tracking_code": tracking_code,
        "category": command.category,
        "summary": command.summary,
        "public_summary": command.public_summary,
        "description": command.description,
        "kelurahan": location["kelurahan"],
        "location": location,
        "urgency": command.urgency,
        "confidential": command.confidential,
        "unit": unit,
        "raised_at": meeting.held_at if meeting else None,
        "backing_count": command.backing_count,
        "backing_groups": list(command.backing_groups),
        "attachments": list(command.attachments),
        "channel": command.channel,
        "channel_client": command.channel_client,
        "attributes": dict(command.attributes or {}),
        "photos": [dict(p) for p in command.photos],
    }


def reporter_event(
    aspiration_id: str,
    reporter: Reporter,
    *,
    backing_id: str | None = None,
    reason: str | None = None,
) -> dict:
    """The private ReporterIdentified payload (kept in the intake database only)."""
    return {
        "aspiration_id": aspiration_id,
        "backing_id": backing_id,
        "name": reporter.name,
        "kind": reporter.kind,
        "contact": reporter.contact,
        "reason": reason,
    }


def _require_open(target: Aspiration, field_name: str) -> None:
    if target.withdrawn:
        raise InvalidError(field_name, f"Aspiration {target.tracking_code} is withdrawn.")


def backed_event(target: Aspiration, command: BackAspiration) -> dict:
    """More residents back an open aspiration."""
    if target.withdrawn:
        raise ConflictError(f"aspiration {target.tracking_code} is withdrawn")
    return {
        "aspiration_id": target.aspiration_id,
        "meeting_id": command.meeting_id,
        "backing_id": command.backing_id,
        "count": command.count,
        "groups": list(command.groups),
        "total_count": target.backing_count + command.count,
        "linked_summary": None,
        "note": command.note,
    }


def linked_event(target: Aspiration, command: RecordAspiration, meeting: Meeting | None) -> dict:
    """A new aspiration recorded as support for an open one in the same kelurahan+category."""
    _require_open(target, "supports")
    kelurahan = (command.location or (meeting.place if meeting else {}) or {}).get("kelurahan")
    if command.category != target.category or (kelurahan and kelurahan != target.kelurahan):
        raise InvalidError(
            "supports",
            f"Aspiration {target.tracking_code} is about {target.category} in "
            f"{target.kelurahan}; only the same kelurahan and category can be linked.",
        )
    count = max(command.backing_count, 1)
    return {
        "aspiration_id": target.aspiration_id,
        "meeting_id": meeting.meeting_id if meeting else None,
        "backing_id": command.aspiration_id,
        "count": count,
        "groups": list(command.backing_groups),
        "total_count": target.backing_count + count,
        "linked_summary": command.summary,
        "note": "",
    }


def amended_event(target: Aspiration, command: AmendAspiration, actor: str) -> dict | None:
    """The AspirationAmended payload with only what really changes; None if nothing public."""
    if target.withdrawn:
        raise ConflictError(f"aspiration {target.tracking_code} is withdrawn")
    changes = {
        name: value
        for name, value in command.changes.items()
        if name in PUBLIC_FIELDS and target.fields.get(name) != value
    }
    if not changes and command.raised_by is None:
        raise ConflictError("nothing to amend: every value is already recorded")
    if not changes:
        return None
    return {
        "aspiration_id": target.aspiration_id,
        "meeting_id": target.meeting_id,
        "changes": changes,
        "previous": {name: target.fields.get(name) for name in changes},
        "reason": command.reason,
        "amended_by": actor,
    }


def withdrawn_event(
    target: Aspiration, command: WithdrawAspiration, duplicate: Aspiration | None, actor: str
) -> dict:
    """Withdraw: recorded by mistake, or a duplicate of another (open) aspiration."""
    if target.withdrawn:
        raise ConflictError(f"aspiration {target.tracking_code} is already withdrawn")
    if command.reason == "duplicate_of":
        if command.duplicate_of == target.aspiration_id:
            raise InvalidError("duplicate_of", "An aspiration cannot duplicate itself.")
        if duplicate is None:
            raise InvalidError("duplicate_of", "No such aspiration.")
        _require_open(duplicate, "duplicate_of")
    return {
        "aspiration_id": target.aspiration_id,
        "meeting_id": target.meeting_id,
        "reason": command.reason,
        "duplicate_of": command.duplicate_of if command.reason == "duplicate_of" else None,
        "note": command.note,
        "withdrawn_by": actor,
    }
