"""Need to know: who may see and act on an aspiration or a case. One rule, both services.

A principal's Scope (from the signed token) meets what the rule knows of an aspiration or
case, its Holding: the region code of its place, the unit that recorded it and the agency
that holds it now. The answer, Access, says whether the holding is in scope (internal text,
internal timeline; actions, with the role's own permissions on top), and whether the
reporter's identity may be shown:

- officer: their unit's aspirations and cases, and cases their unit holds (a sub-case
  assigned to their Polsek, a case escalated to their Polres). Identity: only what their
  own unit recorded.
- supervisor: an area (a kecamatan, kabupaten/kota or province code; "" is national) or
  a unit, whose area is the unit's areas. In scope: the place is in the area, or the unit
  that recorded it or holds it works in the area, or is their unit. Identity: the place or
  the recording unit is in the area (or is their unit), not a case merely held there.
- liaison: the cases their agency holds; never an identity.
- admin: accounts and tokens; case content only with an explicit national area (every
  such read is audited by the caller); never an identity.
- anyone else (an Open311 app, no token): nothing internal.

Out of scope, a read gets 404 or the public view and an action 403 (the callers' part).
`need_to_know_sql.in_scope_sql` is the same in_scope as a SQL condition for lists, CSV
exports, dashboards and the worklist; tests/integration/test_need_to_know_sql.py checks
on generated cases that both agree. Pure: no Flask, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.police import PoliceDirectory, within

NATIONAL = "national"  # how a token, an account and the CLI spell the national area


def area_code(value: str | None) -> str | None:
    """A scope's area as the rule compares it: a dotted region code, "" for national."""
    if value is None:
        return None
    value = value.strip()
    return "" if value.lower() in (NATIONAL, "nasional") else value


@dataclass(frozen=True)
class Scope:
    role: str
    unit: str | None = None  # a directory id (officer; a supervisor bound to a unit)
    area: str | None = None  # a region code, "" for national (supervisor; admin: "" only)
    agency: str | None = None  # a liaison's agency

    @classmethod
    def of(cls, principal, directory: PoliceDirectory) -> Scope:
        """The scope a principal's token carries (units read as their directory ids)."""
        role = principal.role
        area = area_code(getattr(principal, "area", None))
        if role == "officer":
            return cls(role, unit=directory.canonical(principal.unit))
        if role == "supervisor":
            return cls(role, unit=directory.canonical(principal.unit), area=area)
        if role == "liaison":
            return cls(role, agency=principal.agency)
        if role == "admin":
            return cls(role, area="" if area == "" else None)
        return cls(role)

    def areas(self, directory: PoliceDirectory) -> tuple[str, ...]:
        """A supervisor's areas: the one set, else their unit's."""
        if self.area is not None:
            return (self.area,)
        return directory.areas_of(self.unit) if self.unit else ()


@dataclass(frozen=True)
class Holding:
    region: str | None  # the place's region code (older cases: a path of names)
    unit: str | None  # the unit that recorded it (any spelling)
    agency: str | None = None  # the agency that holds the case now (cases only)


@dataclass(frozen=True)
class Access:
    in_scope: bool  # internal text and timeline; actions (the role's permissions on top)
    identity: bool  # the reporter's name and contact

    @property
    def audited(self) -> bool:
        """Whether showing it is recorded: every identity shown."""
        return self.identity


NONE = Access(False, False)


def decide(scope: Scope, holding: Holding, directory: PoliceDirectory) -> Access:
    recorder = directory.canonical(holding.unit)
    holder = directory.unit_of_desk(holding.agency)
    if scope.role == "officer":
        if not scope.unit:
            return NONE
        return Access(scope.unit in (recorder, holder), scope.unit == recorder)
    if scope.role == "supervisor":
        areas = scope.areas(directory)

        def covers(unit: str | None) -> bool:
            if unit is None:
                return False
            if unit == scope.unit:
                return True
            return any(within(a, area) for a in directory.areas_of(unit) for area in areas)

        placed = any(within(holding.region, area) for area in areas)
        identity = placed or covers(recorder)
        return Access(identity or covers(holder), identity)
    if scope.role == "liaison":
        return Access(bool(scope.agency) and scope.agency == holding.agency, False)
    if scope.role == "admin":
        return Access(scope.area == "", False)
    return NONE


def may_act(scope: Scope, holding: Holding, directory: PoliceDirectory) -> bool:
    """Acting needs the holding in scope (and the role's permission for the action)."""
    return decide(scope, holding, directory).in_scope
