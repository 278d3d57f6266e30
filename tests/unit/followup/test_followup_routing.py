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
    assert rules.version == "2026-11-25.1"
    assert sorted(rules.categories) == sorted(CATEGORIES)
    assert rules.category_rule("street_lighting").label_en == "Street lighting"
    assert rules.category_rule("road_damage").label_id == "Jalan rusak"


def test_only_tips_that_can_harm_reporters_are_sensitive_when_using_defaults(rules):
    sensitive = {category for category in CATEGORIES if rules.is_sensitive(category)}
    assert sensitive == {"tawuran", "narcotics", "money_politics"}


def test_region_override_names_local_agencies_when_case_is_in_kab_serang(rules):
    decision = rules.route("street_lighting", CIKANDE, start=T0)
    assert [a.name for a in decision.ladder] == [
        "Dinas Perhubungan Kabupaten Serang",
        "Kepala Dinas Perhubungan Kabupaten Serang",
        "Sekretariat Daerah Kabupaten Serang",
    ]
    assert decision.rule_version == rules.version
    assert decision.deadlines.acknowledge_by < decision.deadlines.resolve_by


def test_case_opened_before_codes_is_located_by_its_names_when_routed(rules):
    nested = Area("kab-serang/cikande", "Cikande", "Cikande")
    assert rules.route("road_damage", nested, start=T0).agency.id == "pupr-3604"
    assert rules.location(nested).code == "36.04.15.2001"


def test_unknown_category_falls_back_to_kelurahan_then_kecamatan_when_routed(rules):
    area = Area("32.75.04.1001", "Bekasi Selatan", "Pekayon Jaya")
    decision = rules.route("stray_cats", area, start=T0)
    assert decision.ladder == (
        Agency(
            "kelurahan-3275041001", "Kelurahan Pekayonjaya, Kecamatan Bekasi Selatan, Kota Bekasi"
        ),
        Agency("kecamatan-327504", "Kecamatan Bekasi Selatan, Kota Bekasi"),
    )


def test_place_not_in_directory_goes_to_location_check_when_routed(rules):
    decision = rules.route(
        "public_order", Area("kota-lain/tengah", "Tengah", "Suka Maju"), start=T0
    )
    assert decision.ladder == (
        Agency("verifikasi-lokasi", "Verifikasi lokasi (lokasi belum terverifikasi)"),
    )
    assert rules.is_generic(decision.agency)


def test_rung_the_area_cannot_name_is_left_out_when_only_the_kecamatan_is_known(rules):
    krangkeng = Area("32.12.09", "Krangkeng", "")
    assert [a.id for a in rules.route("other", krangkeng, start=T0).ladder] == ["kecamatan-321209"]
    assert [a.name for a in rules.route("tawuran", krangkeng, start=T0).ladder] == [
        "Polsek Krangkeng",
        "Polres Indramayu (Sat Samapta)",
    ]


@pytest.mark.parametrize(
    ("region", "category", "agency_id", "name"),
    [
        ("32.75.04.1001", "public_order", "satpolpp-3275", "Satpol PP Kota Bekasi"),
        ("32.12.09.2010", "public_order", "satpolpp-3212", "Satpol PP Kabupaten Indramayu"),
        ("32.75.04.1001", "street_lighting", "dishub-3275", "Dinas Perhubungan Kota Bekasi"),
        (
            "31.71.06.1001",
            "street_lighting",
            "sudin-binamarga-3171",
            "Suku Dinas Bina Marga Kota Administrasi Jakarta Pusat",
        ),
        ("31.71.06.1001", "tawuran", "polsek-317106", "Polsek Metro Menteng"),
        (
            "32.75.04.1001",
            "hoax_provocation",
            "polres-siber-3275",
            "Polres Metro Bekasi Kota (Sat Reskrim Siber/Humas)",
        ),
        (
            "35.78.01.1001",
            "narcotics",
            "polres-narkoba-3578",
            "Polrestabes Surabaya (Satresnarkoba)",
        ),
        ("36.73.01.1001", "narcotics", "polres-narkoba-3673", "Polres Serang Kota (Satresnarkoba)"),
        ("14.72.01.1003", "narcotics", "polres-narkoba-1472", "Polres Dumai (Satresnarkoba)"),
    ],
)
def test_agencies_are_named_and_scoped_by_region_when_routed(
    rules, region, category, agency_id, name
):
    agency = rules.route(category, Area(region), start=T0).agency
    assert (agency.id, agency.name) == (agency_id, name)
    assert rules.find_agency(agency_id) == agency


def test_polda_covers_its_buffer_cities_when_escalating(rules):
    ladder = rules.route("narcotics", Area("32.75.04.1001"), start=T0).ladder
    assert ladder[1] == Agency("polda-metro-jaya-ditresnarkoba", "Polda Metro Jaya (Ditresnarkoba)")
    assert rules.route("narcotics", Area("32.12.09.2010"), start=T0).ladder[1].name == (
        "Polda Jawa Barat (Ditresnarkoba)"
    )


@pytest.mark.parametrize("agency_id", ["satpolpp-99", "satpolpp-327504", "satpolpp-", "nope-3275"])
def test_no_agency_found_when_id_names_no_region_of_its_kind(rules, agency_id):
    assert rules.find_agency(agency_id) is None


def test_alternative_ladder_chosen_when_primary_agency_excluded(rules):
    decision = rules.route("road_damage", CIKANDE, start=T0, excluding={"pupr-3604"})
    assert decision.agency.name == "Dinas Pekerjaan Umum dan Penataan Ruang Provinsi Banten"
    assert rules.route("narcotics", CIKANDE, start=T0, excluding={"polres-narkoba-3604"}) is None


def test_next_level_is_none_when_at_top_of_ladder(rules):
    ladder = rules.route("tawuran", CIKANDE, start=T0).ladder
    assert next_level(ladder, 0) == (
        1,
        Agency("polres-samapta-3604", "Polres Serang (Sat Samapta)"),
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


def test_remembered_ladders_equal_fresh_ones_and_the_memory_stays_bounded(rules, monkeypatch):
    import followup_service.domain.routing as routing

    first = rules.route("street_lighting", CIKANDE, start=T0)
    again = rules.route("street_lighting", CIKANDE, start=T0)
    assert again == first
    assert rules.ladders("street_lighting", CIKANDE) == list(
        rules._ladders("street_lighting", CIKANDE)
    )
    monkeypatch.setattr(routing, "AREA_CACHE_SIZE", 3)
    for n in range(10):
        area = Area(region="kab-serang", kecamatan="Cikande", kelurahan=f"Desa {n}")
        rules.ladders("street_lighting", area)
        assert len(rules._ladder_cache) <= 3
