"""Case command handlers: load the streams, decide in the domain, append and project at once.

Each handler runs in one database transaction through a Work (unit of work): the cases'
events (with their outbox rows) and the read models commit together; the append's
expected versions make a concurrent change fail with ConcurrencyError instead of being
overwritten. The consumer decides a whole poll of intake events in one Work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from followup_service import need_to_know, projections
from followup_service.bootstrap import Followup
from followup_service.domain.case import (
    Case,
    CasePhoto,
    IllegalTransitionError,
    PhotoNotFoundError,
    may_remove_photo,
    open_sub_case,
)
from followup_service.domain.deadlines import auto_close_due
from followup_service.domain.events import CaseEvent, SubCase, event_type, to_payload
from followup_service.domain.routing import Area
from followup_service.tables import cases
from shared.auth import ForbiddenError, Principal
from shared.events.envelope import EventEnvelope, NewEvent
from shared.eventstore.store import ConcurrencyError, StreamAppend
from shared.tracking_code import new_tracking_code

log = logging.getLogger(__name__)

# Who may ask for what; only on the cases in their scope (shared.need_to_know): liaisons
# their agency's, officers their unit's and those their unit holds, supervisors their
# area's, admins (assign) only with the national area.
PERMISSIONS: dict[str, frozenset[str]] = {
    "assign": frozenset({"supervisor", "admin", "officer"}),
    "acknowledge": frozenset({"supervisor", "liaison"}),
    "note_progress": frozenset({"supervisor", "liaison", "officer"}),
    "escalate": frozenset({"supervisor", "liaison", "officer"}),
    "decline": frozenset({"supervisor", "liaison"}),
    "resolve": frozenset({"supervisor", "liaison"}),
    "confirm_resolution": frozenset({"supervisor", "officer"}),
    "dispute_resolution": frozenset({"supervisor", "officer"}),
    "reopen": frozenset({"supervisor", "officer"}),
    "close": frozenset({"supervisor", "officer"}),
    "split": frozenset({"supervisor", "officer"}),
    # photos (issue 25): proof photos by the agency's staff and the unit's; removal as
    # domain.case.may_remove_photo says per photo
    "attach_photo": frozenset({"supervisor", "liaison", "officer"}),
    "remove_photo": frozenset({"supervisor", "liaison", "officer", "admin"}),
}
SYSTEM = "system"


class CaseNotFoundError(LookupError):
    pass


def system_actor(name: str) -> Principal:
    """Processes act as role `system` (the consumer, the deadline worker, the public page)."""
    return Principal(subject=name, role=SYSTEM, token_id="")


def case_stream_id(aspiration_id: str) -> str:
    return f"{projections.CASE_STREAM_PREFIX}{aspiration_id}"


def authorize(case: Case, who: Principal, action: str) -> None:
    if who.role != SYSTEM and who.role not in PERMISSIONS[action]:
        raise ForbiddenError(f"role {who.role!r} may not {action} cases")
    if not need_to_know.access(case, who).in_scope:
        raise ForbiddenError(f"this case is not within your {_scope(who)}")


def _scope(who: Principal) -> str:
    return {"liaison": "agency", "officer": "unit"}.get(who.role, "area")


# --- unit of work -----------------------------------------------------------------------


# case id -> (tracking code, version, public view) of the last change in a transaction
Touched = dict[str, tuple[str, int, dict]]


class Work:
    """One transaction's unit of work: cases loaded once, decided in memory, written at flush().

    save() only records a case's new events; flush() appends every changed stream with
    one multi-stream append (each at the version it was loaded at, so a concurrent
    writer still makes it fail with ConcurrencyError) and projects them in one upsert.
    A poll of the consumer and an API command run the same code; callers flush before
    their transaction commits.
    """

    def __init__(self, fu: Followup, conn: Connection, touched: Touched | None = None):
        self.fu, self.conn, self.touched = fu, conn, touched
        self._cases: dict[str, Case | None] = {}  # None: the stream has no events
        self._loaded_version: dict[str, int] = {}  # of each case with pending events
        self._pending: dict[str, list[NewEvent]] = {}

    def preload(self, case_ids: Iterable[str]) -> None:
        """Load the cases not loaded yet, in one query."""
        missing = {case_id for case_id in case_ids if case_id not in self._cases}
        if missing:
            for stream_id, events in self.fu.store.read_streams(self.conn, missing).items():
                self._cases[stream_id] = (
                    Case.from_events(projections.to_domain(e) for e in events) if events else None
                )

    def find(self, case_id: str) -> Case | None:
        self.preload([case_id])
        return self._cases[case_id]

    def load(self, case_id: str) -> Case:
        case = self.find(case_id)
        if case is None:
            raise CaseNotFoundError(case_id)
        return case

    def save(
        self,
        case: Case,
        expected_version: int,
        events: list[CaseEvent],
        cause: EventEnvelope | None = None,
    ) -> None:
        """Record `events` (already applied to `case`) for the next flush()."""
        if not events:
            return
        loaded = self._loaded_version.setdefault(case.case_id, expected_version)
        pending = self._pending.setdefault(case.case_id, [])
        if expected_version != loaded + len(pending):
            raise ConcurrencyError(case.case_id, expected_version, loaded + len(pending))
        pending += [
            NewEvent(
                event_type(e),
                to_payload(e),
                occurred_at=e.occurred_at,
                actor=e.actor,
                correlation_id=(cause.correlation_id or cause.event_id) if cause else None,
                causation_id=cause.event_id if cause else None,
            )
            for e in events
        ]
        self._cases[case.case_id] = case
        if case.parent_id and case.status == "closed":
            self._conclude_parent(case)

    @property
    def changed(self) -> frozenset[str]:
        """The ids of the cases with events waiting for flush()."""
        return frozenset(self._pending)

    def flush(self) -> None:
        """Append and project everything saved since the last flush."""
        if not self._pending:
            return
        appends = [
            StreamAppend(case_id, self._loaded_version[case_id], events)
            for case_id, events in self._pending.items()
        ]
        self._pending, self._loaded_version = {}, {}
        stored = self.fu.store.append_many(self.conn, appends)
        views = projections.project(
            self.conn, self.fu.rules, [(self._cases[i], new) for i, new in stored.items()]
        )
        if self.touched is not None:
            for case_id, view in views.items():
                case = self._cases[case_id]
                self.touched[case_id] = (case.tracking_code, case.version, view)

    def _conclude_parent(self, sub: Case) -> None:
        parent = self.load(sub.parent_id)
        if parent.status != "split":
            return
        subs = [sub if i == sub.case_id else self.load(i) for i in parent.sub_case_ids]
        if all(s.status == "closed" for s in subs):
            version = parent.version
            events = parent.conclude_split(subs, now=self.fu.clock(), actor="system:split")
            self.save(parent, version, events)


def refresh_cache(fu: Followup, touched: Touched) -> None:
    """Put the views of the cases changed by a committed transaction in the tracking cache.

    Call only after the commit: a reader trusts a cached entry without asking the
    database, and the cache's compare-and-set keeps an older version from winning.
    """
    if not touched:
        return
    try:
        fu.tracking.put_many(list(touched.values()))
    except Exception:  # noqa: BLE001 - the change is committed; never fail the caller
        log.warning("could not refresh tracking cache for %s", sorted(touched), exc_info=True)
        try:  # an entry left behind would be served until it expires: drop it instead
            fu.tracking.forget([code for code, _, _ in touched.values()])
        except Exception:  # noqa: BLE001
            log.warning("could not drop tracking cache entries either", exc_info=True)


def _run(
    fu: Followup,
    case_id: str,
    who: Principal,
    action: str,
    decide: Callable[[Case], list[CaseEvent]],
    expected_version: int | None = None,
    then: Callable[[Connection], None] | None = None,
) -> Case:
    """Load, authorize, check the caller's version, decide, append and project, and `then`
    (what must commit with the events); one commit."""
    touched: Touched = {}
    with fu.engine.begin() as conn:
        work = Work(fu, conn, touched)
        case = work.load(case_id)
        authorize(case, who, action)
        if expected_version is not None and expected_version != case.version:
            raise ConcurrencyError(case_id, expected_version, case.version)
        version = case.version
        work.save(case, version, decide(case))
        work.flush()
        if then is not None:
            then(conn)
    refresh_cache(fu, touched)
    return case


# --- commands from people ----------------------------------------------------------------


def assign(fu, case_id, who, *, agency_id, reason, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "assign",
        lambda c: c.assign(fu.rules, agency_id, reason=reason, now=fu.clock(), actor=who.actor),
        expected_version,
    )


def acknowledge(fu, case_id, who, *, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "acknowledge",
        lambda c: c.acknowledge(now=fu.clock(), actor=who.actor),
        expected_version,
    )


def note_progress(
    fu, case_id, who, *, text, public, evidence_ref=None, expected_version=None
) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "note_progress",
        lambda c: c.note_progress(
            text, public=public, evidence_ref=evidence_ref, now=fu.clock(), actor=who.actor
        ),
        expected_version,
    )


def attach_proof_photo(
    fu, case_id, who, *, photo_id, sha256, public, expected_version=None
) -> Case:
    """A proof photo (kind `after`) whose blob is already in the store; a liaison's
    carries their agency (who may remove it later)."""
    agency = who.agency if who.role == "liaison" else None
    return _run(
        fu,
        case_id,
        who,
        "attach_photo",
        lambda c: c.attach_photo(
            photo_id=photo_id,
            sha256=sha256,
            public=public,
            kind="after",
            agency_id=agency,
            now=fu.clock(),
            actor=who.actor,
        ),
        expected_version,
    )


def remove_photo(fu, case_id, who, *, photo_id, reason) -> tuple[Case, CasePhoto]:
    """Record PhotoRemoved and, in the same commit, queue its blob for deletion
    (photos.blobs: the caller asks the store after the commit, the worker again later).
    ForbiddenError out of scope or when the photo is not the caller's to remove;
    PhotoNotFoundError when the case has no such photo (removed already: a second removal
    changes nothing)."""
    from followup_service.photos import blobs

    removed: list[CasePhoto] = []

    def decide(case: Case) -> list[CaseEvent]:
        photo = case.photo(photo_id)
        if photo is None:
            raise PhotoNotFoundError(photo_id)
        if not may_remove_photo(photo, who.role, getattr(who, "agency", None)):
            raise ForbiddenError(f"role {who.role!r} may not remove this photo")
        removed.append(photo)
        return case.remove_photo(photo_id, reason=reason, now=fu.clock(), actor=who.actor)

    def queue_blob(conn: Connection) -> None:
        blobs.request_deletion(conn, removed[0].sha256, fu.clock())

    case = _run(fu, case_id, who, "remove_photo", decide, then=queue_blob)
    return case, removed[0]


def escalate(fu, case_id, who, *, reason, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "escalate",
        lambda c: c.escalate(fu.rules, reason=reason, now=fu.clock(), actor=who.actor),
        expected_version,
    )


def decline(fu, case_id, who, *, reason, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "decline",
        lambda c: c.decline(fu.rules, reason=reason, now=fu.clock(), actor=who.actor),
        expected_version,
    )


def resolve(fu, case_id, who, *, resolution, evidence_ref=None, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "resolve",
        lambda c: c.resolve(
            fu.rules,
            resolution=resolution,
            evidence_ref=evidence_ref,
            now=fu.clock(),
            actor=who.actor,
        ),
        expected_version,
    )


def confirm_resolution(fu, case_id, who, *, photo_ref=None, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "confirm_resolution",
        lambda c: c.confirm_resolution(photo_ref=photo_ref, now=fu.clock(), actor=who.actor),
        expected_version,
    )


def dispute_resolution(fu, case_id, who, *, reason, expected_version=None) -> Case:
    """The area's officer (or a supervisor) rejects the agency's resolution."""
    return _run(
        fu,
        case_id,
        who,
        "dispute_resolution",
        lambda c: c.dispute_resolution(
            fu.rules, by="officer", reason=reason, now=fu.clock(), actor=who.actor
        ),
        expected_version,
    )


def community_dispute(fu, tracking_code: str, *, reason: str) -> Case:
    """A resident holding the tracking code disputes the resolution (rate limited at the edge)."""
    with fu.engine.connect() as conn:
        case_id = conn.execute(
            select(cases.c.case_id).where(cases.c.tracking_code == tracking_code)
        ).scalar()
    if case_id is None:
        raise CaseNotFoundError(tracking_code)
    who = system_actor("community")
    return _run(
        fu,
        case_id,
        who,
        "dispute_resolution",
        lambda c: c.dispute_resolution(
            fu.rules, by="community", reason=reason, now=fu.clock(), actor="public:community"
        ),
    )


def reopen(fu, case_id, who, *, reason, expected_version=None) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "reopen",
        lambda c: c.reopen(fu.rules, reason=reason, now=fu.clock(), actor=who.actor),
        expected_version,
    )


def close(
    fu, case_id, who, *, outcome, reason="", duplicate_of=None, expected_version=None
) -> Case:
    return _run(
        fu,
        case_id,
        who,
        "close",
        lambda c: c.close(
            outcome=outcome,
            reason=reason,
            duplicate_of=duplicate_of,
            now=fu.clock(),
            actor=who.actor,
        ),
        expected_version,
    )


def split(fu, case_id, who, *, parts: list[dict], expected_version=None) -> list[Case]:
    """Split into one routed sub-case per part ({category, public_summary}); returns them."""
    touched: Touched = {}
    now = fu.clock()
    with fu.engine.begin() as conn:
        work = Work(fu, conn, touched)
        parent = work.load(case_id)
        authorize(parent, who, "split")
        if expected_version is not None and expected_version != parent.version:
            raise ConcurrencyError(case_id, expected_version, parent.version)
        subs = [
            SubCase(f"{case_id}-{uuid.uuid4().hex[:6]}", p["category"], p["public_summary"])
            for p in parts
        ]
        work.save(parent, parent.version, parent.split(subs, now=now, actor=who.actor))
        children = []
        for sub in subs:
            code = _unused_tracking_code(conn)
            child, events = open_sub_case(
                fu.rules, parent, sub, tracking_code=code, now=now, actor=who.actor
            )
            events += child.route(fu.rules, now=now, actor=who.actor)
            work.save(child, 0, events)
            children.append(child)
        work.flush()
    refresh_cache(fu, touched)
    return children


def _unused_tracking_code(conn: Connection) -> str:
    while True:
        code = new_tracking_code()
        if (
            conn.execute(select(cases.c.case_id).where(cases.c.tracking_code == code)).first()
            is None
        ):
            return code


# --- commands from intake events (run inside the consumer's transaction) ------------------


@dataclass(frozen=True)
class OpenCase:
    aspiration_id: str
    tracking_code: str
    category: str
    area: Area
    public_summary: str
    description: str = ""
    urgency: str = "normal"
    confidential: bool = False
    unit: str = ""
    backing_count: int = 0
    backing_groups: tuple[str, ...] = ()
    meeting_id: str | None = None
    photos: tuple[dict, ...] = ()  # AspirationRecorded v6's references: {id, sha256, public}


def open_case(work: Work, command: OpenCase, cause: EventEnvelope) -> bool:
    """Open and auto-route the case of a recorded aspiration; False if it was already open."""
    fu, stream = work.fu, case_stream_id(command.aspiration_id)
    if work.find(stream) is not None:
        return False
    now, actor = fu.clock(), "system:intake-consumer"
    case = Case()
    events = case.open(
        fu.rules,
        case_id=stream,
        aspiration_id=command.aspiration_id,
        tracking_code=command.tracking_code,
        category=command.category,
        area=command.area,
        public_summary=command.public_summary,
        description=command.description,
        urgency=command.urgency,
        sensitive=command.confidential,
        unit=command.unit,
        now=now,
        actor=actor,
    )
    events += case.route(fu.rules, now=now, actor=actor)
    if command.backing_count or command.backing_groups:  # residents backing it at the meeting
        events += case.back(
            backing_id=f"recorded-{command.aspiration_id}",
            count=command.backing_count,
            total_count=command.backing_count,
            groups=command.backing_groups,
            meeting_id=command.meeting_id,
            now=now,
            actor=actor,
        )
    for ref in command.photos:  # the aspiration's photos: references in the case's own log
        events += case.attach_photo(
            photo_id=str(ref["id"]),
            sha256=ref["sha256"],
            public=bool(ref.get("public")),
            kind="before",
            now=now,
            actor=actor,
        )
    # A concurrent opener makes the flush fail with ConcurrencyError (version 1 exists).
    work.save(case, 0, events, cause)
    log.info(
        "case opened and routed (%s)",
        command.category,
        extra={
            "case_id": stream,
            "aspiration_id": command.aspiration_id,
            "correlation_id": cause.correlation_id or cause.event_id,
        },
    )
    return True


def back_from_intake(work: Work, aspiration_id: str, backing: dict, cause: EventEnvelope) -> None:
    """Residents back an aspiration again: the case records it (once per backing id)."""
    case = _load_for_intake(work, aspiration_id)
    if case is None:
        return
    version = case.version
    events = case.back(
        backing_id=str(backing["backing_id"]),
        count=backing["count"],
        total_count=backing["total_count"],
        groups=backing.get("groups") or (),
        meeting_id=str(backing["meeting_id"]) if backing.get("meeting_id") else None,
        now=work.fu.clock(),
        actor="system:intake-consumer",
    )
    work.save(case, version, events, cause)


def amend_from_intake(
    work: Work,
    aspiration_id: str,
    changes: dict,
    previous: dict,
    cause: EventEnvelope,
    area: Area | None = None,
) -> None:
    """Apply an intake amendment: category, description, public summary; and the area when
    the location changed (recorded in any status; a case with an agency re-routes)."""
    case = _load_for_intake(work, aspiration_id)
    if case is None:
        return
    public_summary = changes.get("public_summary") or None
    if public_summary is None and "summary" in changes:
        # The internal summary never goes public: a public summary that was a copy of it
        # (recorded before public summaries were asked for) is cleared, not updated.
        derived = bool(case.public_summary) and case.public_summary == previous.get("summary")
        public_summary = "" if derived else None
    version, now, actor = case.version, work.fu.clock(), "system:intake-consumer"
    events = []
    fields = {"public_summary": public_summary, "description": changes.get("description")}
    fields["category"] = changes.get("category")
    if any(value is not None for value in fields.values()):
        try:
            events += case.amend(work.fu.rules, **fields, now=now, actor=actor)
        except IllegalTransitionError as error:
            log.info("amendment of %s ignored: %s", case.case_id, error)
    if area is not None:
        try:
            events += case.relocate(work.fu.rules, area, now=now, actor=actor)
        except IllegalTransitionError as error:
            log.info("relocation of %s ignored: %s", case.case_id, error)
    work.save(case, version, events, cause)


def withdraw_from_intake(
    work: Work, aspiration_id: str, reason: str, duplicate_of, note, cause: EventEnvelope
) -> None:
    """A withdrawn aspiration ends its case: as a duplicate (linked) or as withdrawn."""
    case = _load_for_intake(work, aspiration_id)
    if case is None:
        return
    version, now, actor = case.version, work.fu.clock(), "system:intake-consumer"
    text = f"{reason}: {note}" if note else reason
    try:
        if duplicate_of and "close" in case.allowed_actions():
            events = case.close(
                outcome="duplicate",
                reason=text,
                duplicate_of=case_stream_id(duplicate_of),
                now=now,
                actor=actor,
            )
        else:
            events = case.withdraw(reason=text, now=now, actor=actor)
    except IllegalTransitionError as error:
        log.info("withdrawal of %s ignored: %s", case.case_id, error)
        return
    work.save(case, version, events, cause)


def remove_photos_from_intake(
    work: Work, aspiration_id: str, photo_ids: list[str], reason: str, cause: EventEnvelope
) -> None:
    """Intake removed an aspiration's photos (withdrawal, erasure): the case records it
    for each photo it still holds (intake has deleted the blobs)."""
    case = _load_for_intake(work, aspiration_id)
    if case is None:
        return
    version, now, actor = case.version, work.fu.clock(), "system:intake-consumer"
    events: list[CaseEvent] = []
    for photo_id in photo_ids:
        if case.photo(photo_id) is not None:
            events += case.remove_photo(photo_id, reason=reason, now=now, actor=actor)
    work.save(case, version, events, cause)


def _load_for_intake(work: Work, aspiration_id: str) -> Case | None:
    case = work.find(case_stream_id(aspiration_id))
    if case is None:  # never opened (e.g. an unknown aspiration): nothing to change
        log.warning("no case for aspiration %s; intake event ignored", aspiration_id)
    return case


def load_case(fu: Followup, case_id: str) -> Case:
    with fu.engine.connect() as conn:
        return Work(fu, conn).load(case_id)


# --- upgrade --------------------------------------------------------------------------


def record_legacy_photos(fu: Followup) -> int:
    """Give the photos that `case_photos` held before the cases' own events carried them
    (before migration a7c3e5f90b12) their PhotoAttached event, so that a rebuild, or the
    next change of such a case (which rewrites its rows from its events), keeps them.

    Run by `migrate` after the schema upgrade; a row that already has its event is left
    alone, so running it again appends nothing. Returns how many events it appended."""
    from followup_service.tables import case_photos

    attached = fu.store.events.alias("attached")
    has_event = (
        select(attached.c.global_position)
        .where(
            attached.c.stream_id == case_photos.c.case_id,
            attached.c.event_type == "PhotoAttached",
            attached.c.payload["photo_id"].as_string() == case_photos.c.photo_id,
        )
        .exists()
    )
    touched: Touched = {}
    appended = 0
    with fu.engine.begin() as conn:
        rows = conn.execute(
            select(case_photos).where(~has_event).order_by(case_photos.c.added_at)
        ).all()
        work = Work(fu, conn, touched)
        work.preload({row.case_id for row in rows})
        by_case: dict[str, list] = {}
        for row in rows:
            by_case.setdefault(row.case_id, []).append(row)
        for case_id, photos in by_case.items():
            case = work.find(case_id)
            if case is None:
                log.warning("case_photos names case %s, which has no events; left as is", case_id)
                continue
            version, events = case.version, []
            for row in photos:
                events += case.attach_photo(
                    photo_id=row.photo_id,
                    sha256=row.sha256,
                    public=row.public,
                    kind=row.kind,
                    agency_id=row.agency_id,
                    now=row.added_at,
                    actor=row.added_by or "system:photo-upgrade",
                )
            work.save(case, version, events)
            appended += len(events)
        work.flush()
    refresh_cache(fu, touched)
    return appended


# --- the deadline worker's commands ------------------------------------------------------


def enforce_deadlines(
    fu: Followup, conn: Connection, case_id: str, touched: Touched | None = None
) -> list[CaseEvent]:
    """Escalate each breached deadline once, and auto-close after the quiet period.

    Changed cases land in `touched`; refresh their cache entries after the commit.
    """
    work = Work(fu, conn, touched)
    case = work.load(case_id)
    version, now = case.version, fu.clock()
    events = case.escalate_overdue(fu.rules, now=now, actor="system:deadline-worker")
    if auto_close_due(case, now):
        events += case.close(
            outcome="resolved_verified",
            reason="no dispute during the verification period",
            now=now,
            actor="system:deadline-worker",
        )
    work.save(case, version, events)
    work.flush()
    return events
