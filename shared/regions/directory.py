"""The official region hierarchy in memory, and finding a place in it from typed names.

Kemendagri codes nest: "32" Jawa Barat, "32.75" Kota Bekasi, "32.75.04" Bekasi Selatan,
"32.75.04.1001" Pekayonjaya. The level and the parent follow from the code. A village
code whose last part starts with 1 is a kelurahan, with 2 a desa.

Pure: no SQL, no files (shared.regions.dataset reads the vendored file, and
shared.regions.store is the database side).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from shared.regions import names

PROVINCE, REGENCY, DISTRICT, VILLAGE = "provinsi", "kabupaten", "kecamatan", "kelurahan"
LEVELS = (PROVINCE, REGENCY, DISTRICT, VILLAGE)


def level_of(code: str) -> str:
    return LEVELS[code.count(".")]


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def is_region_code(text: str | None) -> bool:
    parts = (text or "").split(".")
    return (
        bool(text)
        and len(parts) <= 4
        and all(p.isdigit() for p in parts)
        and [len(p) for p in parts] == [2, 2, 2, 4][: len(parts)]
    )


def compact_code(code: str) -> str:
    """The code without dots, as agency ids carry it ("32.75" -> "3275")."""
    return code.replace(".", "")


def dotted_code(compact: str) -> str | None:
    """ "3275" -> "32.75"; None when the digits are not a region code's shape."""
    if not compact.isdigit() or len(compact) not in (2, 4, 6, 10):
        return None
    cuts = [compact[0:2], compact[2:4], compact[4:6], compact[6:10]]
    return ".".join(part for part in cuts if part)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str

    @property
    def level(self) -> str:
        return level_of(self.code)

    @property
    def parent_code(self) -> str | None:
        return parent_of(self.code)

    @property
    def key(self) -> str:
        """The normalised name (for a kabupaten/kota, without its kind words)."""
        if self.level == REGENCY:
            return names.regency_key(self.name)[1]
        return names.area_key(self.level, self.name)

    @property
    def kind(self) -> str:
        """kabupaten or kota for that level; kelurahan or desa for a village; else the level."""
        if self.level == REGENCY:
            return names.regency_key(self.name)[0] or REGENCY
        if self.level == VILLAGE:
            return "kelurahan" if self.code.rsplit(".", 1)[1].startswith("1") else "desa"
        return self.level


@dataclass(frozen=True)
class Place:
    """A region with its ancestors: what routing and addresses need."""

    province: Region
    regency: Region | None = None
    district: Region | None = None
    village: Region | None = None

    @property
    def code(self) -> str:
        return self.most_specific.code

    @property
    def most_specific(self) -> Region:
        return self.village or self.district or self.regency or self.province


@dataclass(frozen=True)
class Resolution:
    """The most specific region the typed names determine, or None; `ambiguous` names
    the level at which several regions matched (e.g. "Serang": a kabupaten and a kota)."""

    code: str | None
    ambiguous: str | None = None


RESOLVED_CACHE_SIZE = 20_000  # typed name triples remembered (bounded)


class RegionDirectory:
    def __init__(self, regions: Iterable[Region]):
        self._by_code: dict[str, Region] = {}
        # level -> key -> codes, across the whole country
        self._by_key: dict[str, dict[str, list[str]]] = {lvl: defaultdict(list) for lvl in LEVELS}
        for region in regions:
            self._by_code[region.code] = region
            self._by_key[region.level][region.key].append(region.code)
        self._children: dict[str | None, list[str]] = defaultdict(list)
        for code in self._by_code:
            self._children[parent_of(code)].append(code)
        self._resolved: dict[tuple, Resolution] = {}  # typed names repeat: a case per name

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def children(self, code: str | None) -> list[Region]:
        """Regions one level below `code` (provinces for None), in code order."""
        return [self._by_code[c] for c in sorted(self._children.get(code, ()))]

    def count(self, level: str) -> int:
        return sum(len(codes) for codes in self._by_key[level].values())

    def place(self, code: str) -> Place | None:
        """The region with this code and its ancestors, None for an unknown code."""
        if code not in self._by_code:
            return None
        chain = []
        current: str | None = code
        while current is not None:
            chain.append(self._by_code[current])
            current = parent_of(current)
        chain.reverse()
        return Place(*chain)

    def regencies(self, text: str | None) -> list[Region]:
        """The kabupaten/kota a typed name may mean ("Serang": both; "kab serang": one)."""
        kind, key = names.regency_key(text)
        found = [self._by_code[c] for c in self._by_key[REGENCY].get(key, ())]
        return [r for r in found if kind is None or r.kind == kind]

    def resolve(
        self, kabupaten: str | None, kecamatan: str | None = None, kelurahan: str | None = None
    ) -> Resolution:
        """The code the names (any may be empty) determine, as deep as they are unambiguous.

        Each typed level narrows the one above it: "Serang" alone is ambiguous, but with
        kecamatan "Cikande" it is Kabupaten Serang. A name that matches nothing stops the
        descent there (the levels above still count).
        """
        key = (kabupaten, kecamatan, kelurahan)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= RESOLVED_CACHE_SIZE:
                self._resolved.clear()
            found = self._resolved[key] = self._resolve(kabupaten, kecamatan, kelurahan)
        return found

    def _resolve(
        self, kabupaten: str | None, kecamatan: str | None, kelurahan: str | None
    ) -> Resolution:
        regencies = {r.code for r in self.regencies(kabupaten)} if kabupaten else None
        if regencies is not None and not regencies:
            return Resolution(None)
        districts = self._matches(DISTRICT, kecamatan, regencies)
        villages = self._matches(VILLAGE, kelurahan, districts or regencies)
        if villages:
            districts = {parent_of(v) for v in villages} if districts is None else districts
            districts &= {parent_of(v) for v in villages}
        if districts:
            regencies = {parent_of(d) for d in districts} if regencies is None else regencies
            regencies &= {parent_of(d) for d in districts}
        for level, found in ((VILLAGE, villages), (DISTRICT, districts), (REGENCY, regencies)):
            if found and len(found) == 1:
                return Resolution(next(iter(found)))
            if found:
                return Resolution(self._common_ancestor(found), ambiguous=level)
        return Resolution(None)

    def _matches(self, level: str, text: str | None, parents: set[str] | None) -> set[str] | None:
        """Codes at `level` named `text` under one of `parents` (any parent for None);
        None when nothing was typed or nothing matched, so the level above decides."""
        key = names.area_key(level, text)
        if not key:
            return None
        found = set(self._by_key[level].get(key, ()))
        if parents is not None:
            found = {c for c in found if _under(c, parents)}
        return found or None

    @staticmethod
    def _common_ancestor(codes: set[str]) -> str | None:
        """The deepest code all of `codes` are under, if they share one."""
        parents = {parent_of(c) for c in codes}
        while len(parents) > 1:
            parents = {parent_of(p) if p else None for p in parents}
        parent = next(iter(parents))
        return parent if parent and level_of(parent) != PROVINCE else None


def _under(code: str, ancestors: set[str]) -> bool:
    current = parent_of(code)
    while current is not None:
        if current in ancestors:
            return True
        current = parent_of(current)
    return False
