"""Property: random command sequences never leave a Case in an illegal state.

Each step runs one command, legal or not. A refused command raises only
IllegalTransitionError or InvalidCommandError and changes nothing; after every step
the invariants below hold; in the end the case folded from its history equals the
live one.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup_service.domain.case import (
    CLOSE_OUTCOMES,
    OPEN_STATUSES,
    WITH_AGENCY,
    Case,
    IllegalTransitionError,
    InvalidCommandError,
)
from followup_service.domain.deadlines import JAKARTA, breaches
from followup_service.domain.events import OUTCOMES, CaseBacked, CaseClosed, SubCase
from followup_service.domain.routing import Area, RoutingRules

RULES = RoutingRules.from_dict(
    yaml.safe_load((Path(__file__).parents[3] / "deploy" / "routing" / "rules.yaml").read_text())
)
CIKANDE = Area(region="kab-serang/cikande", kecamatan="Cikande", kelurahan="Cikande")
T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)
STATUSES = OPEN_STATUSES | {"new", "closed"}
CATEGORIES = ("street_lighting", "road_damage", "tawuran", "money_politics", "other", "unknown")
AGENCIES = ("dishub-3604", "pupr-3604", "polsek-360415", "no-such-agency")
TEXTS = st.sampled_from(["", "  ", "Sudah dicek", "Bukan kewenangan kami", "Lampu dipasang"])
LIFE = (  # the commands of an ordinary case's life, drawn more often than the rest
    st.tuples(st.just("acknowledge")),
    st.tuples(st.just("note_progress"), TEXTS, st.booleans()),
    st.tuples(st.just("resolve"), TEXTS),
    st.tuples(st.just("escalate_overdue")),
    st.tuples(st.just("confirm_resolution")),
    st.tuples(st.just("dispute_resolution"), st.sampled_from(["officer", "community"]), TEXTS),
    st.tuples(st.just("reopen"), TEXTS),
    st.tuples(st.just("route")),
)

COMMANDS = st.one_of(
    *LIFE,
    *LIFE,
    st.tuples(st.just("open"), st.sampled_from(CATEGORIES), st.sampled_from(["normal", "high"])),
    st.tuples(st.just("route")),
    st.tuples(st.just("assign"), st.sampled_from(AGENCIES), TEXTS),
    st.tuples(st.just("acknowledge")),
    st.tuples(st.just("note_progress"), TEXTS, st.booleans()),
    st.tuples(st.just("escalate"), TEXTS),
    st.tuples(st.just("escalate_overdue")),
    st.tuples(st.just("decline"), TEXTS),
    st.tuples(st.just("resolve"), TEXTS),
    st.tuples(st.just("confirm_resolution")),
    st.tuples(st.just("dispute_resolution"), st.sampled_from(["officer", "community", "x"]), TEXTS),
    st.tuples(st.just("reopen"), TEXTS),
    st.tuples(
        st.just("close"),
        st.sampled_from(CLOSE_OUTCOMES + ("closed",)),
        TEXTS,
        st.sampled_from([None, "", "case-1", "case-9"]),
    ),
    st.tuples(st.just("split"), st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("conclude_split"), st.booleans(), st.booleans()),
    st.tuples(st.just("amend"), st.sampled_from((None, *CATEGORIES)), st.sampled_from([None, "B"])),
    st.tuples(st.just("back"), st.sampled_from(["b1", "b2", ""]), st.integers(-1, 30)),
    st.tuples(st.just("withdraw"), TEXTS),
)
OPEN = st.tuples(st.just("open"), st.sampled_from(CATEGORIES), st.sampled_from(["normal", "high"]))
STEPS = st.tuples(
    st.one_of(OPEN, OPEN, OPEN, st.tuples(st.just("route"))),  # mostly opened, routed first
    st.booleans(),
    st.lists(st.tuples(COMMANDS, st.integers(min_value=0, max_value=200)), max_size=30),
).map(lambda s: [(s[0], 0), *([(("route",), 0)] if s[1] else []), *s[2]])


def run(case: Case, command: tuple, now: datetime) -> None:
    name, *args = command
    who = {"now": now, "actor": "tester"}
    match name:
        case "open":
            category, urgency = args
            case.open(
                RULES,
                case_id="case-1",
                aspiration_id="asp-1",
                tracking_code="KA-7Q2M",
                category=category,
                area=CIKANDE,
                public_summary="PJU mati",
                urgency=urgency,
                **who,
            )
        case "route":
            case.route(RULES, **who)
        case "assign":
            case.assign(RULES, args[0], reason=args[1], **who)
        case "acknowledge":
            case.acknowledge(**who)
        case "note_progress":
            case.note_progress(args[0], public=args[1], **who)
        case "escalate":
            case.escalate(RULES, reason=args[0], **who)
        case "escalate_overdue":
            case.escalate_overdue(RULES, now=now)
        case "decline":
            case.decline(RULES, reason=args[0], **who)
        case "resolve":
            case.resolve(RULES, resolution=args[0], **who)
        case "confirm_resolution":
            case.confirm_resolution(**who)
        case "dispute_resolution":
            case.dispute_resolution(RULES, by=args[0], reason=args[1], **who)
        case "reopen":
            case.reopen(RULES, reason=args[0], **who)
        case "close":
            case.close(outcome=args[0], reason=args[1], duplicate_of=args[2], **who)
        case "split":
            subs = [SubCase(f"case-1-{i}", "other", f"bagian {i}") for i in range(args[0])]
            case.split(subs, **who)
        case "conclude_split":
            all_closed, all_verified = args
            subs = [
                Case(
                    case_id=sub_id,
                    status="closed" if all_closed or i else "routed",
                    outcome="resolved_verified" if all_verified else "duplicate",
                )
                for i, sub_id in enumerate(case.sub_case_ids)
            ]
            case.conclude_split(subs, **who)
        case "amend":
            case.amend(RULES, category=args[0], public_summary=args[1], **who)
        case "back":
            case.back(backing_id=args[0], count=args[1], total_count=max(args[1], 0), **who)
        case "withdraw":
            case.withdraw(reason=args[0], **who)


def state(case: Case) -> dict:
    return {k: v for k, v in vars(case).items() if k != "history"}


def check_invariants(case: Case, now: datetime) -> None:
    assert case.status in STATUSES
    assert case.version == len(case.history)
    assert (case.status == "new") == (case.version == 0)
    if case.status in WITH_AGENCY:
        assert case.agency is not None and case.ladder and case.agency == case.ladder[case.level]
        assert case.acknowledge_by is not None and case.resolve_by is not None
        assert case.rule_version is not None
    if case.status in ("new", "triage", "split"):
        assert case.agency is None and not case.ladder
    if case.status == "closed":
        assert case.outcome in OUTCOMES  # an honest ending, never a bare "closed"
        changes = [e for e in case.history if not isinstance(e, CaseBacked)]
        assert isinstance(changes[-1], CaseClosed)  # backing may still come after closing
        assert case.verify_by is None
        if case.outcome == "duplicate":
            assert case.duplicate_of not in (None, "", case.case_id)
        if case.outcome in ("not_responsible", "no_further_action", "withdrawn"):
            assert case.close_reason.strip() or case.outcome == "withdrawn"
    else:
        assert case.outcome is None
    if case.status == "resolved_pending_verification":
        assert case.verify_by is not None
    if case.status == "split":
        assert len(set(case.sub_case_ids)) == len(case.sub_case_ids) >= 2
    assert set(case.declined_by) <= {e.agency_id for e in case.history if hasattr(e, "agency_id")}
    assert case.backing_count >= 0
    assert all(e.case_id == case.case_id for e in case.history)
    assert [e.occurred_at for e in case.history] == sorted(e.occurred_at for e in case.history)
    assert not breaches(case, now) or case.status in WITH_AGENCY


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_case_never_reaches_an_illegal_state_when_random_commands_are_applied(steps):
    case, now = Case(), T0
    for command, hours in steps:
        now += timedelta(hours=hours)
        before = copy.deepcopy(case)
        try:
            run(case, command, now)
        except (IllegalTransitionError, InvalidCommandError):
            assert state(case) == state(before), f"{command[0]} was refused but changed the case"
            assert case.history == before.history
        check_invariants(case, now)

    assert Case.from_events(case.history) == case


@settings(max_examples=60, deadline=None)
@given(steps=STEPS)
def test_escalate_overdue_writes_nothing_when_run_twice_at_the_same_time(steps):
    case, now = Case(), T0
    for command, hours in steps:
        now += timedelta(hours=hours)
        with contextlib.suppress(IllegalTransitionError, InvalidCommandError):
            run(case, command, now)
    later = now + timedelta(days=40)
    if case.status in WITH_AGENCY:
        case.escalate_overdue(RULES, now=later)
        assert case.escalate_overdue(RULES, now=later) == []  # once per breach
        assert not breaches(case, later)
