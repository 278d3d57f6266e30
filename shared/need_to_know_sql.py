"""shared.need_to_know's in_scope as a SQL condition, for every list of aspirations,
meetings or cases (lists, CSV exports, dashboards, the report back, the worklist).

The columns are the caller's: the place's region code, the recording unit, and the agency
holding it (None where a table has none: an aspiration, a meeting). Units are matched by
every id they are recorded under (directory ids and old ids), agencies by the desks of
the units in scope, regions by prefix, so the condition uses the columns' indexes and
needs no directory in the database. tests/integration/test_need_to_know_sql.py checks on
generated rows that it selects exactly what need_to_know.decide() lets in.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from shared.need_to_know import Scope
from shared.police import PoliceDirectory


def in_scope_sql(
    scope: Scope,
    directory: PoliceDirectory,
    region: ColumnElement,
    unit: ColumnElement,
    agency: ColumnElement | None = None,
) -> ColumnElement[bool]:
    def held_by(unit_ids) -> list[ColumnElement[bool]]:
        unit_ids = list(unit_ids)
        conditions = [unit.in_(directory.spellings(unit_ids))] if unit_ids else []
        desks = directory.desks(unit_ids)
        if agency is not None and desks:
            conditions.append(agency.in_(desks))
        return conditions

    if scope.role == "officer":
        return or_(false(), *held_by([scope.unit])) if scope.unit else false()
    if scope.role == "supervisor":
        areas = scope.areas(directory)
        if "" in areas:
            return true()
        conditions = []
        units = {scope.unit} if scope.unit else set()
        for area in areas:
            conditions += [region == area, region.startswith(area + ".", autoescape=True)]
            units.update(directory.units_within(area))
        return or_(false(), *conditions, *held_by(sorted(units)))
    if scope.role == "liaison":
        if agency is None or not scope.agency:
            return false()
        return agency == scope.agency
    if scope.role == "admin":
        return true() if scope.area == "" else false()
    return false()
