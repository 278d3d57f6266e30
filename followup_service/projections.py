"""Case read models, updated with the case events and rebuildable by replay.

Both paths run the same code: a row is a function of the folded Case, a timeline
entry a function of one stored event, so a rebuild equals the live tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

import orjson
from sqlalchemy import Connection, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from followup_service.domain.case import Case
from followup_service.domain.deadlines import next_deadline
from followup_service.domain.events import (
    EVENT_TYPES,
    CaseEscalated,
    CaseEvent,
    PhotoAttached,
    PhotoRemoved,
    from_payload,
)
from followup_service.domain.routing import RoutingRules
from followup_service.domain.visibility import is_public, public_view
from followup_service.report_cards.store import facts_row
from followup_service.report_cards.tables import report_case_facts
from followup_service.tables import case_photos, case_timeline, cases
from shared import table_swap
from shared.bulk import copy_rows, insert_rows, rows_parameter, upsert_rows
from shared.events.envelope import EventEnvelope
from shared.eventstore.store import EventStore

CASE_STREAM_PREFIX = "case-"  # the log also holds account streams, replayed elsewhere

# every table rebuilt from the case events (report_case_facts: the report cards' facts;
# case_photos: the photo references, from PhotoAttached/PhotoRemoved, issue 25)
READ_MODELS = (cases, case_timeline, report_case_facts, case_photos)


def to_domain(envelope: EventEnvelope) -> CaseEvent:
    return from_payload(envelope.event_type, envelope.payload)


def tracking_view(case: Case, rules: RoutingRules) -> dict:
    """The public tracking response: no reporter, contact, raw description or notes."""
    rule = rules.category_rule(case.category, case.region)
    return {
        **public_view(case, (rule.label_id, rule.label_en)),
        "id": case.case_id,
        "aspiration_id": case.aspiration_id,
        "parent_id": case.parent_id,
        "category_label": {"id": rule.label_id, "en": rule.label_en},
        "version": case.version,
    }


def case_row(case: Case, rules: RoutingRules, updated_at) -> dict:
    return {
        "case_id": case.case_id,
        "parent_id": case.parent_id,
        "aspiration_id": case.aspiration_id,
        "tracking_code": case.tracking_code,
        "category": case.category,
        "region": case.region,
        "kecamatan": case.kecamatan,
        "kelurahan": case.kelurahan,
        "location_verified": case.area.verified,
        "unit": case.unit,
        "urgency": case.urgency,
        "sensitive": case.sensitive,
        "status": case.status,
        "outcome": case.outcome,
        "agency_id": case.agency.id if case.agency else None,
        "agency_name": case.agency.name if case.agency else None,
        "level": case.level,
        "rule_version": case.rule_version,
        "acknowledge_by": case.acknowledge_by,
        "resolve_by": case.resolve_by,
        "verify_by": case.verify_by,
        "next_deadline_at": next_deadline(case),
        "escalations": sum(isinstance(e, CaseEscalated) for e in case.history),
        "public_summary": case.public_summary,
        "version": case.version,
        "opened_at": case.history[0].occurred_at,
        "updated_at": updated_at,
        "public_view": tracking_view(case, rules),
    }


def photo_rows(case: Case) -> list[dict]:
    """The case's photo references as `case_photos` rows (live and replay alike)."""
    return [
        {
            "photo_id": p.photo_id,
            "case_id": case.case_id,
            "sha256": p.sha256,
            "public": p.public,
            "kind": p.kind,
            "agency_id": p.agency_id,
            "added_by": p.added_by,
            "added_at": p.added_at,
        }
        for p in case.photos
    ]


def _project_photos(conn: Connection, changed: list[Case]) -> None:
    """Rewrite the photo rows of the cases whose new events attached or removed one."""
    if not changed:
        return
    conn.execute(
        case_photos.delete().where(case_photos.c.case_id.in_([c.case_id for c in changed]))
    )
    rows = [row for case in changed for row in photo_rows(case)]
    if rows:
        conn.execute(case_photos.insert(), rows)


def timeline_row(envelope: EventEnvelope, event: CaseEvent | None = None) -> dict:
    """The timeline entry of a stored event; `event` is its domain form when already at hand."""
    event = event or to_domain(envelope)
    return {
        "case_id": envelope.stream_id,
        "seq": envelope.stream_version,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "actor": envelope.actor,
        "public": is_public(event),
        "payload": envelope.payload,
    }


def project(
    conn: Connection, rules: RoutingRules, changes: Iterable[tuple[Case, Sequence[EventEnvelope]]]
) -> dict[str, dict]:
    """Bring the read models up to date after appending events to the cases' streams.

    `changes` pairs each changed case (folded, after its new events) with the envelopes
    just appended to its stream; each case at most once. One INSERT for the timeline and
    one upsert for the case rows, however many cases. Returns case id -> tracking view.
    """
    timeline: list[dict] = []
    rows: list[dict] = []
    facts: list[dict] = []
    with_photos: list[Case] = []
    for case, new in changes:
        if new and any(e.event_type in _PHOTO_EVENTS for e in new):
            with_photos.append(case)
        if new:
            # the case's history ends with the domain form of the new events
            recent = case.history[-len(new) :]
            timeline += [timeline_row(e, d) for e, d in zip(new, recent, strict=True)]
            rows.append(row := case_row(case, rules, new[-1].recorded_at))
            facts.append(facts_row(case, row["updated_at"], row["next_deadline_at"]))
    if not rows:
        return {}
    _project_photos(conn, with_photos)
    conn.execute(
        _PROJECT,
        {
            **rows_parameter(timeline, "timeline"),
            **rows_parameter(rows, "cases"),
            **rows_parameter(facts, "facts"),
        },
    )
    return {row["case_id"]: row["public_view"] for row in rows}


_PHOTO_EVENTS = frozenset({PhotoAttached.__name__, PhotoRemoved.__name__})
_TIMELINE_COLUMNS = [c.name for c in case_timeline.c]
_CASE_COLUMNS = [c.name for c in cases.c]
_FACT_COLUMNS = [c.name for c in report_case_facts.c]
# Every read model in one statement (one round trip): the timeline insert and the report
# facts' upsert ride along as data-modifying CTEs of the case upsert.
_PROJECT = (
    upsert_rows(cases, _CASE_COLUMNS, "cases")
    .add_cte(insert_rows(case_timeline, _TIMELINE_COLUMNS, "timeline").cte("timeline_rows"))
    .add_cte(upsert_rows(report_case_facts, _FACT_COLUMNS, "facts").cte("fact_rows"))
)


def rebuild(conn: Connection, store: EventStore, rules: RoutingRules, batch: int = 10_000) -> int:
    """Replace the read models by a replay of every case event; returns the events replayed.

    One pass over the log (server-side cursor), cases folded in memory, written with
    COPY into fresh tables that are swapped in at the end of the caller's transaction
    (shared/table_swap.py): readers keep the old rows until the commit, writers wait
    for it, and a failed rebuild leaves the live tables as they were.
    """
    with table_swap.replacing(conn, READ_MODELS) as fresh:
        count = _replay(conn, store, rules, fresh, batch)
    return count


def _replay(conn, store: EventStore, rules: RoutingRules, into: dict[str, str], batch: int) -> int:
    """Fold every case from the log into `into`'s fresh tables; returns the events read.

    Timeline entries of events stored at their latest version are copied by the server
    itself, page by page (INSERT ... SELECT from the events table, with the public flag
    decided here): they equal the stored rows, so formatting them in Python and sending
    them back would only cost time. Older events are written from their upcast form.
    """
    latest = orjson.dumps({t: store.registry.latest_version(t) for t in EVENT_TYPES}).decode()
    copy_timeline = _copy_timeline_statement(into[case_timeline.name])
    streams: dict[str, list[CaseEvent]] = {}
    updated_at: dict[str, object] = {}
    count, after = 0, 0
    stored = store.read_all(conn, batch_size=batch, stream_prefix=CASE_STREAM_PREFIX, upcast=False)
    # A page at a time: the connection cannot fetch from the cursor while a COPY runs.
    while page := list(islice(stored, batch)):
        private, upcast_rows = [], []
        for as_stored in page:
            envelope = store.registry.upcast_stored(as_stored)
            event = to_domain(envelope)
            streams.setdefault(envelope.stream_id, []).append(event)
            updated_at[envelope.stream_id] = envelope.recorded_at
            if envelope is not as_stored:  # written at an older version
                upcast_rows.append(timeline_row(envelope, event))
            elif not is_public(event):
                private.append(envelope.event_id)
        last = page[-1].global_position
        conn.execute(
            copy_timeline,
            {"after": after, "last": last, "latest": latest, "private": private},
        )
        if upcast_rows:
            copy_rows(conn, case_timeline, upcast_rows, into=into[case_timeline.name])
        count, after = count + len(page), last
    facts: list[dict] = []
    photos: list[dict] = []

    def folded():  # each case folded once for all of its rows
        for stream_id, events in streams.items():
            case = Case.from_events(events)
            row = case_row(case, rules, updated_at[stream_id])
            facts.append(facts_row(case, row["updated_at"], row["next_deadline_at"]))
            photos.extend(photo_rows(case))
            yield row

    copy_rows(conn, cases, folded(), into=into[cases.name])
    copy_rows(conn, report_case_facts, facts, into=into[report_case_facts.name])
    copy_rows(conn, case_photos, photos, into=into[case_photos.name])
    return count


def _copy_timeline_statement(fresh: str):
    """The timeline rows of the case events in (after, last] stored at their latest version."""
    return text(
        f"""
        INSERT INTO "{fresh}" (case_id, seq, event_id, event_type, occurred_at, recorded_at,
                               actor, public, payload)
        SELECT e.stream_id, e.stream_version, e.event_id, e.event_type, e.occurred_at,
               e.recorded_at, e.actor, e.event_id <> ALL(:private), e.payload
        FROM events e
        WHERE e.global_position > :after AND e.global_position <= :last
          AND starts_with(e.stream_id, :prefix)
          AND e.schema_version = CAST(CAST(:latest AS jsonb) ->> e.event_type AS integer)
        """
    ).bindparams(bindparam("private", type_=ARRAY(String)), bindparam("prefix", CASE_STREAM_PREFIX))
