from datetime import datetime

import pytest

from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.routing import (
    Agency,
    Area,
    RoutingRules,
    RoutingRulesError,
    next_level,
)

CIKANDE = Area(region="kab-serang", kecamatan="Cikande", kelurahan="Cikande")
T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)

CATEGORIES = [
    "street_lighting",
    "road_damage",
    "electricity",
    "public_order",
    "tawuran",
    "neighbourhood_security",
    "narcotics",
    "hoax_provocation",
    "money_politics",
    "community_dispute",
    "other",
]


def test_rules_list_every_category_with_labels_when_loaded_from_yaml(rules):
    assert rules.version == "2026-11-23.1"
    assert sorted(rules.categories) == sorted(CATEGORIES)
    assert rules.category_rule("street_lighting").label_en == "Street lighting"
    assert rules.category_rule("road_damage").label_id == "Jalan rusak"


def test_only_tips_that_can_harm_reporters_are_sensitive_when_using_defaults(rules):
    sensitive = {category for category in CATEGORIES if rules.is_sensitive(category)}
    assert sensitive == {"tawuran", "narcotics", "money_politics"}


def test_region_override_names_local_agencies_when_case_is_in_kab_serang(rules):
    decision = rules.route("street_lighting", CIKANDE, start=T0)
    assert [a.name for a in decision.ladder] == [
        "Dinas Perhubungan Kab. Serang",
        "Kepala Dinas Perhubungan Kab. Serang",
        "Sekda Kab. Serang",
    ]
    assert decision.rule_version == rules.version
    assert decision.deadlines.acknowledge_by < decision.deadlines.resolve_by


def test_more_specific_region_wins_when_region_path_is_nested(rules):
    nested = Area("kab-serang/cikande", "Cikande", "Cikande")
    assert rules.route("road_damage", nested, start=T0).agency.id == "pupr-kab-serang"


def test_unknown_category_falls_back_to_kelurahan_then_kecamatan_when_routed(rules):
    area = Area("kota-lain", "Tengah", "Suka Maju")
    decision = rules.route("stray_cats", area, start=T0)
    assert decision.ladder == (
        Agency("kelurahan-suka-maju", "Kelurahan/Desa Suka Maju"),
        Agency("kecamatan-tengah", "Kecamatan Tengah"),
    )


def test_alternative_ladder_chosen_when_primary_agency_excluded(rules):
    decision = rules.route("road_damage", CIKANDE, start=T0, excluding={"pupr-kab-serang"})
    assert decision.agency.name == "Dinas PUPR Provinsi Banten"
    assert (
        rules.route("narcotics", CIKANDE, start=T0, excluding={"polres-serang-satresnarkoba"})
        is None
    )


def test_next_level_is_none_when_at_top_of_ladder(rules):
    ladder = rules.route("tawuran", CIKANDE, start=T0).ladder
    assert next_level(ladder, 0) == (
        1,
        Agency("polres-serang-samapta", "Polres Serang (Sat Samapta)"),
    )
    assert next_level(ladder, 1) is None


def test_rules_refused_when_a_ladder_names_an_unknown_agency():
    data = {
        "version": "x",
        "agencies": {"kelurahan": "Kelurahan"},
        "categories": {"other": {"ladders": [["kelurahan", "camat"]]}},
    }
    with pytest.raises(RoutingRulesError):
        RoutingRules.from_dict(data)


def test_rules_refused_when_fallback_category_missing():
    with pytest.raises(RoutingRulesError):
        RoutingRules.from_dict({"version": "x", "agencies": {}, "categories": {}})
