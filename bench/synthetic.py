"""Synthetic but schema-valid events, bulk-loaded with COPY (seconds for 10^6 rows)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache

from shared.events import REGISTRY, EventEnvelope
from shared.tracking_code import ALPHABET, check_char

CATEGORY = "street_lighting"
KELURAHAN = ("Cikande", "Kragilan", "Ciruas", "Kibin", "Serang", "Walantaka")


def tracking_code(n: int) -> str:
    """The n-th valid tracking code: unique for n < 24^5 (about 8 million)."""
    body = ""
    for _ in range(5):
        n, digit = divmod(n, len(ALPHABET))
        body += ALPHABET[digit]
    return f"KA-{body[:4]}-{body[4]}{check_char(body)}"


def _fit(event_type: str, candidate: dict) -> dict:
    """Keep the fields the registered (latest) schema declares; fail loudly if it refuses."""
    import shared.events.case  # noqa: F401 - registers the schemas
    import shared.events.intake  # noqa: F401

    version = REGISTRY.latest_version(event_type)
    schema = REGISTRY.schema(event_type, version)
    payload = {k: v for k, v in candidate.items() if k in schema.fields}
    REGISTRY.validate(event_type, version, payload)  # raises EventSchemaError with the fields
    return payload


def aspiration_payload(n: int, aspiration_id: str) -> dict:
    kelurahan = KELURAHAN[n % len(KELURAHAN)]
    return {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "tracking_code": tracking_code(n),
        "category": CATEGORY,
        "summary": f"PJU mati di gang {n}",
        "public_summary": "",
        "description": "Lampu jalan mati sejak dua minggu, rawan begal.",
        "kelurahan": kelurahan,
        "location": dict(_location(kelurahan)),
        "urgency": "normal",
        "confidential": False,
        "unit": "polsek-cikande",  # a unit id (shared/units.py)
        "raised_at": None,
        "backing_count": 0,
        "backing_groups": [],
        "attachments": [],
    }


@cache
def _location(kelurahan: str) -> dict:
    """The place as intake records it: with its region code (matched once per name)."""
    from shared.regions.dataset import load_directory
    from shared.regions.places import locate_place

    typed = {"kabupaten": "Kab. Serang", "kecamatan": "Cikande", "kelurahan": kelurahan}
    return locate_place(load_directory(), typed)


def envelopes(kind: str, start: int, count: int) -> Iterator[EventEnvelope]:
    """`count` AspirationRecorded events (kind 'aspiration'), numbered from `start`."""
    assert kind == "aspiration", kind
    event_type = "AspirationRecorded"
    keys = list(_fit(event_type, aspiration_payload(0, str(uuid.uuid4()))))
    now = datetime.now(UTC)
    version = REGISTRY.latest_version(event_type)
    for n in range(start, start + count):
        aspiration_id = str(uuid.uuid4())
        full = aspiration_payload(n, aspiration_id)
        yield EventEnvelope(
            event_id=str(uuid.uuid4()),
            event_type=event_type,
            schema_version=version,
            stream_id=f"aspiration-{aspiration_id}",
            stream_version=1,
            occurred_at=now,
            recorded_at=now,
            payload={k: full[k] for k in keys},
            actor="system:bench",
        )


def case_template(bench) -> list[EventEnvelope]:
    """The case events the real follow-up handler writes for one recorded aspiration.

    Cloning these (new ids and codes) gives event logs of any size that the projections
    accept, whatever events opening a case produces in the current domain model.
    """
    from followup_service.bootstrap import bootstrap
    from followup_service.consumers import make_intake_event_handler

    settings = bench.settings("followup", bench.create_database("followup"), bench.prefix("tpl"))
    fu = bootstrap(settings)
    recorded = next(envelopes("aspiration", 0, 1))
    try:
        with fu.engine.begin() as conn:
            make_intake_event_handler(fu)(conn, recorded)
        with fu.engine.connect() as conn:
            events = list(fu.store.read_all(conn))
    finally:
        fu.engine.dispose()
    if not events:
        raise RuntimeError("the follow-up handler wrote no events for an AspirationRecorded")
    marks = (recorded.payload["aspiration_id"], recorded.payload["tracking_code"])
    return [e for e in events if marks[0] in e.stream_id] or events


def clone_cases(template: list[EventEnvelope], start: int, cases: int):
    """Rows (dicts) of `cases` copies of the template, with fresh ids and tracking codes."""
    aspiration_id = None
    for e in template:
        aspiration_id = e.payload.get("aspiration_id") or aspiration_id
    code = next(e.payload["tracking_code"] for e in template if "tracking_code" in e.payload)
    wires = [
        (
            json.dumps(e.payload),
            e.stream_id,
            e.stream_version,
            e.event_type,
            e.schema_version,
            e.occurred_at,
            e.recorded_at,
            e.actor,
            e.correlation_id,
            e.causation_id,
        )
        for e in template
    ]
    for n in range(start, start + cases):
        new_id, new_code = str(uuid.uuid4()), tracking_code(n)
        for payload, stream, *rest in wires:
            payload = payload.replace(aspiration_id, new_id).replace(code, new_code)
            version, event_type, schema, occurred, recorded, actor, corr, cause = rest
            yield (
                str(uuid.uuid4()),
                stream.replace(aspiration_id, new_id),
                version,
                event_type,
                schema,
                occurred,
                recorded,
                actor,
                corr,
                cause,
                payload,
            )


EVENT_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "payload",
)


def copy_events(engine, events, outbox_topic: str | None = None) -> int:
    """COPY events (envelopes or EVENT_COLUMNS tuples) into the events table, plus outbox
    rows for them if a topic is given."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT coalesce(max(global_position), 0) FROM events")
        before = cur.fetchone()[0]
        count = 0
        with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for e in events:
                if isinstance(e, EventEnvelope):
                    row = asdict(e)
                    row["payload"] = json.dumps(row["payload"])
                    e = tuple(row[c] for c in EVENT_COLUMNS)
                copy.write_row(e)
                count += 1
        if outbox_topic:
            _copy_outbox_rows(cur, outbox_topic, before)
        raw.commit()
        cur.execute("ANALYZE events")
        raw.commit()
        return count
    finally:
        raw.close()


def _copy_outbox_rows(cur, topic: str, after: int) -> None:
    """Outbox rows as the event store writes them: the record bytes encoded up front."""
    from shared.eventstore.store import envelope_from_row

    cur.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)}, global_position FROM events"
        " WHERE global_position > %s ORDER BY global_position",
        (after,),
    )
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
    columns = "topic, message_key, global_position, created_at, event_type, schema_version, value"
    with cur.copy(f"COPY outbox ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                (
                    topic,
                    row["stream_id"],
                    row["global_position"],
                    row["recorded_at"],
                    row["event_type"],
                    row["schema_version"],
                    envelope_from_row(row).to_wire(),
                )
            )
