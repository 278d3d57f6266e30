"""Routing and escalation rules as versioned data (loaded from deploy/routing/rules.yaml)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from string import Formatter
from typing import Any, Protocol

from followup_service.domain.deadlines import add_working_days
from followup_service.domain.location import Location, PoliceUnits, template_fields

FALLBACK_CATEGORY = "other"
POLICE_LEVELS = ("polsek", "polres", "polda")
URGENCIES = ("normal", "high")


class RoutingRulesError(ValueError):
    pass


@dataclass(frozen=True)
class Agency:
    id: str
    name: str


@dataclass(frozen=True)
class Area:
    """Where a case happened, as its events record it: `region` is the Kemendagri code of
    the most specific region recognised ("32.75.04.1001"); cases opened before codes carry
    a path of names ("kab-serang/cikande"), which the Locator recognises by name.
    kecamatan and kelurahan are the names as typed."""

    region: str
    kecamatan: str = ""
    kelurahan: str = ""

    @property
    def verified(self) -> bool:
        """Known down to its kelurahan/desa; otherwise "lokasi belum terverifikasi"."""
        return _is_code(self.region) and self.region.count(".") == 3


class Locator(Protocol):
    """The region directory, as routing sees it (an adapter over shared.regions)."""

    def locate(self, area: Area) -> Location | None:
        """The area in the official hierarchy; None when it is not recognised."""

    def by_code(self, code: str) -> Location | None:
        """The region with this dotted code; None for an unknown code."""


# Template fields that carry a region code: agency ids are scoped by them.
CODE_FIELDS = ("provinsi_code", "kabkota_code", "kecamatan_code", "kelurahan_code")


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime
    resolve_by: datetime


@dataclass(frozen=True)
class RoutingDecision:
    agency: Agency
    ladder: tuple[Agency, ...]  # ladder[0] is the agency; escalation climbs it
    rule_version: str
    deadlines: Deadlines


@dataclass(frozen=True)
class CategoryRule:
    id: str
    label_id: str
    label_en: str
    sensitive: bool
    acknowledge_working_days: int
    resolve_working_days: int
    ladders: tuple[tuple[str, ...], ...]  # agency id templates; the first ladder is primary


def next_level(ladder: tuple[Agency, ...], level: int) -> tuple[int, Agency] | None:
    """The rung above `level`, or None at the top of the ladder."""
    return (level + 1, ladder[level + 1]) if level + 1 < len(ladder) else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# Areas remembered per RoutingRules (their ladders and locations are pure functions of the
# rules and the area): a consumer routes many cases in few places, and naming agencies from
# templates and region names costs more than the rest of opening a case.
AREA_CACHE_SIZE = 20_000


def _remember(cache: dict, key, compute):
    if key in cache:
        return cache[key]
    value = compute()
    if len(cache) >= AREA_CACHE_SIZE:
        cache.clear()  # bounded; a full cache is simply started again
    cache[key] = value
    return value


class RoutingRules:
    def __init__(
        self,
        version: str,
        agencies: Mapping[str, str],
        categories: Mapping[str, Mapping[str, Any]],
        regions: Mapping[str, Mapping[str, Mapping[str, Any]]],
        defaults: Mapping[str, Any],
        *,
        unlocated: Iterable[str] = (),
        police: PoliceUnits | None = None,
        locator: Locator | None = None,
    ):
        self.version = version
        self.unlocated = tuple(unlocated)  # the ladder when no agency of a rule can be named
        self.police = police or PoliceUnits()
        self.locator = locator
        self._agencies = dict(agencies)
        self._categories = {key: dict(value) for key, value in categories.items()}
        self._regions = {key: dict(value) for key, value in regions.items()}
        self._defaults = dict(defaults)
        self._rule_cache: dict[tuple[str, tuple[str, ...]], CategoryRule] = {}
        self._rule_by_region: dict[tuple[str, str | None], CategoryRule] = {}
        self._ladder_cache: dict[tuple[str, Area], tuple[tuple[Agency, ...], ...]] = {}
        self._location_cache: dict[Area, Location | None] = {}
        self.verification_working_days = int(defaults.get("verification_working_days", 5))
        if FALLBACK_CATEGORY not in self._categories:
            raise RoutingRulesError(f"rules need the fallback category {FALLBACK_CATEGORY!r}")
        for region in [None, *self._regions]:
            for category in self._categories:
                self._check(self.category_rule(category, region))
        for template in self.unlocated:
            if template not in self._agencies or "{" in template:
                raise RoutingRulesError(f"unlocated: {template!r} must be a fixed agency")

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        police: Mapping[str, Any] | None = None,
        locator: Locator | None = None,
    ) -> RoutingRules:
        try:
            return cls(
                version=str(data["version"]),
                agencies=data["agencies"],
                categories=data["categories"],
                regions={
                    key: region.get("categories", {})
                    for key, region in data.get("regions", {}).items()
                },
                defaults=data.get("defaults", {}),
                unlocated=data.get("unlocated", ()),
                police=PoliceUnits.from_dict(police),
                locator=locator,
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise RoutingRulesError(f"malformed routing rules: {error!r}") from error

    @property
    def categories(self) -> list[str]:
        return list(self._categories)

    def category_rule(self, category: str, region: str | None = None) -> CategoryRule:
        """The rule for `category`, with the most specific region override applied."""
        return _remember(
            self._rule_by_region, (category, region), lambda: self._category_rule(category, region)
        )

    def _category_rule(self, category: str, region: str | None) -> CategoryRule:
        overrides = tuple(p for p in self._region_prefixes(region) if p in self._regions)
        key = (category, overrides)  # bounded: one entry per override path, not per region
        rule = self._rule_cache.get(key)
        if rule is None:
            rule = self._rule_cache[key] = self._resolve_rule(category, overrides)
        return rule

    def _resolve_rule(self, category: str, overrides: tuple[str, ...]) -> CategoryRule:
        raw = dict(self._categories.get(category) or self._categories[FALLBACK_CATEGORY])
        for prefix in overrides:
            raw.update(self._regions.get(prefix, {}).get(category, {}))
        label = raw.get("label", {})
        return CategoryRule(
            id=category if category in self._categories else FALLBACK_CATEGORY,
            label_id=label.get("id", category),
            label_en=label.get("en", category),
            sensitive=bool(raw.get("sensitive", False)),
            acknowledge_working_days=int(
                raw.get(
                    "acknowledge_working_days", self._defaults.get("acknowledge_working_days", 5)
                )
            ),
            resolve_working_days=int(
                raw.get("resolve_working_days", self._defaults.get("resolve_working_days", 14))
            ),
            ladders=tuple(tuple(ladder) for ladder in raw["ladders"]),
        )

    def fixed_agencies(self) -> dict[str, str]:
        """Agencies named without an area (id -> name): the directory a liaison is bound to,
        beside the area agencies that cases have been routed to."""
        return {key: name for key, name in self._agencies.items() if "{" not in key}

    def is_sensitive(self, category: str) -> bool:
        return self.category_rule(category).sensitive

    def agency(self, agency_id: str, area: Area) -> Agency:
        """The agency with this id in `area` (templates like "polsek-{kecamatan_code}"
        resolved), or any agency the id names (a region-scoped id names its region)."""
        fields = self._fields(area)
        for template in self._agencies:
            agency = self._resolve(template, fields)
            if agency is not None and agency.id == agency_id:
                return agency
        found = self.find_agency(agency_id)
        if found is None:
            raise RoutingRulesError(f"unknown agency {agency_id!r}")
        return found

    def find_agency(self, agency_id: str) -> Agency | None:
        """The agency a fixed or region-scoped id names ("satpolpp-3275": Satpol PP Kota
        Bekasi), None when no template makes it or its region is unknown. Lets a liaison
        be bound to any region's agency before a case has been routed to it."""
        if agency_id in self.fixed_agencies():
            return Agency(agency_id, self._agencies[agency_id])
        for template in self._agencies:  # police units above the regions: a Polda
            if _placeholders(template) == {"polda"}:
                for polda in set(self.police.polda.values()):
                    agency = self._resolve(template, {"polda": polda})
                    if agency is not None and agency.id == agency_id:
                        return agency
        if self.locator is None:
            return None
        for template, pattern, code_field in self._scoped_id_patterns:
            match = pattern.fullmatch(agency_id)
            if not match:
                continue
            location = self.locator.by_code(_dotted(match.group("code")))
            if location is None:
                continue
            fields = template_fields(location, self.police)
            if _compact(_location_code(location, code_field)) != match.group("code"):
                continue  # e.g. a kecamatan code given where a kabupaten code belongs
            agency = self._resolve(template, fields)
            if agency is not None and agency.id == agency_id:
                return agency
        return None

    def ladders(self, category: str, area: Area) -> list[tuple[Agency, ...]]:
        """Candidate ladders in order: the primary one, then alternatives for re-routing.

        A rung the area cannot name (a Polsek when the kecamatan was not recognised) is left
        out; when no ladder keeps a rung, the `unlocated` ladder is the only candidate.
        """
        key = (category, area)
        return list(_remember(self._ladder_cache, key, lambda: self._ladders(category, area)))

    def _ladders(self, category: str, area: Area) -> tuple[tuple[Agency, ...], ...]:
        fields = self._fields(area)
        rule = self.category_rule(category, self._region_key(area))
        found = []
        for ladder in rule.ladders:
            rungs = tuple(a for a in (self._resolve(t, fields) for t in ladder) if a)
            if rungs:
                found.append(rungs)
        if not found and self.unlocated:
            found.append(tuple(Agency(t, self._agencies[t]) for t in self.unlocated))
        return tuple(found)

    def police_desks(self, location: Location) -> list[tuple[str, Agency]]:
        """The police agencies the templates name for a location, each with the level of
        the unit it belongs to ("polsek", "polres", "polda": the name field its name
        template starts with): the routing targets of the police unit directory."""
        fields = template_fields(location, self.police)
        desks = []
        for template, name in self._agencies.items():
            level = next((lv for lv in POLICE_LEVELS if name.startswith("{" + lv + "}")), None)
            agency = self._resolve(template, fields) if level else None
            if agency is not None:
                desks.append((level, agency))
        return desks

    def location(self, area: Area) -> Location | None:
        if self.locator is None:
            return None
        return _remember(self._location_cache, area, lambda: self.locator.locate(area))

    def is_generic(self, agency: Agency) -> bool:
        """Whether an agency is named for no region: the unlocated ladder, or a fixed agency
        (the routing report fails on these)."""
        return agency.id in self.unlocated or agency.id in self.fixed_agencies()

    def deadlines(
        self, category: str, start: datetime, urgency: str = "normal", region: str | None = None
    ) -> Deadlines:
        if region is not None and self.locator is not None and not _is_code(region):
            region = self._region_key(Area(region))
        rule = self.category_rule(category, region)
        return Deadlines(
            acknowledge_by=add_working_days(
                start, _shorten(rule.acknowledge_working_days, urgency)
            ),
            resolve_by=add_working_days(start, _shorten(rule.resolve_working_days, urgency)),
        )

    def route(
        self,
        category: str,
        area: Area,
        *,
        start: datetime,
        urgency: str = "normal",
        excluding: Iterable[str] = (),
    ) -> RoutingDecision | None:
        """First candidate ladder with no excluded agency on it (e.g. one that declined)."""
        excluded = set(excluding)
        for ladder in self.ladders(category, area):
            if not excluded.intersection(rung.id for rung in ladder):
                return self.decide(ladder, category, area, start=start, urgency=urgency)
        return None

    def ladder_from(self, category: str, area: Area, agency: Agency) -> tuple[Agency, ...]:
        """Ladder for a hand-picked agency: the rest of a known ladder, or the agency alone."""
        for ladder in self.ladders(category, area):
            ids = [rung.id for rung in ladder]
            if agency.id in ids:
                return ladder[ids.index(agency.id) :]
        return (agency,)

    def decide(
        self,
        ladder: tuple[Agency, ...],
        category: str,
        area: Area,
        *,
        start: datetime,
        urgency: str = "normal",
    ) -> RoutingDecision:
        return RoutingDecision(
            agency=ladder[0],
            ladder=ladder,
            rule_version=self.version,
            deadlines=self.deadlines(category, start, urgency, self._region_key(area)),
        )

    def verification_deadline(self, start: datetime) -> datetime:
        return add_working_days(start, self.verification_working_days)

    def _fields(self, area: Area) -> dict[str, str]:
        """Template values for the area: from its location when recognised; the typed
        kecamatan/kelurahan names fill in what the location does not reach."""
        location = self.location(area)
        fields = template_fields(location, self.police) if location else {}
        typed = {"kecamatan": area.kecamatan, "kelurahan": area.kelurahan}
        for key, value in typed.items():
            if value and key not in fields:
                fields[key] = value
        return fields

    def _region_key(self, area: Area) -> str:
        """The path region overrides are looked up by: the code when the area is located."""
        location = self.location(area)
        return location.code if location else area.region

    def _resolve(self, template: str, fields: Mapping[str, str]) -> Agency | None:
        """The agency a template names with these values; None when one is missing."""
        name_template = self._agencies[template]
        if any(f not in fields for f in _placeholders(template) | _placeholders(name_template)):
            return None
        slugs = {key: _slug(value) for key, value in fields.items()}
        return Agency(id=template.format(**slugs), name=name_template.format(**fields))

    @cached_property
    def _scoped_id_patterns(self) -> list[tuple[str, re.Pattern, str]]:
        """(template, id pattern, code field) for templates whose id holds one region code."""
        patterns = []
        for template in self._agencies:
            used = _placeholders(template)
            if len(used) != 1 or not used <= set(CODE_FIELDS):
                continue
            (code_field,) = used
            literal = [re.escape(part) for part in template.split("{" + code_field + "}")]
            patterns.append((template, re.compile("(?P<code>[0-9]+)".join(literal)), code_field))
        return patterns

    def _check(self, rule: CategoryRule) -> None:
        if not 0 < rule.acknowledge_working_days <= rule.resolve_working_days:
            raise RoutingRulesError(f"category {rule.id!r}: acknowledge must come before resolve")
        for ladder in rule.ladders:
            if not ladder:
                raise RoutingRulesError(f"empty ladder for category {rule.id!r}")
            for template in ladder:
                if template not in self._agencies:
                    raise RoutingRulesError(f"category {rule.id!r}: unknown agency {template!r}")

    @staticmethod
    def _region_prefixes(region: str | None) -> list[str]:
        """ "32.75.04" -> 32, 32.75, 32.75.04 (a code); "kab-serang/cikande" -> its parts."""
        separator = "." if _is_code(region) else "/"
        parts = region.split(separator) if region else []
        return [separator.join(parts[: i + 1]) for i in range(len(parts))]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def _is_code(region: str | None) -> bool:
    return (
        bool(region) and re.fullmatch(r"[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?", region) is not None
    )


def _compact(code: str | None) -> str | None:
    return code.replace(".", "") if code else None


def _dotted(compact: str) -> str:
    """ "3275" -> "32.75", "3275041001" -> "32.75.04.1001"."""
    cuts = [compact[0:2], compact[2:4], compact[4:6], compact[6:]]
    return ".".join(part for part in cuts if part)


def _location_code(location: Location, code_field: str) -> str | None:
    """The location's code for a template code field ("kabkota_code" -> regency_code)."""
    attribute = {
        "provinsi_code": "province_code",
        "kabkota_code": "regency_code",
        "kecamatan_code": "district_code",
        "kelurahan_code": "village_code",
    }[code_field]
    return getattr(location, attribute)


def _shorten(working_days: int, urgency: str) -> int:
    """High urgency halves a deadline, rounding up, never below one working day."""
    if urgency not in URGENCIES:
        raise RoutingRulesError(f"unknown urgency {urgency!r}")
    return max(1, math.ceil(working_days / 2)) if urgency == "high" else working_days
