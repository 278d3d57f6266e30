"""The Case aggregate: state is a fold of its events; commands check invariants and emit events.

Where each action leads (TRANSITIONS below says where it may start):
    open -> triage; route/assign/escalate -> routed; acknowledge -> acknowledged;
    note_progress: acknowledged -> in_progress, otherwise unchanged;
    decline -> routed (next candidate agency) or closed/not_responsible;
    resolve -> resolved_pending_verification; confirm_resolution -> closed/resolved_verified;
    dispute_resolution -> in_progress (same agency);
    reopen -> in_progress (last agency) or triage (none left);
    close -> closed/<outcome>; split -> split; conclude_split -> closed/<outcome>;
    amend -> unchanged (routed if the new category needs another agency);
    withdraw -> closed/withdrawn; back (residents' backing) -> unchanged, any status;
    attach_photo / remove_photo (issue 25) -> unchanged, any status once opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from followup_service.domain.deadlines import breach_key, breaches
from followup_service.domain.events import (
    DISPUTERS,
    CaseAcknowledged,
    CaseAmended,
    CaseBacked,
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseEvent,
    CaseOpened,
    CaseRelocated,
    CaseReopened,
    CaseResolved,
    CaseRouted,
    CaseSplit,
    CaseWithdrawn,
    DeadlineMissed,
    PhotoAttached,
    PhotoRemoved,
    ProgressNoted,
    ResolutionDisputed,
    SubCase,
    VerificationConfirmed,
)
from followup_service.domain.routing import (
    URGENCIES,
    Agency,
    Area,
    RoutingDecision,
    RoutingRules,
    RoutingRulesError,
    next_level,
)

WITH_AGENCY = frozenset({"routed", "acknowledged", "in_progress"})


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """A case is overdue while an agency holds it past its next deadline."""
    return status in WITH_AGENCY and due_at is not None and due_at <= now


OPEN_STATUSES = WITH_AGENCY | {"triage", "resolved_pending_verification", "split"}

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"new"}),
    "route": frozenset({"triage"}),
    "assign": WITH_AGENCY | {"triage"},
    "acknowledge": frozenset({"routed"}),
    "note_progress": WITH_AGENCY | {"resolved_pending_verification", "split"},
    "escalate": WITH_AGENCY,
    "decline": WITH_AGENCY,
    "resolve": WITH_AGENCY,
    "confirm_resolution": frozenset({"resolved_pending_verification"}),
    "dispute_resolution": frozenset({"resolved_pending_verification"}),
    "reopen": frozenset({"closed"}),
    "close": WITH_AGENCY | {"triage", "resolved_pending_verification"},
    "split": frozenset({"triage", "routed"}),
    "conclude_split": frozenset({"split"}),
    "amend": WITH_AGENCY | {"triage"},
    "withdraw": OPEN_STATUSES,
}
CLOSE_OUTCOMES = ("resolved_verified", "not_responsible", "duplicate", "no_further_action")


class DomainError(Exception):
    pass


class IllegalTransitionError(DomainError):
    def __init__(self, current_status: str, action: str, allowed_actions: list[str]):
        self.current_status = current_status
        self.action = action
        self.allowed_actions = allowed_actions
        allowed = ", ".join(allowed_actions) or "nothing"
        super().__init__(f"cannot {action} a case that is {current_status}; allowed: {allowed}")


class InvalidCommandError(DomainError, ValueError):
    pass


class PhotoNotFoundError(DomainError, LookupError):
    """The case has no such photo (never attached, or removed already)."""


MAX_PROOF_PHOTOS = 10  # `after` photos per case (the aspiration brings at most 5 `before`)


@dataclass(frozen=True)
class CasePhoto:
    """A photo reference the case holds (the bytes are in the photo store)."""

    photo_id: str
    sha256: str
    public: bool
    kind: str  # before | after
    agency_id: str | None  # the agency whose staff attached a proof photo
    added_by: str
    added_at: datetime


def may_remove_photo(photo: CasePhoto, role: str, agency: str | None) -> bool:
    """Who may remove which photo, for a caller with the case in scope (need to know
    decides that part): a liaison the proof photos their agency attached; the unit's
    officers and the area's supervisors the aspiration's photos; an admin any."""
    if role == "admin":
        return True
    if role == "liaison":
        return photo.kind == "after" and bool(agency) and photo.agency_id == agency
    if role in ("officer", "supervisor"):
        return photo.kind == "before"
    return role == "system"  # intake's withdrawal or erasure, through the consumer


@dataclass
class Case:
    case_id: str = ""
    version: int = 0
    status: str = "new"
    aspiration_id: str = ""
    tracking_code: str = ""
    category: str = ""
    region: str = ""
    kecamatan: str = ""
    kelurahan: str = ""
    public_summary: str = ""
    description: str = ""
    urgency: str = "normal"
    sensitive: bool = False
    parent_id: str | None = None
    unit: str = ""
    agency: Agency | None = None
    ladder: tuple[Agency, ...] = ()
    level: int = 0
    rule_version: str | None = None
    acknowledge_by: datetime | None = None
    resolve_by: datetime | None = None
    verify_by: datetime | None = None
    declined_by: tuple[str, ...] = ()
    handled_breaches: frozenset[str] = frozenset()
    sub_case_ids: tuple[str, ...] = ()
    outcome: str | None = None
    close_reason: str = ""
    duplicate_of: str | None = None
    backing_count: int = 0
    backing_ids: frozenset[str] = frozenset()
    photos: tuple[CasePhoto, ...] = ()
    history: list[CaseEvent] = field(default_factory=list)

    @classmethod
    def from_events(cls, events: Iterable[CaseEvent]) -> Case:
        case = cls()
        for event in events:
            case._apply(event)
        return case

    @property
    def area(self) -> Area:
        return Area(self.region, self.kecamatan, self.kelurahan)

    def allowed_actions(self) -> list[str]:
        actions = [action for action, sources in TRANSITIONS.items() if self.status in sources]
        if self.outcome == "withdrawn":
            actions.remove("reopen")
        if self.status in WITH_AGENCY and next_level(self.ladder, self.level) is None:
            actions.remove("escalate")
        return actions

    # --- commands -------------------------------------------------------------------------

    def open(
        self,
        rules: RoutingRules,
        *,
        case_id: str,
        aspiration_id: str,
        tracking_code: str,
        category: str,
        area: Area,
        public_summary: str,
        description: str = "",
        urgency: str = "normal",
        sensitive: bool = False,
        parent_id: str | None = None,
        unit: str = "",
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """Open from a recorded aspiration; the rules may mark the category sensitive."""
        self._require("open")
        if urgency not in URGENCIES:
            raise InvalidCommandError(f"urgency must be one of {URGENCIES}")
        return self._record(
            CaseOpened(
                case_id=case_id,
                occurred_at=now,
                actor=actor,
                aspiration_id=aspiration_id,
                tracking_code=tracking_code,
                category=category,
                region=area.region,
                kecamatan=area.kecamatan,
                kelurahan=area.kelurahan,
                public_summary=public_summary,
                description=description,
                urgency=urgency,
                sensitive=sensitive or rules.is_sensitive(category),
                parent_id=parent_id,
                unit=unit,
            )
        )

    def route(self, rules: RoutingRules, *, now: datetime, actor: str) -> list[CaseEvent]:
        self._require("route")
        return self._route_or_give_up(rules, "routing rules", now, actor)

    def assign(
        self, rules: RoutingRules, agency_id: str, *, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """Route by hand to a chosen agency, keeping the rest of its ladder if it has one."""
        self._require("assign")
        _require_text(reason, "reason")
        try:
            agency = rules.agency(agency_id, self.area)
        except RoutingRulesError as error:  # an unknown agency: the command is wrong
            raise InvalidCommandError(str(error)) from error
        ladder = rules.ladder_from(self.category, self.area, agency)
        decision = rules.decide(ladder, self.category, self.area, start=now, urgency=self.urgency)
        return self._record(self._routed(decision, reason, False, now, actor))

    def acknowledge(self, *, now: datetime, actor: str) -> list[CaseEvent]:
        self._require("acknowledge")
        return self._record(CaseAcknowledged(**self._meta(now, actor), agency_id=self._agency().id))

    def note_progress(
        self,
        text: str,
        *,
        public: bool,
        evidence_ref: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        self._require("note_progress")
        _require_text(text, "text")
        return self._record(
            ProgressNoted(
                **self._meta(now, actor), text=text, public=public, evidence_ref=evidence_ref
            )
        )

    def escalate(
        self, rules: RoutingRules, *, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """Escalate by hand one rung up the ladder."""
        self._require("escalate")
        _require_text(reason, "reason")
        return self._record(self._escalation(rules, reason, None, now, actor))

    def escalate_overdue(
        self, rules: RoutingRules, *, now: datetime, actor: str = "deadline-worker"
    ) -> list[CaseEvent]:
        """Escalate each breached deadline exactly once; at the top, record the miss instead."""
        new: list[CaseEvent] = []
        while found := breaches(self, now):
            breach = found[0]
            agency = self._agency()
            if next_level(self.ladder, self.level) is None:
                event: CaseEvent = DeadlineMissed(
                    **self._meta(now, actor),
                    agency_id=agency.id,
                    breach=breach.deadline,
                    due_at=breach.due_at,
                )
            else:
                reason = f"{breach.deadline} deadline {breach.due_at.isoformat()} missed"
                event = self._escalation(rules, reason, breach.deadline, now, actor)
            new += self._record(event)
        return new

    def decline(
        self, rules: RoutingRules, *, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """The agency declines: back to triage, then the next candidate or not_responsible."""
        self._require("decline")
        _require_text(reason, "reason")
        declined = CaseDeclined(
            **self._meta(now, actor), agency_id=self._agency().id, reason=reason
        )
        return self._record(declined) + self._route_or_give_up(
            rules, f"re-routed after {declined.agency_id} declined", now, actor
        )

    def resolve(
        self,
        rules: RoutingRules,
        *,
        resolution: str,
        evidence_ref: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """The agency says resolved; the area's officer must now verify it."""
        self._require("resolve")
        _require_text(resolution, "resolution")
        return self._record(
            CaseResolved(
                **self._meta(now, actor),
                agency_id=self._agency().id,
                resolution=resolution,
                evidence_ref=evidence_ref,
                verify_by=rules.verification_deadline(now),
            )
        )

    def confirm_resolution(
        self, *, photo_ref: str | None = None, now: datetime, actor: str
    ) -> list[CaseEvent]:
        self._require("confirm_resolution")
        return self._record(
            VerificationConfirmed(**self._meta(now, actor), photo_ref=photo_ref),
            CaseClosed(**self._meta(now, actor), outcome="resolved_verified"),
        )

    def dispute_resolution(
        self, rules: RoutingRules, *, by: str, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """Officer or community rejects the resolution: back to the same agency."""
        self._require("dispute_resolution")
        if by not in DISPUTERS:
            raise InvalidCommandError(f"by must be one of {DISPUTERS}")
        _require_text(reason, "reason")
        return self._record(
            ResolutionDisputed(**self._meta(now, actor), by=by, reason=reason),
            self._reopened(rules, reason, now, actor),
        )

    def reopen(
        self, rules: RoutingRules, *, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """Reopen a closed case: with its last agency if it had one, else back to triage."""
        self._require("reopen")
        _require_text(reason, "reason")
        return self._record(self._reopened(rules, reason, now, actor))

    def close(
        self,
        *,
        outcome: str,
        reason: str = "",
        duplicate_of: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """End honestly; resolved_verified here is the auto-close after the quiet period."""
        self._require("close")
        if outcome not in CLOSE_OUTCOMES:
            raise InvalidCommandError(f"outcome must be one of {CLOSE_OUTCOMES}")
        if outcome == "duplicate" and duplicate_of in (None, "", self.case_id):
            raise InvalidCommandError("a duplicate must link to another case")
        if outcome == "resolved_verified" and self.status != "resolved_pending_verification":
            raise InvalidCommandError("only a resolved case can close as resolved_verified")
        if outcome in ("not_responsible", "no_further_action"):
            _require_text(reason, "reason")
        return self._record(
            CaseClosed(
                **self._meta(now, actor),
                outcome=outcome,
                reason=reason,
                duplicate_of=duplicate_of if outcome == "duplicate" else None,
            )
        )

    def split(self, sub_cases: list[SubCase], *, now: datetime, actor: str) -> list[CaseEvent]:
        """One sub-case per agency; open each as its own Case with `open_sub_case`."""
        self._require("split")
        ids = [sub.case_id for sub in sub_cases]
        if len(sub_cases) < 2 or len(set(ids)) != len(ids) or self.case_id in ids:
            raise InvalidCommandError("a split needs at least two distinct sub-case ids")
        return self._record(CaseSplit(**self._meta(now, actor), sub_cases=tuple(sub_cases)))

    def conclude_split(
        self, sub_cases: list[Case], *, now: datetime, actor: str
    ) -> list[CaseEvent]:
        """Close the parent once every sub-case has ended."""
        self._require("conclude_split")
        if sorted(sub.case_id for sub in sub_cases) != sorted(self.sub_case_ids):
            raise InvalidCommandError("all sub-cases of this case are needed")
        ending = split_outcome(sub_cases)
        if ending is None:
            raise InvalidCommandError("some sub-cases are still open")
        outcome, reason = ending
        return self._record(CaseClosed(**self._meta(now, actor), outcome=outcome, reason=reason))

    def amend(
        self,
        rules: RoutingRules,
        *,
        public_summary: str | None = None,
        description: str | None = None,
        category: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """Apply changed fields; a new category re-routes a case that is with an agency."""
        self._require("amend")
        changes = {
            name: value
            for name, value in (
                ("public_summary", public_summary),
                ("description", description),
                ("category", category),
            )
            if value is not None and value != getattr(self, name)
        }
        if not changes:
            return []
        new_category = changes.get("category", self.category)
        new = self._record(
            CaseAmended(
                **self._meta(now, actor),
                **changes,
                sensitive=self.sensitive or rules.is_sensitive(new_category),
            )
        )
        if "category" in changes and self.status in WITH_AGENCY:
            new += self._reroute(rules, "category amended", now, actor)
        return new

    def relocate(self, rules: RoutingRules, area: Area, *, now: datetime, actor: str):
        """The aspiration's location was amended (e.g. "lokasi belum terverifikasi" fixed):
        recorded in any status once opened; a case with an agency goes to the new place's
        ladder (unless that is the same agency); one resolved or closed keeps its history,
        and a reopen routes by the new area."""
        if self.status == "new":
            raise IllegalTransitionError(self.status, "relocate", self.allowed_actions())
        if area == self.area:
            return []
        new = self._record(
            CaseRelocated(
                **self._meta(now, actor),
                region=area.region,
                kecamatan=area.kecamatan,
                kelurahan=area.kelurahan,
            )
        )
        if self.status in WITH_AGENCY:
            new += self._reroute(rules, "location amended", now, actor)
        return new

    def _reroute(self, rules: RoutingRules, reason: str, now: datetime, actor: str):
        decision = rules.route(
            self.category, self.area, start=now, urgency=self.urgency, excluding=self.declined_by
        )
        if decision is None or decision.agency == self.agency:
            return []
        return self._record(self._routed(decision, reason, True, now, actor))

    def back(
        self,
        *,
        backing_id: str,
        count: int,
        total_count: int,
        groups: Iterable[str] = (),
        meeting_id: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """Record residents backing the aspiration, in any status once opened; once per id."""
        if self.status == "new":
            raise IllegalTransitionError(self.status, "back", self.allowed_actions())
        if count < 0 or total_count < 0:
            raise InvalidCommandError("backing counts must not be negative")
        if not backing_id:
            raise InvalidCommandError("backing_id must not be empty")
        if backing_id in self.backing_ids:
            return []
        return self._record(
            CaseBacked(
                **self._meta(now, actor),
                backing_id=backing_id,
                count=count,
                total_count=total_count,
                groups=tuple(groups),
                meeting_id=meeting_id,
            )
        )

    def withdraw(self, *, reason: str, now: datetime, actor: str) -> list[CaseEvent]:
        self._require("withdraw")
        return self._record(
            CaseWithdrawn(**self._meta(now, actor), reason=reason),
            CaseClosed(**self._meta(now, actor), outcome="withdrawn", reason=reason),
        )

    def photo(self, photo_id: str) -> CasePhoto | None:
        return next((p for p in self.photos if p.photo_id == photo_id), None)

    def attach_photo(
        self,
        *,
        photo_id: str,
        sha256: str,
        public: bool,
        kind: str,
        agency_id: str | None = None,
        now: datetime,
        actor: str,
    ) -> list[CaseEvent]:
        """Attach a photo reference; the same id again changes nothing."""
        if self.status == "new":
            raise IllegalTransitionError(self.status, "attach_photo", self.allowed_actions())
        if self.photo(photo_id) is not None:
            return []
        if kind == "after" and sum(p.kind == "after" for p in self.photos) >= MAX_PROOF_PHOTOS:
            raise InvalidCommandError(f"at most {MAX_PROOF_PHOTOS} proof photos per case")
        return self._record(
            PhotoAttached(
                **self._meta(now, actor),
                photo_id=photo_id,
                sha256=sha256,
                public=public,
                kind=kind,
                agency_id=agency_id,
            )
        )

    def remove_photo(self, photo_id: str, *, reason: str, now: datetime, actor: str):
        """Remove a photo (its blob goes too: the caller's part). PhotoNotFoundError when
        the case has no such photo, so a second removal is a 404, not a new event."""
        if self.photo(photo_id) is None:
            raise PhotoNotFoundError(photo_id)
        _require_text(reason, "reason")
        return self._record(
            PhotoRemoved(**self._meta(now, actor), photo_id=photo_id, reason=reason)
        )

    # --- helpers --------------------------------------------------------------------------

    def _require(self, action: str) -> None:
        allowed = self.allowed_actions()
        if action not in allowed:
            raise IllegalTransitionError(self.status, action, allowed)

    def _meta(self, now: datetime, actor: str) -> dict:
        return {"case_id": self.case_id, "occurred_at": now, "actor": actor}

    def _agency(self) -> Agency:
        assert self.agency is not None, "statuses with an agency always have one"
        return self.agency

    def _record(self, *events: CaseEvent) -> list[CaseEvent]:
        for event in events:
            self._apply(event)
        return list(events)

    def _routed(
        self, decision: RoutingDecision, reason: str, automatic: bool, now: datetime, actor: str
    ) -> CaseRouted:
        return CaseRouted(
            **self._meta(now, actor),
            agency_id=decision.agency.id,
            agency_name=decision.agency.name,
            level=0,
            ladder=decision.ladder,
            rule_version=decision.rule_version,
            reason=reason,
            automatic=automatic,
            acknowledge_by=decision.deadlines.acknowledge_by,
            resolve_by=decision.deadlines.resolve_by,
        )

    def _route_or_give_up(
        self, rules: RoutingRules, reason: str, now: datetime, actor: str
    ) -> list[CaseEvent]:
        decision = rules.route(
            self.category, self.area, start=now, urgency=self.urgency, excluding=self.declined_by
        )
        if decision is None:
            declined = ", ".join(self.declined_by)
            return self._record(
                CaseClosed(
                    **self._meta(now, actor),
                    outcome="not_responsible",
                    reason=f"no agency left to route to; declined by {declined}",
                )
            )
        return self._record(self._routed(decision, reason, True, now, actor))

    def _escalation(
        self, rules: RoutingRules, reason: str, breach: str | None, now: datetime, actor: str
    ) -> CaseEscalated:
        step = next_level(self.ladder, self.level)
        assert step is not None, "callers check the top of the ladder"
        to_level, to_agency = step
        deadlines = rules.deadlines(self.category, now, self.urgency, self.region)
        return CaseEscalated(
            **self._meta(now, actor),
            from_agency_id=self._agency().id,
            from_level=self.level,
            to_agency_id=to_agency.id,
            to_agency_name=to_agency.name,
            to_level=to_level,
            reason=reason,
            automatic=breach is not None,
            breach=breach,
            rule_version=rules.version,
            acknowledge_by=deadlines.acknowledge_by,
            resolve_by=deadlines.resolve_by,
        )

    def _reopened(
        self, rules: RoutingRules, reason: str, now: datetime, actor: str
    ) -> CaseReopened:
        resolve_by = None
        if self.agency is not None:
            resolve_by = rules.deadlines(self.category, now, self.urgency, self.region).resolve_by
        return CaseReopened(**self._meta(now, actor), reason=reason, resolve_by=resolve_by)

    def _apply(self, event: CaseEvent) -> None:
        match event:
            case CaseOpened():
                self.case_id, self.status = event.case_id, "triage"
                for name in (
                    "aspiration_id",
                    "tracking_code",
                    "category",
                    "region",
                    "kecamatan",
                    "kelurahan",
                    "public_summary",
                    "description",
                    "urgency",
                    "sensitive",
                    "parent_id",
                    "unit",
                ):
                    setattr(self, name, getattr(event, name))
            case CaseRouted():
                self.status, self.level, self.ladder = "routed", 0, event.ladder
                self.agency = event.ladder[0]
                self.rule_version = event.rule_version
                self.acknowledge_by, self.resolve_by = event.acknowledge_by, event.resolve_by
            case CaseAcknowledged():
                self.status = "acknowledged"
            case ProgressNoted():
                if self.status == "acknowledged":
                    self.status = "in_progress"
            case CaseEscalated():
                if event.breach is not None:
                    due_at = getattr(self, f"{event.breach}_by")
                    self.handled_breaches |= {breach_key(event.breach, due_at)}
                self.status, self.level = "routed", event.to_level
                self.agency = self.ladder[event.to_level]
                self.rule_version = event.rule_version
                self.acknowledge_by, self.resolve_by = event.acknowledge_by, event.resolve_by
            case DeadlineMissed():
                self.handled_breaches |= {breach_key(event.breach, event.due_at)}
            case CaseDeclined():
                self.status, self.agency, self.ladder, self.level = "triage", None, (), 0
                self.declined_by += (event.agency_id,)
                self.acknowledge_by = self.resolve_by = None
            case CaseResolved():
                self.status, self.verify_by = "resolved_pending_verification", event.verify_by
            case CaseReopened():
                self.status = "in_progress" if self.agency is not None else "triage"
                self.resolve_by, self.verify_by = event.resolve_by, None
                self.outcome, self.close_reason, self.duplicate_of = None, "", None
            case CaseClosed():
                self.status, self.outcome, self.verify_by = "closed", event.outcome, None
                self.close_reason, self.duplicate_of = event.reason, event.duplicate_of
            case CaseSplit():
                self.status, self.agency, self.ladder, self.level = "split", None, (), 0
                self.sub_case_ids = tuple(sub.case_id for sub in event.sub_cases)
                self.acknowledge_by = self.resolve_by = None
            case CaseRelocated():
                self.region, self.kecamatan = event.region, event.kecamatan
                self.kelurahan = event.kelurahan
            case CaseAmended():
                for name in ("public_summary", "description", "category"):
                    if getattr(event, name) is not None:
                        setattr(self, name, getattr(event, name))
                self.sensitive = event.sensitive
            case CaseBacked():
                self.backing_count = event.total_count
                self.backing_ids |= {event.backing_id}
            case PhotoAttached():
                self.photos += (
                    CasePhoto(
                        event.photo_id,
                        event.sha256,
                        event.public,
                        event.kind,
                        event.agency_id,
                        event.actor,
                        event.occurred_at,
                    ),
                )
            case PhotoRemoved():
                self.photos = tuple(p for p in self.photos if p.photo_id != event.photo_id)
            case VerificationConfirmed() | ResolutionDisputed() | CaseWithdrawn():
                pass  # facts for the timeline; the state change comes with the event that follows
            case _:
                raise TypeError(f"unknown case event {type(event).__name__}")
        self.version += 1
        self.history.append(event)


def open_sub_case(
    rules: RoutingRules,
    parent: Case,
    sub_case: SubCase,
    *,
    tracking_code: str,
    now: datetime,
    actor: str,
) -> tuple[Case, list[CaseEvent]]:
    """A sub-case is an ordinary Case linked to its parent; route it like any other."""
    case = Case()
    events = case.open(
        rules,
        case_id=sub_case.case_id,
        aspiration_id=parent.aspiration_id,
        tracking_code=tracking_code,
        category=sub_case.category,
        area=parent.area,
        public_summary=sub_case.public_summary,
        description=parent.description,
        urgency=parent.urgency,
        sensitive=parent.sensitive,
        parent_id=parent.case_id,
        unit=parent.unit,
        now=now,
        actor=actor,
    )
    return case, events


def split_outcome(sub_cases: list[Case]) -> tuple[str, str] | None:
    """How a split parent ends: None while a sub-case is open, resolved_verified if all were."""
    if any(sub.status != "closed" for sub in sub_cases):
        return None
    outcomes = sorted(f"{sub.case_id}: {sub.outcome}" for sub in sub_cases)
    if all(sub.outcome == "resolved_verified" for sub in sub_cases):
        return "resolved_verified", "all sub-cases resolved and verified"
    return "no_further_action", "sub-cases ended as " + "; ".join(outcomes)


def _require_text(value: str, name: str) -> None:
    if not value or not value.strip():
        raise InvalidCommandError(f"{name} must not be empty")
