"""The police unit directory: current with the rules, complete, one id per unit."""

import gzip
import json

import yaml

from followup_service import police_directory
from followup_service.domain.routing import Area
from followup_service.rules import load_routing_rules
from shared.config import REPO_ROOT
from shared.police import DIRECTORY_PATH, load_police_directory
from shared.regions.dataset import load_directory
from shared.regions.directory import DISTRICT, REGENCY

RULES = f"{REPO_ROOT}/deploy/routing/rules.yaml"


def test_the_data_file_is_what_the_rules_generate():
    """Regenerate with `python -m followup_service.cli police-directory` after editing
    police.yaml or the rules' police templates."""
    with gzip.open(DIRECTORY_PATH, "rb") as fh:
        stored = json.loads(fh.read())
    assert stored == json.loads(json.dumps(police_directory.build(RULES)))


def test_every_province_kabupaten_and_kecamatan_has_its_unit():
    regions, directory = load_directory(), load_police_directory()
    covered = {a for u in directory.units.values() for a in u.areas}
    for province in regions.children(None):
        assert province.code in covered or any(
            a.startswith(province.code + ".") for a in covered
        ), province
    assert regions.count(REGENCY) == sum(u.kind == "polres" for u in directory.units.values())
    assert {a for u in directory.units.values() if u.kind == "polsek" for a in u.areas} == {
        r.code for p in regions.children(None) for k in regions.children(p.code)
        for r in regions.children(k.code) if r.level == DISTRICT
    }  # fmt: skip
    counts = police_directory.counts(police_directory.build(RULES))
    assert counts["provinces"] == 38 and counts["polda"] >= 34


def test_one_id_is_the_officers_unit_and_the_routing_target():
    directory = load_police_directory()
    rules = load_routing_rules(RULES)
    with open(f"{REPO_ROOT}/deploy/routing/units.yaml", encoding="utf-8") as fh:
        old_units = yaml.safe_load(fh)["units"]
    for name in old_units:  # every unit known before the directory still names one unit
        assert directory.get(name) is not None, name
    assert directory.canonical("Polsek Cikande") == "polsek-360415"
    assert directory.canonical("polsek-tambora") == "polsek-317304"  # police.yaml aliases
    assert directory.canonical("Polsek Menteng") == "polsek-317106"  # Polsek Metro Menteng
    assert directory.canonical("polres-serang") == "polres-3604"
    # the routing targets belong to the units: Polsek's own id, Polres and Polda desks
    ladder = rules.ladders("tawuran", Area("36.04.15.2001"))[0]
    assert [directory.unit_of_desk(a.id) for a in ladder] == ["polsek-360415", "polres-3604"]
    narcotics = rules.ladders("narcotics", Area("32.75.04.1001"))[0]
    assert [directory.unit_of_desk(a.id) for a in narcotics] == [
        "polres-3275",
        "polda-metro-jaya",
    ]
    assert directory.unit_of_desk("dishub-3604") is None
