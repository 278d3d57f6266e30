"""Case events: immutable facts in the past tense, serialisable to JSON-safe dicts."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from followup_service.domain.routing import Agency

OUTCOMES = ("resolved_verified", "not_responsible", "duplicate", "no_further_action", "withdrawn")
DISPUTERS = ("officer", "community")


@dataclass(frozen=True, kw_only=True)
class CaseEvent:
    case_id: str
    occurred_at: datetime
    actor: str

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")


@dataclass(frozen=True)
class SubCase:
    case_id: str
    category: str
    public_summary: str


@dataclass(frozen=True, kw_only=True)
class CaseOpened(CaseEvent):
    aspiration_id: str
    tracking_code: str
    category: str
    region: str
    kelurahan: str
    kecamatan: str = ""
    public_summary: str
    description: str = ""  # raw text from the meeting: may name people, never public
    urgency: str = "normal"
    sensitive: bool = False
    parent_id: str | None = None
    unit: str = ""  # the police unit whose officer recorded it (verification, reopen)


@dataclass(frozen=True, kw_only=True)
class CaseRouted(CaseEvent):
    agency_id: str
    agency_name: str
    level: int
    ladder: tuple[Agency, ...]
    rule_version: str
    reason: str
    automatic: bool
    acknowledge_by: datetime
    resolve_by: datetime


@dataclass(frozen=True, kw_only=True)
class CaseAcknowledged(CaseEvent):
    agency_id: str


@dataclass(frozen=True, kw_only=True)
class ProgressNoted(CaseEvent):
    text: str
    public: bool
    evidence_ref: str | None = None  # e.g. "photo:<id>", a proof photo attached with it


@dataclass(frozen=True, kw_only=True)
class CaseEscalated(CaseEvent):
    from_agency_id: str
    from_level: int
    to_agency_id: str
    to_agency_name: str
    to_level: int
    reason: str
    automatic: bool
    breach: str | None  # "acknowledge" or "resolve" when a missed deadline caused it
    rule_version: str
    acknowledge_by: datetime
    resolve_by: datetime


@dataclass(frozen=True, kw_only=True)
class DeadlineMissed(CaseEvent):
    """A deadline passed with no higher rung left to escalate to."""

    agency_id: str
    breach: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CaseDeclined(CaseEvent):
    agency_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseResolved(CaseEvent):
    agency_id: str
    resolution: str
    evidence_ref: str | None = None
    verify_by: datetime


@dataclass(frozen=True, kw_only=True)
class VerificationConfirmed(CaseEvent):
    photo_ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolutionDisputed(CaseEvent):
    by: str  # one of DISPUTERS
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseReopened(CaseEvent):
    reason: str
    resolve_by: datetime | None


@dataclass(frozen=True, kw_only=True)
class CaseClosed(CaseEvent):
    outcome: str  # one of OUTCOMES
    reason: str = ""
    duplicate_of: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseSplit(CaseEvent):
    sub_cases: tuple[SubCase, ...]


@dataclass(frozen=True, kw_only=True)
class CaseAmended(CaseEvent):
    """Only the changed fields are set; `sensitive` follows the (possibly new) category."""

    public_summary: str | None = None
    description: str | None = None
    category: str | None = None
    sensitive: bool


@dataclass(frozen=True, kw_only=True)
class CaseRelocated(CaseEvent):
    """The aspiration's location was amended (e.g. a supervisor verified an unmatched one):
    the case's area as routing reads it (see Area)."""

    region: str
    kecamatan: str = ""
    kelurahan: str


@dataclass(frozen=True, kw_only=True)
class CaseWithdrawn(CaseEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseBacked(CaseEvent):
    """More residents back the aspiration (at its meeting or raised again at a later one).

    `total_count` is the aspiration's total backing as the intake side counts it;
    `backing_id` makes a backing count once however often it is delivered.
    """

    backing_id: str
    count: int
    total_count: int
    groups: tuple[str, ...] = ()
    meeting_id: str | None = None


PHOTO_KINDS = ("before", "after")  # the aspiration's (from intake) | an agency's proof


@dataclass(frozen=True, kw_only=True)
class PhotoAttached(CaseEvent):
    """A photo reference, never bytes: the aspiration's (`before`, named by intake's
    AspirationRecorded) or a proof photo (`after`) attached by `agency_id`'s staff."""

    photo_id: str
    sha256: str
    public: bool = False
    kind: str = "before"
    agency_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PhotoRemoved(CaseEvent):
    """A photo was removed (withdrawal, erasure request); its blob goes too."""

    photo_id: str
    reason: str


EVENT_TYPES: dict[str, type[CaseEvent]] = {cls.__name__: cls for cls in CaseEvent.__subclasses__()}


def event_type(event: CaseEvent) -> str:
    return type(event).__name__


def to_payload(event: CaseEvent) -> dict[str, Any]:
    return {field.name: _encode(getattr(event, field.name)) for field in dataclasses.fields(event)}


def from_payload(type_name: str, payload: dict[str, Any]) -> CaseEvent:
    cls = EVENT_TYPES[type_name]
    decoders = _decoders(cls)
    return cls(
        **{
            name: value if (decode := decoders[name]) is None or value is None else decode(value)
            for name, value in payload.items()
        }
    )


@functools.cache
def _decoders(cls: type) -> dict[str, Callable[[Any], Any] | None]:
    """Per field, how to turn its JSON value back into Python (None: as it is).

    Worked out once per event class from its type hints; replays decode every stored
    event, so this is on the rebuild's hot path.
    """
    return {name: _decoder(hint) for name, hint in typing.get_type_hints(cls).items()}


def _decoder(hint: Any) -> Callable[[Any], Any] | None:
    if isinstance(hint, types.UnionType):  # X | None
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint is datetime:
        return datetime.fromisoformat
    if typing.get_origin(hint) is tuple:
        item_hint = typing.get_args(hint)[0]
        if dataclasses.is_dataclass(item_hint):  # e.g. a ladder of agencies: shared whole
            return _interning_tuples(item_hint)
        item = _decoder(item_hint)
        if item is None:
            return tuple
        return lambda values: tuple([None if v is None else item(v) for v in values])
    if dataclasses.is_dataclass(hint):
        return _interning(hint)
    return None


def _interning_tuples(cls: type, limit: int = 50_000) -> Callable[[list], tuple]:
    """Decode lists of dicts into tuples of frozen `cls` values, reusing equal tuples."""
    item = _interning(cls, limit)
    known: dict[tuple, tuple] = {}

    def decode(values: list) -> tuple:
        try:
            key = tuple([tuple(v.items()) for v in values])
            return known[key]
        except KeyError:
            if len(known) >= limit:
                known.clear()
            made = known[key] = tuple([item(v) for v in values])
            return made
        except (TypeError, AttributeError):  # unhashable values, or a null in the list
            return tuple([None if v is None else item(v) for v in values])

    return decode


def _interning(cls: type, limit: int = 50_000) -> Callable[[dict], Any]:
    """Decode dicts into frozen `cls` values, reusing equal ones: a replay decodes the same
    few agencies in every routed case's ladder, and a frozen dataclass is slow to build."""
    known: dict[tuple, Any] = {}

    def decode(value: dict) -> Any:
        key = tuple(value.items())
        try:
            return known[key]
        except KeyError:
            if len(known) >= limit:
                known.clear()
            made = known[key] = cls(**value)
            return made
        except TypeError:  # an unhashable field value: nothing to share
            return cls(**value)

    return decode


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()  # events carry UTC
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if dataclasses.is_dataclass(value):  # field by field: asdict() deep-copies, 10x slower
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value
