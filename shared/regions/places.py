"""A place as recorded (names typed or chosen, maybe a code) -> the same place with its code.

Events carry a place's Kemendagri code beside the names (which stay for display):
`region_code` is the kelurahan/desa code, or the most specific region the names determine
when they do not reach a kelurahan; `verified` is True only when the place is known down
to its kelurahan/desa. A place the directory cannot match is kept as typed, with
region_code None and verified False ("lokasi belum terverifikasi"), for a person to fix
with an amendment: never refused, never dropped.

Pure: takes the directory (shared.regions.dataset loads it) and dicts; no I/O.
"""

from __future__ import annotations

from shared.regions.directory import DISTRICT, REGENCY, VILLAGE, RegionDirectory, level_of

NAME_FIELDS = {REGENCY: "kabupaten", DISTRICT: "kecamatan", VILLAGE: "kelurahan"}


class UnknownRegionCodeError(ValueError):
    """A code given for a place is not in the directory."""


def locate_place(directory: RegionDirectory, place: dict | None) -> dict | None:
    """`place` with `region_code` and `verified` set (None stays None).

    A code given wins over the names: it must exist (UnknownRegionCodeError); a lower
    level typed beside it (a kelurahan under a chosen kecamatan) is matched under it.
    Without a code the typed kabupaten/kecamatan/kelurahan names are matched (case,
    diacritics and kind words like "Kab." ignored; see RegionDirectory.resolve). Names
    stay as recorded; only the levels left empty are filled with the official names.
    """
    if place is None:
        return None
    located = dict(place)
    code = place.get("region_code")
    if code:
        if code not in directory:
            raise UnknownRegionCodeError(code)
        if level_of(code) != VILLAGE:
            code = _under_code(directory, code, place) or code
    else:
        code = directory.resolve(
            place.get("kabupaten"), place.get("kecamatan"), place.get("kelurahan")
        ).code
    located["region_code"] = code
    located["verified"] = bool(code) and level_of(code) == VILLAGE
    if code:
        found = directory.place(code)
        for region in (found.regency, found.district, found.village):
            if region is not None and not located.get(NAME_FIELDS[region.level]):
                located[NAME_FIELDS[region.level]] = region.name
    return located


def _under_code(directory: RegionDirectory, code: str, place: dict) -> str | None:
    """The one region under `code` the typed lower-level names name, if exactly one."""
    region = directory.get(code)
    if region.level not in (REGENCY, DISTRICT) or not place.get("kelurahan"):
        return None
    kecamatan = region.name if region.level == DISTRICT else place.get("kecamatan")
    regency = region if region.level == REGENCY else directory.get(region.parent_code)
    found = directory.resolve(regency.name, kecamatan, place.get("kelurahan"))
    if found.code and found.code.startswith(code + ".") and found.ambiguous is None:
        return found.code
    return None


def upcast_place(directory: RegionDirectory, place: dict | None) -> dict | None:
    """A place recorded before codes: matched by its names (deterministic), names kept."""
    if place is None:
        return None
    return locate_place(directory, {**place, "region_code": None})
