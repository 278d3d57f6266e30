"""Adapter: shared.need_to_know for cases, as a decision on a case and as SQL on `cases`.

Every read and action on a case, and every list of cases (the cases API, the worklist,
stats, the dashboard, its CSV, the report back), asks here; the rule itself is
shared.need_to_know (and need_to_know_sql, checked to agree with it). An admin's read of
case content (the national area) is recorded in `admin_case_views`: per case for a case or
a list, once with case_id "*" for a read over every case (dashboard, stats, CSV export).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Engine, Table, true

from followup_service.domain.case import Case
from followup_service.tables import admin_case_views, cases
from shared.auth import Principal
from shared.need_to_know import Access, Holding, Scope, decide
from shared.need_to_know_sql import in_scope_sql
from shared.police import load_police_directory

SYSTEM = "system"
ALL_CASES = "*"  # admin_case_views.case_id of a read over all the cases in scope


def scope_of(who: Principal) -> Scope:
    return Scope.of(who, load_police_directory())


def holding(case: Case) -> Holding:
    return Holding(case.region or None, case.unit or None, case.agency.id if case.agency else None)


def access(case: Case, who: Principal | None) -> Access:
    if who is None:
        return Access(False, False)
    if who.role == SYSTEM:  # the consumer, the deadline worker, a resident's dispute
        return Access(True, False)
    return decide(scope_of(who), holding(case), load_police_directory())


def in_scope(who: Principal, table: Table = cases) -> ColumnElement[bool]:
    """The cases `who` may list, as a condition on `table` (cases or a copy of it)."""
    if who.role == SYSTEM:
        return true()
    return in_scope_sql(
        scope_of(who), load_police_directory(), table.c.region, table.c.unit, table.c.agency_id
    )


def record_admin_read(conn: Connection, who: Principal, case_ids: list[str], via: str) -> None:
    """An admin read case content (the national area): kept, one row per case."""
    if who.role != "admin" or not case_ids:
        return
    conn.execute(
        admin_case_views.insert(),
        [{"case_id": case_id, "viewer": who.actor, "via": via[:200]} for case_id in case_ids],
    )


def reads_beyond_scope(who: Principal | None) -> bool:
    """An admin with the national area: case content no unit or area holds for them."""
    return who is not None and who.role == "admin" and scope_of(who).area == ""


def record_admin_overview(engine: Engine, who: Principal | None, via: str) -> None:
    """An admin read figures or rows over every case (dashboard, stats, CSV): kept once."""
    if not reads_beyond_scope(who):
        return  # a supervisor's own area, or an admin without the national area (nothing)
    with engine.begin() as conn:
        record_admin_read(conn, who, [ALL_CASES], via)
