"""How an Open311 request's fields become an aspiration's place, summary and reporter."""

import pytest

from intake_service.domain import open311 as rules
from intake_service.domain.commands import Reporter


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            "Jl. Raya Cikande KM 3, Kel. Cikande, Kec. Cikande, Kab. Serang",
            {"kelurahan": "Cikande", "kecamatan": "Cikande", "kabupaten": "Kab. Serang"},
        ),
        (
            "RT 02/RW 05, Kelurahan Pekayon Jaya, Kecamatan Bekasi Selatan, Kota Bekasi",
            {
                "kelurahan": "Pekayon Jaya",
                "kecamatan": "Bekasi Selatan",
                "kabupaten": "Kota Bekasi",
            },
        ),
        (
            "Desa Krangkeng, kec. Krangkeng, KABUPATEN INDRAMAYU",
            {
                "kelurahan": "Krangkeng",
                "kecamatan": "Krangkeng",
                "kabupaten": "KABUPATEN INDRAMAYU",
            },
        ),  # fmt: skip
        ("Jl. Kenanga 4, Menteng", {}),  # nothing marked: nothing guessed
        ("", {}),
    ],
)
def test_an_address_names_its_places_by_their_markers(address, expected):
    assert rules.parse_address(address) == expected


def test_explicit_fields_win_and_coordinates_are_kept():
    place = rules.place_of(
        address_string="Jl. Raya, Kel. Cikande, Kec. Cikande",
        kelurahan="Cikande Permai",
        kabupaten="Kab. Serang",
        lat=-6.2,
        long=106.3,
    )
    assert place == {
        "kelurahan": "Cikande Permai",
        "kecamatan": "Cikande",
        "kabupaten": "Kab. Serang",
        "address": "Jl. Raya, Kel. Cikande, Kec. Cikande",
        "lat": -6.2,
        "lon": 106.3,
    }


def test_a_place_without_a_kelurahan_is_refused():
    with pytest.raises(rules.LocationMissing):
        rules.place_of(address_string="Jl. Raya Cikande", lat=-6.2, long=106.3)


def test_the_summary_is_the_first_line_cut_at_a_word():
    assert rules.summary_of("  Lampu mati.\nSudah seminggu.") == "Lampu mati."
    long_line = "kata " * 100
    summary = rules.summary_of(long_line)
    assert len(summary) <= rules.SUMMARY_MAX and summary.endswith("kata…")


def test_contact_fields_make_a_private_reporter_or_none():
    assert rules.reporter_of(None, None, None, None) is None
    assert rules.reporter_of("Sumi", "Warga", "0813", "s@example.org") == Reporter(
        name="Sumi Warga", kind="person", contact="0813; s@example.org"
    )
    assert rules.reporter_of(None, None, None, "s@example.org").name == "(tanpa nama)"


def test_an_idempotency_key_gives_the_same_id_per_app_and_key():
    same = rules.aspiration_id_for("app-1", "k-1")
    assert same == rules.aspiration_id_for("app-1", "k-1")
    assert same != rules.aspiration_id_for("app-2", "k-1")
    assert rules.aspiration_id_for("app-1", None) != rules.aspiration_id_for("app-1", None)
