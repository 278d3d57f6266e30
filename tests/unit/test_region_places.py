"""Places get their region code at record time, and old events by matching their names
(issue 11 item 2): matched, unmatched (kept, unverified) and ambiguous names."""

from datetime import UTC, datetime

import pytest

import shared.events.intake  # noqa: F401 - registers the schemas and the directory hook
from shared.events import REGISTRY, EventEnvelope
from shared.regions.dataset import load_directory
from shared.regions.directory import Region, RegionDirectory
from shared.regions.places import UnknownRegionCodeError, locate_place, upcast_place
from shared.regions.unit_area import unit_place, unit_regency


@pytest.fixture(scope="module")
def directory() -> RegionDirectory:
    return load_directory()


def test_typed_names_get_the_kelurahan_code_and_are_verified_when_they_match(directory):
    place = {"kabupaten": "KAB. SERANG", "kecamatan": "cikande", "kelurahan": "Cikande", "rw": "03"}
    located = locate_place(directory, place)
    assert (located["region_code"], located["verified"]) == ("36.04.15.2001", True)
    assert located["kabupaten"] == "KAB. SERANG" and located["rw"] == "03"  # names kept


def test_diacritics_spaces_and_kind_words_are_ignored_when_names_are_matched(directory):
    place = {
        "kabupaten": "Kota Bekasi",
        "kecamatan": "Kec. Békasi Selatan",
        "kelurahan": "Pekayon Jaya",
    }
    assert locate_place(directory, place)["region_code"] == "32.75.04.1001"


def test_unmatched_names_are_kept_with_no_code_and_unverified(directory):
    place = {"kabupaten": "Kab. Antah", "kecamatan": "Berantah", "kelurahan": "Entah"}
    located = locate_place(directory, place)
    assert located == {**place, "region_code": None, "verified": False}


def test_a_kelurahan_unknown_under_a_known_kecamatan_keeps_the_kecamatan_code(directory):
    place = {"kabupaten": "Serang", "kecamatan": "Cikande", "kelurahan": "Kampung Baru Sekali"}
    located = locate_place(directory, place)
    assert (located["region_code"], located["verified"]) == ("36.04.15", False)


def test_an_ambiguous_name_is_not_guessed(directory):
    # "Cikande" is a desa in more than one kecamatan of Kabupaten Serang
    located = locate_place(directory, {"kelurahan": "Cikande"})
    assert (located["region_code"], located["verified"]) == (None, False)
    # "Serang" alone is a kabupaten and a kota: nothing below the province is certain
    located = locate_place(directory, {"kabupaten": "Serang", "kelurahan": "Entah"})
    assert located["region_code"] is None


def test_a_code_chosen_from_the_suggestions_wins_and_fills_missing_names(directory):
    located = locate_place(directory, {"region_code": "32.75.04.1001", "rt": "01"})
    assert located["verified"] is True
    assert (located["kabupaten"], located["kecamatan"], located["kelurahan"]) == (
        "Kota Bekasi",
        "Bekasi Selatan",
        "Pekayonjaya",
    )


def test_a_kecamatan_code_with_a_typed_kelurahan_is_matched_under_that_kecamatan(directory):
    located = locate_place(directory, {"region_code": "32.75.04", "kelurahan": "pekayon jaya"})
    assert (located["region_code"], located["verified"]) == ("32.75.04.1001", True)
    located = locate_place(directory, {"region_code": "32.75.04", "kelurahan": "Entah"})
    assert (located["region_code"], located["verified"]) == ("32.75.04", False)


def test_an_unknown_code_is_refused(directory):
    with pytest.raises(UnknownRegionCodeError):
        locate_place(directory, {"region_code": "32.75.99.9999", "kelurahan": "X"})


def _envelope(event_type: str, version: int, payload: dict) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        "3f1f7c3e-0000-4000-8000-000000000002", event_type, version, "s", 1, now, now, payload
    )


V4 = {
    "aspiration_id": "7b0c8f2e-4a57-4b8e-9a55-3f0d2c1e9b10",
    "meeting_id": None,
    "tracking_code": "KA-7GQ4-M2",
    "category": "street_lighting",
    "summary": "PJU mati",
    "kelurahan": "Pekayon Jaya",
    "location": {
        "kabupaten": "Kota Bekasi",
        "kecamatan": "Bekasi Selatan",
        "kelurahan": "Pekayon Jaya",
    },
    "unit": "polsek-bekasi-selatan",
}


@pytest.mark.parametrize(
    ("location", "code", "verified"),
    [
        ({"kabupaten": "Kota Bekasi", "kecamatan": "Bekasi Selatan", "kelurahan": "Pekayon Jaya"},
         "32.75.04.1001", True),  # matched
        ({"kabupaten": "Kab. Antah", "kelurahan": "Entah"}, None, False),  # unmatched
        ({"kelurahan": "Cikande"}, None, False),  # ambiguous
        ({"kabupaten": "Kab. Serang", "kecamatan": "Cikande", "kelurahan": "Entah"},
         "36.04.15", False),  # matched down to the kecamatan only
    ],
)  # fmt: skip
def test_old_aspirations_are_upcast_by_matching_their_names(location, code, verified):
    payload = {**V4, "kelurahan": location["kelurahan"], "location": location}
    upcast = REGISTRY.upcast(_envelope("AspirationRecorded", 4, payload))
    assert upcast.schema_version == 6
    assert (upcast.payload["location"]["region_code"], upcast.payload["location"]["verified"]) == (
        code,
        verified,
    )
    assert upcast.payload["location"]["kelurahan"] == location["kelurahan"]  # never dropped


def test_old_meetings_and_amendments_are_upcast_by_matching_their_names():
    meeting = {
        "meeting_id": "0b7e7c1a-7d0f-4c39-9a3c-000000000001",
        "kind": "ngariung",
        "held_at": "2026-02-04T12:30:00+00:00",
        "unit": "polsek-krangkeng",
        "place": {"kabupaten": "Indramayu", "kelurahan": "Krangkeng"},
        "host_officer": "Iptu Dedi",
    }
    upcast = REGISTRY.upcast(_envelope("MeetingRecorded", 2, meeting))
    assert upcast.schema_version == 3
    assert upcast.payload["place"]["region_code"] == "32.12.09.2010"
    amended = {
        "aspiration_id": V4["aspiration_id"],
        "meeting_id": None,
        "changes": {"location": {"kelurahan": "Entah"}, "summary": "PJU mati total"},
        "previous": {"location": V4["location"], "summary": "PJU mati"},
        "reason": "salah ketik",
        "amended_by": "officer:x",
    }
    upcast = REGISTRY.upcast(_envelope("AspirationAmended", 1, amended))
    assert upcast.schema_version == 2
    assert upcast.payload["changes"]["location"]["verified"] is False
    assert upcast.payload["previous"]["location"]["region_code"] == "32.75.04.1001"
    assert upcast.payload["changes"]["summary"] == "PJU mati total"


def test_upcasters_use_the_directory_provided_to_the_registry(monkeypatch):
    """A process (or test) may provide its own directory; the upcast is a pure function of it."""
    monkeypatch.setattr(REGISTRY, "_resources", dict(REGISTRY._resources))
    tiny = RegionDirectory(
        [Region("99", "Provinsi Uji"), Region("99.01", "Kabupaten Uji"),
         Region("99.01.01", "Ujung"), Region("99.01.01.2001", "Pekayon Jaya")]
    )  # fmt: skip
    REGISTRY.provide("regions", lambda: tiny)
    upcast = REGISTRY.upcast(
        _envelope("AspirationRecorded", 4, {**V4, "location": {"kelurahan": "Pekayon Jaya"}})
    )
    assert upcast.payload["location"]["region_code"] == "99.01.01.2001"


def test_upcast_place_matches_names_even_when_a_code_slot_is_empty(directory):
    assert upcast_place(directory, None) is None
    assert upcast_place(directory, {"kelurahan": "Krangkeng"})["region_code"] == "32.12.09.2010"


@pytest.mark.parametrize(
    ("unit", "regency"),
    [
        ("polsek-cikande", "36.04"),  # a Polsek: its kecamatan's kabupaten
        ("Polres Serang", "36.04"),  # "Polres Serang" is the kabupaten's, not the kota's
        ("polres-metro-bekasi-kota", "32.75"),
        ("polsek-bekasi-selatan", "32.75"),
        ("polsek-krangkeng", "32.12"),
        ("polres-metro-jakarta-barat", "31.73"),
        ("polsek-menteng", "31.71"),
        # two kecamatan Tambora: police.yaml's aliases settle the old id (issue 27)
        ("polsek-tambora", "31.73"),
        ("polsek-520614", "52.06"),  # the other Tambora's Polsek, by its directory id
        ("polsek-360415", "36.04"),
        ("polres-3604", "36.04"),
        ("polda-banten", None),
        (None, None),
    ],
)
def test_a_units_area_is_its_kabupaten_or_kota(directory, unit, regency):
    assert unit_regency(directory, unit) == regency


@pytest.mark.parametrize(
    ("unit", "place"),
    [
        ("polsek-cikande", {"kabupaten": "Kabupaten Serang", "kecamatan": "Cikande"}),
        ("Polsek Krangkeng", {"kabupaten": "Kabupaten Indramayu", "kecamatan": "Krangkeng"}),
        ("polres-metro-bekasi-kota", {"kabupaten": "Kota Bekasi"}),
        (
            "polsek-tambora",
            {"kabupaten": "Kota Administrasi Jakarta Barat", "kecamatan": "Tambora"},
        ),
        ("polsek-360415", {"kabupaten": "Kabupaten Serang", "kecamatan": "Cikande"}),
        ("polsek-nowhere", {}),  # not a unit the directory or the regions know
        (None, {}),
    ],
)
def test_the_logging_page_starts_from_the_units_own_place(directory, unit, place):
    assert unit_place(directory, unit) == place
