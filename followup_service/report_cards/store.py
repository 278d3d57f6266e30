"""The SQL side of the report cards: the facts projection, the cards' refresh, reads.

- `facts_row(case, updated_at)`: the projection row of a folded case;
  `projections.project` writes it in the same statement as the case row, and
  `projections.rebuild` copies it into the fresh table it swaps in.
- `refresh(conn, rules, now)`: every card recomputed from the public facts (the one
  listing rule, `listing.publicly_listed`, in the query; `domain.compute_cards` applies
  `visibility.is_listed` again) and written in place of the old ones, in the caller's
  transaction. The deadline worker calls `refresh_if_due` each sweep.
- `read_card`, `area`, `public_cases`: what the pages read (one row for a card).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import orjson
from sqlalchemy import Connection, delete, func, insert, select, text

from followup_service.domain.case import Case
from followup_service.domain.routing import RoutingRules
from followup_service.listing import publicly_listed
from followup_service.report_cards.domain import (
    NATIONAL,
    NOT_GIVEN,
    CaseFacts,
    area_codes,
    compute_cards,
    facts_of,
)
from followup_service.report_cards.tables import report_cards, report_case_facts
from followup_service.tables import regions

log = logging.getLogger(__name__)

FACT_FIELDS = tuple(CaseFacts.__dataclass_fields__)
FACT_COLUMNS = [c.name for c in report_case_facts.c]
REFRESH_AFTER_CHANGE = timedelta(seconds=30)  # at most this often while cases change...
REFRESH_SHARE = 10  # ...and at most a tenth of the worker's time (10 x the last refresh)
REFRESH_ANYWAY = timedelta(minutes=15)  # "open now", "overdue" and weeks move with the clock
_LOCK = 26_026  # advisory lock: one refresh at a time across workers
_last_took = timedelta()  # how long this process's last refresh took


def facts_row(case: Case, updated_at: datetime, next_deadline_at=NOT_GIVEN) -> dict:
    """`next_deadline_at`: the case row's, when the caller has it (saves computing it again)."""
    facts = facts_of(case, next_deadline_at)
    row = {name: getattr(facts, name) for name in FACT_FIELDS}
    codes = area_codes(facts.region) + [None, None, None]
    row.update(province=codes[0], kabupaten=codes[1], kecamatan=codes[2], updated_at=updated_at)
    return row


def _facts(row) -> CaseFacts:
    return CaseFacts(**{name: getattr(row, name) for name in FACT_FIELDS})


def refresh(conn: Connection, rules: RoutingRules, now: datetime) -> int:
    """Recompute and store every card; returns how many cards were written."""
    areas = regions.c.level.in_(("provinsi", "kabupaten", "kecamatan"))  # about 7,900 names
    names = dict(conn.execute(select(regions.c.code, regions.c.name).where(areas)).all())
    labels = {}  # a category the rules no longer know is shown by its id
    for category in rules.categories:
        rule = rules.category_rule(category)
        labels[category] = (rule.label_id, rule.label_en)
    # streamed (a server-side cursor): memory grows with the cells, not with the cases
    rows = conn.execute(
        select(*[report_case_facts.c[n] for n in FACT_FIELDS])
        .where(publicly_listed(report_case_facts))
        .execution_options(yield_per=5000)
    )
    facts = (_facts(row) for row in rows)
    cards = compute_cards(facts, now, area_names=names, category_labels=labels)
    conn.execute(delete(report_cards))
    conn.execute(
        insert(report_cards),
        [
            {"code": code, "card": orjson.loads(orjson.dumps(card)), "computed_at": now}
            for code, card in cards.items()
        ],
    )
    return len(cards)


def refresh_if_due(engine, rules: RoutingRules, now: datetime) -> int | None:
    """Refresh when facts changed since the cards were computed (at most once a
    REFRESH_AFTER_CHANGE) or the cards are older than REFRESH_ANYWAY; None when not due
    or another worker holds the refresh."""
    global _last_took
    with engine.begin() as conn:
        computed = conn.execute(select(func.min(report_cards.c.computed_at))).scalar()
        if computed is not None and now - computed < REFRESH_ANYWAY:
            if now - computed < max(REFRESH_AFTER_CHANGE, REFRESH_SHARE * _last_took):
                return None
            changed = conn.execute(select(func.max(report_case_facts.c.updated_at))).scalar()
            if changed is None or changed <= computed:
                return None
        if not conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})")).scalar():
            return None
        started = time.monotonic()
        written = refresh(conn, rules, now)
        _last_took = timedelta(seconds=time.monotonic() - started)
    log.info("report cards refreshed: %d areas in %.1f s", written, _last_took.total_seconds())
    return written


def read_card(conn: Connection, code: str) -> tuple[dict, datetime] | None:
    row = conn.execute(
        select(report_cards.c.card, report_cards.c.computed_at).where(report_cards.c.code == code)
    ).first()
    return (row.card, row.computed_at) if row else None


def area(conn: Connection, code: str) -> dict | None:
    """A province, kabupaten/kota or kecamatan of the directory, with its parents' names."""
    if code == NATIONAL:
        return {"code": NATIONAL, "name": "Indonesia", "level": "negara", "parents": []}
    row = conn.execute(
        select(regions.c.code, regions.c.name, regions.c.level).where(
            regions.c.code == code, regions.c.level.in_(("provinsi", "kabupaten", "kecamatan"))
        )
    ).first()
    if row is None:
        return None
    parents = area_codes(code)[:-1]
    names = dict(
        conn.execute(
            select(regions.c.code, regions.c.name).where(regions.c.code.in_(parents))
        ).all()
    )
    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "parents": [{"code": p, "name": names.get(p, p)} for p in parents],
    }


PUBLIC_CASE_FIELDS = (
    "tracking_code",
    "category",
    "region",
    "agency_id",
    "agency_name",
    "status",
    "outcome",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
)


def public_cases(conn: Connection, code: str, page: int, size: int) -> list[dict]:
    """One page of the area's public cases (public fields only), in opening order."""
    table = report_case_facts
    level = {1: table.c.province, 2: table.c.kabupaten, 3: table.c.kecamatan}
    where = [publicly_listed(table)]
    if code != NATIONAL:
        where.append(level[len(code.split("."))] == code)
    rows = conn.execute(
        select(*[table.c[n] for n in PUBLIC_CASE_FIELDS])
        .where(*where)
        .order_by(table.c.opened_at, table.c.case_id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return [row._asdict() for row in rows]
