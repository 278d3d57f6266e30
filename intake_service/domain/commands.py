"""Commands the intake service accepts: plain data, validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Reporter:
    """Who raised an aspiration: private, never published."""

    name: str
    kind: str = "person"  # person | group
    contact: str | None = None


@dataclass(frozen=True)
class RecordMeeting:
    meeting_id: str
    kind: str
    held_at: datetime
    unit: str
    place: dict
    host_officer: str
    partners: tuple[str, ...] = ()
    attendee_count: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class RecordAspiration:
    """A new aspiration, or (with `supports`) a link backing an open one instead."""

    aspiration_id: str
    category: str
    summary: str
    description: str = ""
    public_summary: str = ""
    location: dict | None = None  # None: the meeting's place
    urgency: str = "normal"
    confidential: bool = False
    raised_by: Reporter | None = None
    attachments: tuple[dict, ...] = ()
    backing_count: int = 0
    backing_groups: tuple[str, ...] = ()
    supports: str | None = None
    unit: str | None = None  # without a meeting: the unit logging it
    channel: str = "officer"  # or "open311": filed by an organisation's app
    channel_client: str | None = None  # that app's name
    attributes: dict | None = None  # the category's extra answers, already checked
    notify: dict | None = None  # consent and contact for progress messages: never an event
    photos: tuple[dict, ...] = ()  # {id, public} as given; the handler adds each sha256


@dataclass(frozen=True)
class BackAspiration:
    aspiration_id: str
    backing_id: str
    count: int
    groups: tuple[str, ...] = ()
    meeting_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class AmendAspiration:
    aspiration_id: str
    changes: dict = field(default_factory=dict)
    raised_by: Reporter | None = None
    reason: str = ""


@dataclass(frozen=True)
class WithdrawAspiration:
    aspiration_id: str
    reason: str  # recorded_by_mistake | duplicate_of
    duplicate_of: str | None = None
    note: str = ""
