"""Intake command handlers: load, decide, append and project in one transaction each.

Aspiration events go to Kafka keyed by meeting, so a batch arrives in order. Reporter
identities are appended as private events (publish=False) and never reach the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from intake_service import projections
from intake_service.bootstrap import Intake
from intake_service.domain import aspiration as decide
from intake_service.domain.access import OPEN311_FILERS, WRITERS
from intake_service.domain.aspiration import Aspiration
from intake_service.domain.commands import (
    AmendAspiration,
    BackAspiration,
    RecordAspiration,
    RecordMeeting,
    WithdrawAspiration,
)
from intake_service.domain.errors import (
    ConflictError,
    InvalidError,
    ItemsRejectedError,
    NotFoundError,
)
from intake_service.domain.meeting import Meeting, meeting_recorded
from intake_service.notify_requests import contact_cipher, keep_requests
from intake_service.photos import bind as bind_photos
from intake_service.photos import delete_blobs
from intake_service.photos import remove_for as remove_photos
from intake_service.photos import resolve_references as photo_refs
from intake_service.tables import aspirations, metadata, notify_requests
from shared import idempotency
from shared.auth import ForbiddenError, Principal
from shared.events.envelope import NewEvent
from shared.eventstore.store import ConcurrencyError, StreamAppend
from shared.need_to_know import Holding, Scope, may_act
from shared.police import load_police_directory
from shared.regions.places import UnknownRegionCodeError, locate_place
from shared.tracking_code import new_tracking_code
from shared.units import unit_id

events_table = metadata.tables["events"]


@dataclass(frozen=True)
class Outcome:
    """What a write did: `created`, `existing` (a replayed client id) or `linked`."""

    id: str
    status: str
    tracking_code: str | None = None
    linked_to: str | None = None

    @property
    def created(self) -> bool:
        return self.status in ("created", "linked")


def meeting_stream(meeting_id: str) -> str:
    return f"meeting-{meeting_id}"


def stream_id(aspiration_id: str) -> str:
    return f"aspiration-{aspiration_id}"


# PostgreSQL's name for the unique index on aspirations.tracking_code (migrations made it).
TRACKING_CODE_CONSTRAINT = "aspirations_tracking_code_key"


def _retrying(intake: Intake, work: Callable[[Connection], object]):
    """Run work in one transaction; on a lost optimistic race, once more on fresh state.

    A tracking code another request drew at the same moment (the unused-code check sees
    committed rows only) fails the unique index: the work is rolled back and runs again
    with fresh codes, a few times, since that clash has nothing to do with the request.

    The transaction also keeps the request's Idempotency-Key and its answer when the view
    asked for it (shared.idempotency.transaction): a retried request is stored once.
    """
    races = clashes = 0
    while True:
        try:
            return idempotency.transaction(intake.engine, work)
        except ConcurrencyError:
            races += 1
            if races == 2:
                raise ConflictError("a concurrent change won; retry the request") from None
        except IntegrityError as exc:
            clashes += 1
            if not _is_tracking_code_clash(exc) or clashes == 5:
                raise


def _is_tracking_code_clash(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == TRACKING_CODE_CONSTRAINT


def _append(intake: Intake, conn, stream: str, version: int, events, **options):
    stored = intake.store.append(conn, stream, version, events, **options)
    for event in stored:
        projections.apply(conn, event)
    return stored


def _check_unit(principal: Principal, unit: str | None, place: dict | None = None) -> None:
    """Writers act only within their scope (shared.need_to_know): an officer for their
    unit, a supervisor for the units and places of their area."""
    directory = load_police_directory()
    region = (place or {}).get("region_code")
    if principal.role not in WRITERS or not may_act(
        Scope.of(principal, directory), Holding(region, unit), directory
    ):
        raise ForbiddenError(f"{principal.actor} may not write for unit {unit!r}")


def _located(intake: Intake, place: dict | None, field_name: str) -> dict | None:
    """The place with its region code and `verified` flag (see shared.regions.places):
    an unknown code is refused, names that match nothing are kept, unverified."""
    try:
        return locate_place(intake.regions, place)
    except UnknownRegionCodeError as exc:
        raise InvalidError(field_name, f"Unknown region code {exc}.") from None


def load_meeting(intake: Intake, conn, meeting_id: str) -> Meeting | None:
    stream = intake.store.read_stream(conn, meeting_stream(meeting_id))
    return Meeting.from_events([(e.event_type, e.payload) for e in stream])


def load_aspiration(intake: Intake, conn, aspiration_id: str) -> Aspiration | None:
    stream = intake.store.read_stream(conn, stream_id(aspiration_id))
    return Aspiration.from_events([(e.event_type, e.payload) for e in stream])


def _event_stream(conn, event_id: str) -> str | None:
    return conn.execute(
        select(events_table.c.stream_id).where(events_table.c.event_id == event_id)
    ).scalar()


def record_meeting(intake: Intake, command: RecordMeeting, principal: Principal) -> Outcome:
    """Record a meeting; replaying the same client id returns the first result."""
    command = replace(command, place=_located(intake, command.place, "place"))
    _check_unit(principal, command.unit, command.place)

    def work(conn):
        existing = load_meeting(intake, conn, command.meeting_id)
        if existing:
            if existing.unit != command.unit:
                raise InvalidError("id", "This id belongs to another unit's meeting.")
            return Outcome(command.meeting_id, "existing")
        event = NewEvent("MeetingRecorded", meeting_recorded(command), actor=principal.actor)
        _append(intake, conn, meeting_stream(command.meeting_id), 0, [event])
        return Outcome(command.meeting_id, "created")

    return _retrying(intake, work)


def record_aspirations(
    intake: Intake,
    meeting_id: str | None,
    commands: list[RecordAspiration],
    principal: Principal,
) -> list[Outcome]:
    """Record a batch for one meeting (or one aspiration without a meeting): all or nothing."""
    commands = [
        replace(c, location=_located(intake, c.location, "location")) if c.location else c
        for c in commands
    ]

    def work(conn):
        meeting = None
        if meeting_id:
            meeting = load_meeting(intake, conn, meeting_id)
            if meeting is None:
                raise NotFoundError(f"no meeting {meeting_id}")
        unit = meeting.unit if meeting else unit_id(commands[0].unit or principal.unit)
        if unit is None:
            raise InvalidError("unit", "Name the unit logging an aspiration without a meeting.")
        _check_unit(principal, unit, meeting.place if meeting else commands[0].location)
        outcomes: list[Outcome | None] = [None] * len(commands)
        errors, seen, fresh, supports = {}, set(), [], []
        stored = _stored_aspirations(conn, [c.aspiration_id for c in commands if not c.supports])
        for index, command in enumerate(commands):
            if command.aspiration_id in seen:
                errors[index] = {"id": ["This id is used twice in the batch."]}
                continue
            seen.add(command.aspiration_id)
            if command.supports:
                supports.append(index)
            elif command.aspiration_id in stored:
                existing = stored[command.aspiration_id]
                if existing.meeting_id != (meeting.meeting_id if meeting else None):
                    errors[index] = {"id": ["This id belongs to an aspiration of another meeting."]}
                else:
                    outcomes[index] = Outcome(command.aspiration_id, "existing", existing.code)
            else:
                fresh.append(index)
        if errors:
            raise ItemsRejectedError(errors)  # nothing written yet
        new = _record_new(intake, conn, meeting, unit, [commands[i] for i in fresh], principal)
        for index, outcome in zip(fresh, new, strict=True):
            outcomes[index] = outcome
        for index in supports:  # after the new ones, which they may back
            try:
                outcomes[index] = _link_as_support(
                    intake, conn, meeting, commands[index], principal
                )
            except InvalidError as exc:
                errors[index] = {exc.field: [exc.message]}
        if errors:
            raise ItemsRejectedError(errors)  # rolls the whole batch back
        return outcomes

    return _retrying(intake, work)


def file_open311_request(
    intake: Intake, command: RecordAspiration, principal: Principal
) -> Outcome:
    """A request an organisation's app files through Open311: an aspiration without a
    meeting or a police unit, recorded by the same rules as an officer's (tracking code,
    private reporter identity, one transaction). A resent id answers what was stored."""
    if principal.role not in OPEN311_FILERS or command.channel != "open311":
        raise ForbiddenError(f"{principal.actor} may not file Open311 requests")
    command = replace(command, location=_located(intake, command.location, "location"))

    def work(conn):
        stored = _stored_aspirations(conn, [command.aspiration_id])
        if command.aspiration_id in stored:
            return Outcome(command.aspiration_id, "existing", stored[command.aspiration_id].code)
        [outcome] = _record_new(intake, conn, None, None, [command], principal)
        return outcome

    return _retrying(intake, work)


@dataclass(frozen=True)
class _Stored:
    code: str
    meeting_id: str | None


def _stored_aspirations(conn, aspiration_ids: list[str]) -> dict[str, _Stored]:
    """The batch's ids already recorded (a replayed submit), in one query."""
    if not aspiration_ids:
        return {}
    rows = conn.execute(
        select(
            aspirations.c.aspiration_id, aspirations.c.tracking_code, aspirations.c.meeting_id
        ).where(aspirations.c.aspiration_id.in_(aspiration_ids))
    ).all()
    return {row.aspiration_id: _Stored(row.tracking_code, row.meeting_id) for row in rows}


def _record_new(intake, conn, meeting, unit, commands, principal) -> list[Outcome]:
    """New aspirations of one batch: one append for the published events, one for the
    private reporter identities, one write of the read model, however many items."""
    if not commands:
        return []
    recorded, identified, outcomes, notify = [], [], [], {}
    commands = [  # photo references checked and given their sha256 (intake_service/photos.py)
        replace(c, photos=tuple(photo_refs(conn, list(c.photos), principal))) if c.photos else c
        for c in commands
    ]
    for command, code in zip(commands, _unused_tracking_codes(conn, len(commands)), strict=True):
        payload = decide.recorded_event(command, code, meeting, unit)
        stream = stream_id(command.aspiration_id)
        event = NewEvent("AspirationRecorded", payload, actor=principal.actor)
        key = decide.message_key(payload["meeting_id"], command.aspiration_id)
        recorded.append(StreamAppend(stream, 0, [event], message_key=key))
        if command.raised_by:
            private = decide.reporter_event(command.aspiration_id, command.raised_by)
            event = NewEvent("ReporterIdentified", private, actor=principal.actor)
            identified.append(StreamAppend(stream, 1, [event], publish=False))
        if command.notify:
            notify[command.aspiration_id] = command.notify
        outcomes.append(Outcome(command.aspiration_id, "created", code))
    published = intake.store.append_many(conn, recorded)
    hidden = intake.store.append_many(conn, identified)
    for command in commands:
        if command.photos:
            bind_photos(conn, command.aspiration_id, list(command.photos))
    if notify:  # sealed, in this transaction, never in an event (notify_requests.py)
        keep_requests(conn, notify_requests, contact_cipher(), notify)
    projections.record_new_aspirations(
        conn,
        [published[a.stream_id][0] for a in recorded],
        {a.stream_id: hidden[a.stream_id][0] for a in identified},
    )
    return outcomes


def _link_as_support(intake, conn, meeting, command: RecordAspiration, principal) -> Outcome:
    """A new aspiration that repeats an open one becomes backing for it (no new case)."""
    target = load_aspiration(intake, conn, command.supports)
    if target is None:
        raise InvalidError("supports", "No such aspiration.")
    if _event_stream(conn, command.aspiration_id):
        return Outcome(
            command.aspiration_id, "existing", target.tracking_code, target.aspiration_id
        )
    payload = decide.linked_event(target, command, meeting)
    backed = NewEvent(
        "AspirationBacked", payload, event_id=command.aspiration_id, actor=principal.actor
    )
    events = [backed]
    if command.raised_by:
        private = decide.reporter_event(
            target.aspiration_id, command.raised_by, backing_id=command.aspiration_id
        )
        events.append(NewEvent("ReporterIdentified", private, actor=principal.actor))
    stream = stream_id(target.aspiration_id)
    key = decide.message_key(target.meeting_id, target.aspiration_id)
    _append(intake, conn, stream, target.version, events[:1], message_key=key)
    if len(events) > 1:
        _append(intake, conn, stream, target.version + 1, events[1:], publish=False)
    return Outcome(command.aspiration_id, "linked", target.tracking_code, target.aspiration_id)


def back_aspiration(intake: Intake, command: BackAspiration, principal: Principal) -> Outcome:
    """Record more residents (and groups) backing an open aspiration."""

    def work(conn):
        target = _must_load(intake, conn, command.aspiration_id)
        meeting = None
        if command.meeting_id:
            meeting = load_meeting(intake, conn, command.meeting_id)
            if meeting is None:
                raise InvalidError("meeting_id", "No such meeting.")
        if meeting:
            _check_unit(principal, meeting.unit, meeting.place)
        else:
            _check_unit(principal, target.unit, target.fields.get("location"))
        if _event_stream(conn, command.backing_id):
            return Outcome(command.backing_id, "existing", target.tracking_code)
        payload = decide.backed_event(target, command)
        event = NewEvent(
            "AspirationBacked", payload, event_id=command.backing_id, actor=principal.actor
        )
        stream = stream_id(target.aspiration_id)
        _append(intake, conn, stream, target.version, [event], message_key=target.message_key)
        return Outcome(command.backing_id, "created", target.tracking_code)

    return _retrying(intake, work)


def amend_aspiration(intake: Intake, command: AmendAspiration, principal: Principal) -> Outcome:
    """Correct an aspiration: public changes are published, a new reporter stays private.
    A new location is located like a recorded one (a supervisor fixes an unverified
    location by amending it with the kelurahan's code)."""
    if command.changes.get("location"):
        location = _located(intake, command.changes["location"], "changes.location")
        command = replace(command, changes={**command.changes, "location": location})

    def work(conn):
        target = _must_load(intake, conn, command.aspiration_id)
        _check_unit(principal, target.unit, target.fields.get("location"))
        payload = decide.amended_event(target, command, principal.actor)
        stream, version = stream_id(target.aspiration_id), target.version
        if payload:
            event = NewEvent("AspirationAmended", payload, actor=principal.actor)
            _append(intake, conn, stream, version, [event], message_key=target.message_key)
            version += 1
        if command.raised_by:
            private = decide.reporter_event(
                target.aspiration_id, command.raised_by, reason=command.reason
            )
            event = NewEvent("ReporterIdentified", private, actor=principal.actor)
            _append(intake, conn, stream, version, [event], publish=False)
        return Outcome(target.aspiration_id, "created", target.tracking_code)

    return _retrying(intake, work)


def withdraw_aspiration(
    intake: Intake, command: WithdrawAspiration, principal: Principal, photo_store=None
) -> Outcome:
    """Withdraw an aspiration recorded by mistake or as a duplicate of another. Its photos
    are removed with it (a PhotosRemoved event; blobs deleted after the commit)."""
    orphans: list[str] = []

    def work(conn):
        orphans.clear()
        target = _must_load(intake, conn, command.aspiration_id)
        _check_unit(principal, target.unit, target.fields.get("location"))
        duplicate = None
        if command.duplicate_of and command.duplicate_of != command.aspiration_id:
            duplicate = load_aspiration(intake, conn, command.duplicate_of)
        payload = decide.withdrawn_event(target, command, duplicate, principal.actor)
        event = NewEvent("AspirationWithdrawn", payload, actor=principal.actor)
        stream = stream_id(target.aspiration_id)
        _append(intake, conn, stream, target.version, [event], message_key=target.message_key)
        photo_ids, shas = remove_photos(conn, target.aspiration_id)
        if photo_ids:
            removed = {"aspiration_id": target.aspiration_id, "photo_ids": photo_ids}
            removed["reason"] = "withdrawn"
            event = NewEvent("PhotosRemoved", removed, actor=principal.actor)
            _append(
                intake, conn, stream, target.version + 1, [event], message_key=target.message_key
            )
            orphans.extend(shas)
        return Outcome(target.aspiration_id, "created", target.tracking_code)

    outcome = _retrying(intake, work)
    if orphans and photo_store is not None:
        delete_blobs(photo_store, orphans)  # a store away leaves them for `photos prune`
    return outcome


def _must_load(intake: Intake, conn, aspiration_id: str) -> Aspiration:
    target = load_aspiration(intake, conn, aspiration_id)
    if target is None:
        raise NotFoundError(f"no aspiration {aspiration_id}")
    return target


def _unused_tracking_codes(conn, count: int) -> list[str]:
    """`count` distinct codes no aspiration holds: drawn at random, checked in one query
    (a clash among 24^5 codes is rare, so the loop almost never runs twice). Codes drawn
    by a concurrent transaction are not seen here: `_retrying` handles that clash."""
    codes: set[str] = set()
    while len(codes) < count:
        drawn = {new_tracking_code() for _ in range(count - len(codes))} - codes
        taken = set(
            conn.execute(
                select(aspirations.c.tracking_code).where(aspirations.c.tracking_code.in_(drawn))
            ).scalars()
        )
        codes |= drawn - taken
    return list(codes)
