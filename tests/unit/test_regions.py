"""The region directory: the vendored dataset, the name normaliser and the lookup."""

import hashlib

import pytest

from shared.regions import names
from shared.regions.dataset import DATASET_PATH, load_directory
from shared.regions.directory import Region, RegionDirectory, dotted_code, is_region_code

# recorded in deploy/regions/SOURCE.md
DATASET_SHA256 = "d6a16b0e5ccc129e847575738609df5db3ea30d3edd49b16a217e571b40fed2b"


@pytest.fixture(scope="module")
def directory() -> RegionDirectory:
    return load_directory()


def test_vendored_dataset_is_the_recorded_file_with_every_level():
    with open(DATASET_PATH, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == DATASET_SHA256
    directory = load_directory()
    counts = {level: directory.count(level) for level in ("provinsi", "kabupaten", "kecamatan")}
    assert counts == {"provinsi": 38, "kabupaten": 514, "kecamatan": 7285}
    assert directory.count("kelurahan") == 83762
    with open("deploy/regions/SOURCE.md", encoding="utf-8") as fh:
        assert DATASET_SHA256 in fh.read()


@pytest.mark.parametrize("typed", ["kab serang", "Kabupaten Serang", "KAB. SERANG", "Kab Serang"])
def test_spellings_of_kabupaten_serang_yield_one_code(directory, typed):
    assert [r.code for r in directory.regencies(typed)] == ["36.04"]
    assert directory.resolve(typed).code == "36.04"


def test_kota_and_bare_name_are_told_apart(directory):
    assert [r.code for r in directory.regencies("Kota Serang")] == ["36.73"]
    assert directory.resolve("Serang").code is None  # a kabupaten and a kota
    assert directory.resolve("Serang").ambiguous == "kabupaten"
    assert directory.resolve("Serang", "Cikande").code == "36.04.15"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Kec. Bekasi Selatan", "bekasiselatan"),
        ("Kecamatan BEKASI  selatan", "bekasiselatan"),
        ("Pekayon Jaya", "pekayonjaya"),
        ("Désa Krangkéng", "krangkeng"),
        ("Bu Nuapu’u", "bunuapuu"),
    ],
)
def test_area_keys_ignore_case_diacritics_spacing_and_kind_words(typed, key):
    level = "kecamatan" if "ecamatan" in typed or "Kec." in typed else "kelurahan"
    assert names.area_key(level, typed) == key


@pytest.mark.parametrize(
    ("kabupaten", "kecamatan", "kelurahan", "code"),
    [
        ("Kab. Serang", "Cikande", "Cikande", "36.04.15.2001"),
        ("Kota Bekasi", "Bekasi Selatan", "Pekayon Jaya", "32.75.04.1001"),
        ("Kab. Indramayu", "Krangkeng", "Krangkeng", "32.12.09.2010"),
        ("Kota Jakarta Barat", "Tambora", "Kalianyar", "31.73.04.1002"),
        ("Kota Adm. Jakarta Pusat", "Menteng", "Menteng", "31.71.06.1001"),
        ("Jakarta Pusat", "Kec. Menteng", "Kel. Menteng", "31.71.06.1001"),
        ("Kota Bekasi", "", "Pekayonjaya", "32.75.04.1001"),  # no kecamatan typed
        ("Kota Bekasi", "Bekasi Selatan", "Nowhere", "32.75.04"),  # kelurahan unknown
        ("Kota Atlantis", "Menteng", "Menteng", None),  # the kabupaten matches nothing
    ],
)
def test_triple_resolves_to_the_deepest_unambiguous_code(
    directory, kabupaten, kecamatan, kelurahan, code
):
    assert directory.resolve(kabupaten, kecamatan, kelurahan).code == code


def test_place_carries_its_ancestors(directory):
    place = directory.place("32.75.04.1001")
    assert [r.name for r in (place.province, place.regency, place.district, place.village)] == [
        "Jawa Barat",
        "Kota Bekasi",
        "Bekasi Selatan",
        "Pekayonjaya",
    ]
    assert place.village.kind == "kelurahan"
    assert directory.get("32.12.09.2010").kind == "desa"
    assert directory.place("99.99") is None


def test_small_directory_resolves_by_its_own_rows():
    directory = RegionDirectory(
        [
            Region("32", "Jawa Barat"),
            Region("32.75", "Kota Bekasi"),
            Region("32.75.04", "Bekasi Selatan"),
            Region("32.75.04.1001", "Pekayonjaya"),
            Region("32.75.04.1002", "Pekayon Jaya"),  # two villages sharing a key
        ]
    )
    found = directory.resolve("kota bekasi", "bekasi selatan", "pekayon jaya")
    assert (found.code, found.ambiguous) == ("32.75.04", "kelurahan")
    assert [r.code for r in directory.children("32.75")] == ["32.75.04"]


@pytest.mark.parametrize(
    ("text", "ok"), [("32", True), ("32.75.04.1001", True), ("32.7", False), ("kab-serang", False)]
)
def test_region_codes_are_recognised_by_shape(text, ok):
    assert is_region_code(text) is ok


def test_compact_codes_get_their_dots_back():
    assert dotted_code("3275041001") == "32.75.04.1001"
    assert dotted_code("327") is None
