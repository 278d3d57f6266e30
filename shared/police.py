"""The police unit directory: every Polda, Polres and Polsek with its areas and desks.

Data, generated from the routing rules' police names (followup_service.police_directory,
deploy/routing/police-units.json.gz) and read here by both services. Each unit has one
id, used as an officer's or supervisor's unit and, with its desks, as a routing target:

- `polsek-360415` Polsek Cikande (kecamatan 36.04.15; its own routing id),
- `polres-3604` Polres Serang (kabupaten 36.04; desks polres-samapta-3604, ...),
- `polda-banten` Polda Banten (province 36; desks polda-banten-ditresnarkoba, ...).

Ids units had before the directory (the slug of a name: polsek-cikande) are aliases:
`canonical()` reads any of them, from tokens, accounts and events alike, as the unit's id,
so nothing recorded has to change (replay-safe). Pure apart from `load_police_directory`.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from shared.config import REPO_ROOT
from shared.units import unit_id

DIRECTORY_PATH = os.path.join(REPO_ROOT, "deploy", "routing", "police-units.json.gz")
KINDS = ("polda", "polres", "polsek")


def within(code: str | None, area: str) -> bool:
    """Whether a region code lies in an area ("" is the whole country)."""
    if code is None:
        return False
    return area == "" or code == area or code.startswith(area + ".")


@dataclass(frozen=True)
class Unit:
    id: str
    kind: str
    name: str
    parent: str | None
    areas: tuple[str, ...]  # region codes: a province, kabupaten/kota or kecamatan each
    desks: tuple[str, ...]  # the routing targets (agency ids) that are this unit


class PoliceDirectory:
    def __init__(self, units: Iterable[Unit], aliases: dict[str, str] | None = None):
        self.units = {u.id: u for u in units}
        self.aliases = {k: v for k, v in (aliases or {}).items() if v in self.units}
        self._desk_unit = {desk: u.id for u in self.units.values() for desk in u.desks}
        self._spellings: dict[str, set[str]] = {uid: {uid} for uid in self.units}
        for alias, uid in self.aliases.items():
            self._spellings[uid].add(alias)
        self._within: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_data(cls, data: dict) -> PoliceDirectory:
        units = [
            Unit(
                id=u["id"],
                kind=u["kind"],
                name=u["name"],
                parent=u.get("parent"),
                areas=tuple(u["areas"]),
                desks=tuple(u.get("desks", ())),
            )
            for u in data["units"]
        ]
        return cls(units, data.get("aliases", {}))

    def __len__(self) -> int:
        return len(self.units)

    def get(self, value: str | None) -> Unit | None:
        return self.units.get(self.canonical(value) or "")

    def canonical(self, value: str | None) -> str | None:
        """The unit id any spelling or old id names; an unknown unit keeps its slug."""
        slug = unit_id(value)
        if slug is None:
            return None
        if slug in self.units:
            return slug
        return self.aliases.get(slug, slug)

    def name(self, value: str | None) -> str | None:
        unit = self.get(value)
        return unit.name if unit else None

    def unit_of_desk(self, agency_id: str | None) -> str | None:
        """The police unit a routing target belongs to (None for other agencies)."""
        return self._desk_unit.get(agency_id or "")

    def areas_of(self, value: str | None) -> tuple[str, ...]:
        unit = self.get(value)
        return unit.areas if unit else ()

    def units_within(self, area: str) -> tuple[str, ...]:
        """The ids of the units with an area in `area`."""
        if area not in self._within:
            self._within[area] = tuple(
                uid for uid, u in self.units.items() if any(within(a, area) for a in u.areas)
            )
        return self._within[area]

    def spellings(self, unit_ids: Iterable[str]) -> list[str]:
        """Every id the units are recorded under (their own and their old ids)."""
        found: set[str] = set()
        for uid in unit_ids:
            found |= self._spellings.get(uid, {uid})
        return sorted(found)

    def desks(self, unit_ids: Iterable[str]) -> list[str]:
        found: set[str] = set()
        for uid in unit_ids:
            unit = self.units.get(uid)
            if unit is not None:
                found.update(unit.desks)
        return sorted(found)

    def search(self, text: str, limit: int = 20) -> list[Unit]:
        """Units whose id or name contains every word typed (the account form)."""
        words = (unit_id(text) or "").split("-")
        found = []
        for unit in self.units.values():
            haystack = f"{unit.id} {unit_id(unit.name)}"
            if all(w in haystack for w in words if w):
                found.append(unit)
                if len(found) >= limit:
                    break
        return found


@cache
def load_police_directory(path: str = DIRECTORY_PATH) -> PoliceDirectory:
    """The directory from its data file, once per process."""
    with gzip.open(path, "rb") as fh:
        return PoliceDirectory.from_data(json.loads(fh.read()))
