"""Routing and escalation rules as versioned data (loaded from deploy/routing/rules.yaml)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from followup_service.domain.deadlines import add_working_days

FALLBACK_CATEGORY = "other"
URGENCIES = ("normal", "high")


class RoutingRulesError(ValueError):
    pass


@dataclass(frozen=True)
class Agency:
    id: str
    name: str


@dataclass(frozen=True)
class Area:
    """Where a case happened; `region` is a path such as "kab-serang" or "kab-serang/cikande"."""

    region: str
    kecamatan: str = ""
    kelurahan: str = ""


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


class RoutingRules:
    def __init__(
        self,
        version: str,
        agencies: Mapping[str, str],
        categories: Mapping[str, Mapping[str, Any]],
        regions: Mapping[str, Mapping[str, Mapping[str, Any]]],
        defaults: Mapping[str, Any],
    ):
        self.version = version
        self._agencies = dict(agencies)
        self._categories = {key: dict(value) for key, value in categories.items()}
        self._regions = {key: dict(value) for key, value in regions.items()}
        self._defaults = dict(defaults)
        self._rule_cache: dict[tuple[str, str | None], CategoryRule] = {}
        self.verification_working_days = int(defaults.get("verification_working_days", 5))
        if FALLBACK_CATEGORY not in self._categories:
            raise RoutingRulesError(f"rules need the fallback category {FALLBACK_CATEGORY!r}")
        for region in [None, *self._regions]:
            for category in self._categories:
                self._check(self.category_rule(category, region))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoutingRules:
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
            )
        except (KeyError, TypeError) as error:
            raise RoutingRulesError(f"malformed routing rules: {error!r}") from error

    @property
    def categories(self) -> list[str]:
        return list(self._categories)

    def category_rule(self, category: str, region: str | None = None) -> CategoryRule:
        """The rule for `category`, with the most specific region override applied."""
        key = (category, region)
        rule = self._rule_cache.get(key)
        if rule is None:
            rule = self._rule_cache[key] = self._resolve_rule(category, region)
        return rule

    def _resolve_rule(self, category: str, region: str | None) -> CategoryRule:
        raw = dict(self._categories.get(category) or self._categories[FALLBACK_CATEGORY])
        for prefix in self._region_prefixes(region):
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
        """The agency with this id in `area` (templates like "polsek-{kecamatan}" resolved)."""
        for template in self._agencies:
            agency = self._resolve(template, area)
            if agency.id == agency_id:
                return agency
        raise RoutingRulesError(f"unknown agency {agency_id!r}")

    def ladders(self, category: str, area: Area) -> list[tuple[Agency, ...]]:
        """Candidate ladders in order: the primary one, then alternatives for re-routing."""
        rule = self.category_rule(category, area.region)
        return [tuple(self._resolve(t, area) for t in ladder) for ladder in rule.ladders]

    def deadlines(
        self, category: str, start: datetime, urgency: str = "normal", region: str | None = None
    ) -> Deadlines:
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
            deadlines=self.deadlines(category, start, urgency, area.region),
        )

    def verification_deadline(self, start: datetime) -> datetime:
        return add_working_days(start, self.verification_working_days)

    def _resolve(self, template: str, area: Area) -> Agency:
        fields = {"kecamatan": area.kecamatan, "kelurahan": area.kelurahan}
        slugs = {key: _slug(value) for key, value in fields.items()}
        return Agency(id=template.format(**slugs), name=self._agencies[template].format(**fields))

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
        parts = region.split("/") if region else []
        return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _shorten(working_days: int, urgency: str) -> int:
    """High urgency halves a deadline, rounding up, never below one working day."""
    if urgency not in URGENCIES:
        raise RoutingRulesError(f"unknown urgency {urgency!r}")
    return max(1, math.ceil(working_days / 2)) if urgency == "high" else working_days
