"""The routing report: where a case in each sampled kelurahan would go, per category.

Fails (exit status 1 from the CLI) when any rung of any candidate ladder is generic (a
fixed agency named for no region, such as the "lokasi belum terverifikasi" check), has
no name, or is not scoped to the place's own regions. The sample is fixed: for every
province, kelurahan/desa evenly spaced through its code order, so a run is repeatable
and reaches every province.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from followup_service.domain.routing import Agency, Area, RoutingRules
from shared.regions.directory import VILLAGE, Region, RegionDirectory, compact_code
from shared.regions.names import bare_regency_name

POLICE_PREFIXES = ("Polda ", "Polres ", "Polresta ", "Polrestabes ", "Polsek ")


@dataclass(frozen=True)
class Route:
    village: Region
    place: str  # "Pekayonjaya, Bekasi Selatan, Kota Bekasi, Jawa Barat"
    category: str
    ladders: tuple[tuple[Agency, ...], ...]
    problems: tuple[str, ...] = field(default=())


def sample_villages(directory: RegionDirectory, per_province: int = 3) -> list[Region]:
    """`per_province` kelurahan/desa from every province, evenly spaced by code."""
    by_province: dict[str, list[str]] = {}
    for province in directory.children(None):
        by_province[province.code] = []
    for region in _villages(directory):
        by_province[region.code[:2]].append(region.code)
    sample = []
    for codes in by_province.values():
        codes.sort()
        step = max(1, len(codes) // per_province)
        sample += [directory.get(code) for code in codes[::step][:per_province]]
    return sample


def route_report(
    rules: RoutingRules, directory: RegionDirectory, villages: list[Region]
) -> list[Route]:
    routes = []
    for village in villages:
        place = directory.place(village.code)
        assert place is not None and place.district is not None
        area = Area(village.code, place.district.name, village.name)
        names = [r.name for r in (place.village, place.district, place.regency, place.province)]
        for category in rules.categories:
            ladders = tuple(rules.ladders(category, area))
            problems = tuple(
                f"{agency.id}: {problem}"
                for ladder in ladders
                for agency in ladder
                for problem in _problems(rules, agency, place)
            )
            if not ladders:
                problems = ("no agency at all",)
            routes.append(Route(village, ", ".join(names), category, ladders, problems))
    return routes


def _problems(rules: RoutingRules, agency: Agency, place) -> list[str]:
    found = []
    if rules.is_generic(agency):
        found.append("generic (named for no region)")
    if not agency.name.strip() or "{" in agency.name or "Kabupaten/Kota" in agency.name:
        found.append(f"unnamed ({agency.name!r})")
    regions = [r for r in (place.province, place.regency, place.district, place.village) if r]
    if not agency.name.startswith("Polda ") and not any(
        compact_code(r.code) in agency.id for r in regions
    ):
        found.append("id not scoped to the place's regions")
    names = [bare_regency_name(r.name) for r in regions]
    if not agency.name.startswith(POLICE_PREFIXES) and not any(n in agency.name for n in names):
        found.append("name mentions none of the place's regions")
    return found


def _villages(directory: RegionDirectory):
    stack = [r.code for r in directory.children(None)]
    while stack:
        code = stack.pop()
        for child in directory.children(code):
            if child.level == VILLAGE:
                yield child
            else:
                stack.append(child.code)


def format_report(routes: list[Route]) -> str:
    lines = []
    for route in routes:
        first = route.ladders[0][0] if route.ladders and route.ladders[0] else None
        status = "FAIL" if route.problems else "ok"
        agency = f"{first.name} [{first.id}]" if first else "-"
        lines.append(f"{status:4} {route.village.code} {route.category:22} -> {agency}")
        lines += [f"       ! {problem}" for problem in route.problems]
    failed = sum(1 for route in routes if route.problems)
    villages = len({route.village.code for route in routes})
    provinces = len({route.village.code[:2] for route in routes})
    lines.append(
        f"{len(routes)} routes ({villages} kelurahan/desa in {provinces} provinces x "
        f"{len({r.category for r in routes})} categories): {failed} with problems"
    )
    return "\n".join(lines)
