"""Generate the police unit directory (shared.police) from the routing rules' police names.

One unit per Polda, Polres (Polresta, Polrestabes, Polres Metro) and Polsek, named by the
same templates and police.yaml overrides that name the routing targets, so a unit's id is
both an officer's unit and a routing target:

- a Polsek is `polsek-<kecamatan code>` (its routing id); a Polsek police.yaml gives to
  several kecamatan of one kabupaten/kota is one unit with several areas, its id from the
  first; a kecamatan police.yaml maps to "" has no Polsek (the Polres covers it);
- a Polres is `polres-<kabupaten/kota code>`, its desks (polres-samapta-3604, ...) the
  routing targets that belong to it;
- a Polda is the slug of its name (polda-banten; polda-metro-jaya also holds the buffer
  cities), its desks polda-banten-ditresnarkoba, ...

Old ids (the slug of a unit's name, as units were known before the directory: polsek-
cikande, polres-metro-bekasi-kota, also without "Metro") are kept as aliases when they
name one unit only; police.yaml `aliases:` settles the others (polsek-tambora).

`python -m followup_service.cli police-directory` writes deploy/routing/police-units.json.gz;
tests/unit/followup/test_police_directory.py checks that the file is current.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter, defaultdict

import yaml

from followup_service.rules import DirectoryLocator, load_routing_rules
from shared.police import DIRECTORY_PATH
from shared.regions.dataset import load_directory
from shared.regions.directory import DISTRICT, compact_code
from shared.units import unit_id


def build(rules_path: str) -> dict:
    """The directory as data: {"units": [...], "aliases": {old id: unit id}}."""
    regions = load_directory()
    rules = load_routing_rules(rules_path, regions)
    locator = DirectoryLocator(regions)
    police_file = os.path.join(os.path.dirname(rules_path), "police.yaml")
    with open(police_file, encoding="utf-8") as fh:
        overrides = yaml.safe_load(fh) or {}
    units: dict[str, dict] = {}
    polsek_of_group: dict[tuple[str, str], str] = {}
    no_polsek = []

    def unit(uid, kind, name, parent):
        return units.setdefault(
            uid,
            {"id": uid, "kind": kind, "name": name, "parent": parent, "areas": [], "desks": []},
        )

    def add(entry, field, value):
        if value not in entry[field]:
            entry[field].append(value)

    for province in regions.children(None):
        for regency in regions.children(province.code):
            for district in regions.children(regency.code):
                if district.level != DISTRICT:
                    continue
                location = locator.by_code(district.code)
                polda_name = rules.police.polda_of(location)
                polda = unit(unit_id(polda_name), "polda", polda_name, None)
                add(
                    polda,
                    "areas",
                    regency.code if regency.code in rules.police.polda else province.code,
                )
                polres_name = rules.police.polres_of(location)
                polres = unit(
                    f"polres-{compact_code(regency.code)}", "polres", polres_name, polda["id"]
                )
                add(polres, "areas", regency.code)
                polsek_name = rules.police.polsek_of(location)
                polsek = None
                if polsek_name:
                    key = (regency.code, polsek_name)
                    uid = polsek_of_group.setdefault(key, f"polsek-{compact_code(district.code)}")
                    polsek = unit(uid, "polsek", polsek_name, polres["id"])
                    add(polsek, "areas", district.code)
                else:
                    no_polsek.append(district.code)
                for level, agency in rules.police_desks(location):
                    holder = {"polda": polda, "polres": polres, "polsek": polsek}[level]
                    if holder is not None:
                        add(holder, "desks", agency.id)
    aliases = _aliases(units, regions, overrides.get("aliases") or {})
    ordered = sorted(
        units.values(),
        key=lambda u: ("polda polres polsek".index(u["kind"]), u["areas"][0], u["id"]),
    )
    return {"units": ordered, "aliases": aliases, "kecamatan_without_polsek": no_polsek}


def _aliases(units: dict[str, dict], regions, settled: dict) -> dict[str, str]:
    """Old ids -> unit ids: the slug of each name (and without "Metro"), when unambiguous."""
    candidates: dict[str, set[str]] = defaultdict(set)
    for uid, entry in units.items():
        name = unit_id(entry["name"])
        candidates[name].add(uid)
        candidates[name.replace("-metro-", "-")].add(uid)
        if entry["kind"] == "polsek":
            for code in entry["areas"]:
                candidates[f"polsek-{unit_id(regions.get(code).name)}"].add(uid)
    counts = Counter({alias: len(ids) for alias, ids in candidates.items()})
    aliases = {
        alias: next(iter(ids))
        for alias, ids in candidates.items()
        if counts[alias] == 1 and alias not in units and next(iter(ids)) != alias
    }
    by_area = {
        code: uid
        for uid, entry in units.items()
        for code in entry["areas"]
        if entry["kind"] != "polda"
    }
    for alias, code in settled.items():
        aliases[unit_id(alias)] = by_area.get(str(code)) or unit_id(str(code))
    return dict(sorted(aliases.items()))


def write(rules_path: str, path: str = DIRECTORY_PATH) -> dict:
    data = build(rules_path)
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(body.encode("utf-8"))
    return counts(data)


def counts(data: dict) -> dict:
    kinds = Counter(u["kind"] for u in data["units"])
    provinces = {a.split(".")[0] for u in data["units"] if u["kind"] == "polda" for a in u["areas"]}
    return {
        "polda": kinds["polda"],
        "polres": kinds["polres"],
        "polsek": kinds["polsek"],
        "provinces": len(provinces),
        "kecamatan_without_polsek": len(data["kecamatan_without_polsek"]),
        "aliases": len(data["aliases"]),
    }
