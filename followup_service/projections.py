"""Case read models, updated with the case events and rebuildable by replay.

Both paths run the same code: a row is a function of the folded Case, a timeline
entry a function of one stored event, so a rebuild equals the live tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from sqlalchemy import Connection, insert, text, update

from followup_service.domain.case import Case
from followup_service.domain.deadlines import next_deadline
from followup_service.domain.events import CaseEscalated, CaseEvent, from_payload
from followup_service.domain.routing import RoutingRules
from followup_service.domain.visibility import public_timeline, public_view
from followup_service.tables import case_timeline, cases
from shared.events.envelope import EventEnvelope
from shared.eventstore.bulk import copy_rows
from shared.eventstore.store import EventStore

READ_MODELS = (cases, case_timeline)  # every table rebuilt from the case events


def to_domain(envelope: EventEnvelope) -> CaseEvent:
    return from_payload(envelope.event_type, envelope.payload)


def tracking_view(case: Case, rules: RoutingRules) -> dict:
    """The public tracking response: no reporter, contact, raw description or notes."""
    rule = rules.category_rule(case.category, case.region)
    return {
        **public_view(case),
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


def timeline_row(envelope: EventEnvelope, event: CaseEvent | None = None) -> dict:
    """The timeline entry of one stored event (`event`: its decoded form, if at hand)."""
    return {
        "case_id": envelope.stream_id,
        "seq": envelope.stream_version,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "actor": envelope.actor,
        "public": bool(public_timeline([event or to_domain(envelope)])),
        "payload": envelope.payload,
    }


def project(
    conn: Connection, rules: RoutingRules, case: Case, new: Iterable[EventEnvelope]
) -> dict | None:
    """Bring the read models up to date with `case` after appending `new` to its stream.

    Returns the case's tracking view as written (None if there was nothing to project).
    """
    new = list(new)
    if not new:
        return None
    conn.execute(insert(case_timeline), [timeline_row(e) for e in new])
    row = case_row(case, rules, new[-1].recorded_at)
    if new[0].stream_version == 1:  # the stream starts here: no row can exist yet
        conn.execute(insert(cases).values(**row))
        return row["public_view"]
    changed = conn.execute(
        update(cases).where(cases.c.case_id == case.case_id).values(**row)
    ).rowcount
    if not changed:
        conn.execute(insert(cases).values(**row))
    return row["public_view"]


def rebuild(conn: Connection, store: EventStore, rules: RoutingRules, batch: int = 10_000) -> int:
    """Replace the read models by a replay of every case event; returns the events replayed.

    One pass over the log (server-side cursor), cases folded in memory, both tables
    written with COPY in the caller's transaction: TRUNCATE's lock makes readers wait
    for the commit, so none sees half a rebuild.
    """
    for table in READ_MODELS:
        conn.execute(text(f'TRUNCATE "{table.name}"'))
    streams: dict[str, list[CaseEvent]] = {}
    updated_at: dict[str, object] = {}
    count = 0
    envelopes = store.read_all(conn, batch_size=batch)
    # A page at a time: the connection cannot fetch from the cursor while a COPY runs.
    while page := list(islice(envelopes, batch)):
        rows = []
        for envelope in page:
            event = to_domain(envelope)
            streams.setdefault(envelope.stream_id, []).append(event)
            updated_at[envelope.stream_id] = envelope.recorded_at
            rows.append(timeline_row(envelope, event))
        count += copy_rows(conn, case_timeline, rows)
    copy_rows(
        conn,
        cases,
        (
            case_row(Case.from_events(events), rules, updated_at[stream_id])
            for stream_id, events in streams.items()
        ),
    )
    return count
