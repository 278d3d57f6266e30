"""Adapter: the routing rules file (YAML), the police units file and the region directory
-> the domain's RoutingRules."""

from __future__ import annotations

import os
from functools import lru_cache

import yaml

from followup_service.domain.location import Location
from followup_service.domain.routing import Area, RoutingRules
from shared.regions.dataset import load_directory
from shared.regions.directory import RegionDirectory, is_region_code
from shared.regions.names import bare_regency_name
from shared.taxonomy import load_categories


def load_routing_rules(path: str, directory: RegionDirectory | None = None) -> RoutingRules:
    """Read and check the rules file; a malformed file fails at start-up, not mid-request
    (the categories' attributes too: shared.taxonomy raises TaxonomyError). The police
    units file is named by the rules' `police:` (relative to the rules file)."""
    load_categories(path)
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    police = None
    if data.get("police"):
        with open(os.path.join(os.path.dirname(path), data["police"]), encoding="utf-8") as fh:
            police = yaml.safe_load(fh)
    locator = DirectoryLocator(directory or load_directory())
    return RoutingRules.from_dict(data, police=police, locator=locator)


class DirectoryLocator:
    """The domain's Locator over shared.regions' directory (results cached per process)."""

    def __init__(self, directory: RegionDirectory):
        self.directory = directory
        self.by_code = lru_cache(maxsize=20_000)(self._by_code)
        self.locate = lru_cache(maxsize=20_000)(self._locate)

    def _locate(self, area: Area) -> Location | None:
        if is_region_code(area.region):
            return self.by_code(area.region)
        # a case opened before codes: its region is a path of name slugs ("kab-serang/...")
        kabupaten = area.region.split("/")[0].replace("-", " ")
        found = self.directory.resolve(kabupaten, area.kecamatan, area.kelurahan).code
        return self.by_code(found) if found else None

    def _by_code(self, code: str) -> Location | None:
        place = self.directory.place(code)
        if place is None:
            return None
        regency = place.regency
        shared_name = regency is not None and any(
            other.code != regency.code and other.code.startswith(place.province.code + ".")
            for other in self.directory.regencies(bare_regency_name(regency.name))
        )
        return Location(
            province_code=place.province.code,
            province=place.province.name,
            regency_code=regency.code if regency else None,
            regency=regency.name if regency else None,
            regency_bare=bare_regency_name(regency.name) if regency else None,
            regency_is_city=bool(regency and regency.kind == "kota"),
            regency_name_shared=shared_name,
            district_code=place.district.code if place.district else None,
            district=place.district.name if place.district else None,
            village_code=place.village.code if place.village else None,
            village=place.village.name if place.village else None,
            village_is_desa=bool(place.village and place.village.kind == "desa"),
        )
