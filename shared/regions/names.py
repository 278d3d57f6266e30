"""How typed place names are compared: one key per name, whatever the spelling.

Officers type on phones: "kab serang", "Kabupaten Serang", "KAB. SERANG" and the
official "Kabupaten Serang" must meet. A key drops case, diacritics, apostrophes,
punctuation and spaces ("Pekayon Jaya" and the official "Pekayonjaya" meet too), and
the words that only say what kind of area it is ("Kab.", "Kota Administrasi", "Kec.",
"Desa"), which are kept apart as the kind of a kabupaten/kota.
"""

from __future__ import annotations

import re
import unicodedata

REGENCY = "kabupaten"
CITY = "kota"

# Leading words that say a kabupaten/kota's kind, longest first (matched on normalised words).
_REGENCY_PREFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("kabupaten", "administrasi"), REGENCY),
    (("kab", "administrasi"), REGENCY),
    (("kab", "adm"), REGENCY),
    (("kota", "administrasi"), CITY),
    (("kota", "adm"), CITY),
    (("kabupaten",), REGENCY),
    (("kab",), REGENCY),
    (("kotamadya",), CITY),
    (("kodya",), CITY),
    (("kota",), CITY),
    (("kot",), CITY),
)
_AREA_WORDS = {
    "provinsi": (("provinsi",), ("prov",), ("propinsi",)),
    "kecamatan": (("kecamatan",), ("kec",)),
    "kelurahan": (("kelurahan",), ("kel",), ("desa",), ("ds",)),
}


def words(text: str | None) -> list[str]:
    """Lower-case words without diacritics or punctuation ("KAB. SERANG" -> [kab, serang])."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"['’`ʼ]", "", plain.lower())  # "Ma'u" is one word
    return re.findall(r"[a-z0-9]+", plain)


def key(text: str | None) -> str:
    """The comparison key of a name as written, kind words kept ("Kab. Serang" -> kabserang)."""
    return "".join(words(text))


def regency_key(text: str | None) -> tuple[str | None, str]:
    """(kind, key) of a kabupaten/kota as typed: "KAB. SERANG" -> ("kabupaten", "serang").

    The kind is None when the text does not say it ("Serang" may be either).
    """
    found = words(text)
    for prefix, kind in _REGENCY_PREFIXES:
        if tuple(found[: len(prefix)]) == prefix and len(found) > len(prefix):
            return kind, "".join(found[len(prefix) :])
    return None, "".join(found)


def area_key(level: str, text: str | None) -> str:
    """The key of a provinsi, kecamatan or kelurahan/desa name, its kind word dropped
    ("Kec. Bekasi Selatan" -> bekasiselatan, "Desa Krangkeng" -> krangkeng)."""
    found = words(text)
    for prefix in _AREA_WORDS.get(level, ()):
        if tuple(found[: len(prefix)]) == prefix and len(found) > len(prefix):
            found = found[len(prefix) :]
            break
    return "".join(found)


def bare_regency_name(name: str) -> str:
    """An official kabupaten/kota name without its kind words ("Kota Administrasi Jakarta
    Pusat" -> "Jakarta Pusat")."""
    for prefix in ("Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
