"""The area a police unit works in, from its id: what the officer page keeps offline.

A Polsek is named after its kecamatan ("polsek-cikande"), a Polres after its kabupaten/kota
("polres-serang" is Kabupaten Serang; the city is "Polres Serang Kota", and "polres-metro-
bekasi-kota" Kota Bekasi). The unit's area is its kabupaten/kota: a Polsek's officers log
meetings in neighbouring kecamatan too. Names the directory cannot place unambiguously
give None (the page then suggests online only). Pure.
"""

from __future__ import annotations

from shared.police import load_police_directory
from shared.regions.directory import DISTRICT, REGENCY, RegionDirectory, level_of
from shared.units import unit_id

_POLSEK = {"polsek"}
_POLRES = {"polres", "polresta", "polrestabes"}


def unit_regency(directory: RegionDirectory, unit: str | None) -> str | None:
    """The code of the kabupaten/kota the unit works in, or None. A unit of the police
    unit directory (any of its ids: polsek-360415, polsek-cikande, polsek-tambora) by its
    area; other names by the regions they name."""
    known = load_police_directory().get(unit)
    if known is not None:
        regencies = {".".join(a.split(".")[:2]) for a in known.areas if a.count(".") >= 1}
        return regencies.pop() if len(regencies) == 1 else None
    words = (unit_id(unit) or "").split("-")
    kind, rest = words[0], [w for w in words[1:] if w != "metro"]
    if not rest or kind not in _POLSEK | _POLRES:
        return None
    if kind in _POLSEK:
        code = directory.resolve(None, " ".join(rest)).code
        return code.rsplit(".", 1)[0] if code and level_of(code) == DISTRICT else None
    city = rest[-1] == "kota" and len(rest) > 1
    name = " ".join(rest[:-1] if city else rest)
    found = directory.regencies(("Kota " if city else "") + name)
    if len(found) > 1 and not city:  # "Polres Serang" is the kabupaten's
        found = [r for r in found if r.kind == REGENCY]
    return found[0].code if len(found) == 1 else None


def unit_place(directory: RegionDirectory, unit: str | None) -> dict[str, str]:
    """The place fields an officer of `unit` starts from on the logging page: the
    kabupaten/kota, and for a Polsek its kecamatan, by their official names ({} when the
    unit cannot be placed unambiguously)."""
    regency = unit_regency(directory, unit)
    if regency is None:
        return {}
    place = {"kabupaten": directory.get(regency).name}
    known = load_police_directory().get(unit)
    if known is not None:
        if known.kind == "polsek" and len(known.areas) == 1:
            place["kecamatan"] = directory.get(known.areas[0]).name
        return place
    words = (unit_id(unit) or "").split("-")
    if words[0] in _POLSEK:
        district = directory.resolve(None, " ".join(words[1:])).code
        if district and level_of(district) == DISTRICT:
            place["kecamatan"] = directory.get(district).name
    return place
