"""What an Open311 request becomes: the rules that turn GeoReport v2 fields into an
aspiration (plain Python; intake_service/open311.py is the HTTP adapter).

- Where: we route by kelurahan, kecamatan and kabupaten/kota, so a request must name its
  kelurahan: in the extension fields `kelurahan`, `kecamatan`, `kabupaten`, or as parts of
  `address_string` marked the way Indonesian addresses mark them ("Jl. Raya Cikande 12,
  Kel. Cikande, Kec. Cikande, Kab. Serang"). `lat`/`long` are kept with the place.
- What: the description is the aspiration; its first line (at most 300 characters, cut
  at a word) is the summary and, as GeoReport v2 publishes a request's description, also
  the public summary the tracking view shows (set explicitly: follow-up never derives
  public text from the internal summary).
- Who: `first_name`, `last_name`, `phone`, `email` are the reporter's identity: private,
  never published, the same rules as a reporter an officer names.
- Resending: with an Idempotency-Key the aspiration id is derived from the app's key id
  and that key, so a resent request finds what the first one stored.
"""

from __future__ import annotations

import re
import uuid

from intake_service.domain.commands import Reporter

SUMMARY_MAX = 300
_OPEN311_NAMESPACE = uuid.UUID("6f1d3a52-3c1e-4b0e-9a57-0b8f2f1f0311")
# address parts: the marker a part starts with -> the place field it fills
_MARKERS = (
    ("kelurahan", r"kelurahan|kel\.?|desa|ds\.?"),
    ("kecamatan", r"kecamatan|kec\.?|distrik"),
    ("kabupaten", r"kabupaten|kab\.?|kota\s+administrasi|kota\s+adm\.?|kota"),
)
_PART = [
    (field, re.compile(rf"^(?:{marker})\s+(?P<name>\S.*)$", re.I)) for field, marker in _MARKERS
]
_KEEPS_MARKER = "kabupaten"  # "Kota Bekasi" and "Kab. Serang" are names with their marker


class LocationMissing(ValueError):
    """The request does not say which kelurahan it is about."""


def place_of(
    *,
    address_string: str | None,
    kelurahan: str | None = None,
    kecamatan: str | None = None,
    kabupaten: str | None = None,
    lat: float | None = None,
    long: float | None = None,
) -> dict:
    """The aspiration's place: explicit fields win over what the address names."""
    named = parse_address(address_string or "")
    place = {
        "kelurahan": kelurahan or named.get("kelurahan"),
        "kecamatan": kecamatan or named.get("kecamatan"),
        "kabupaten": kabupaten or named.get("kabupaten"),
        "address": address_string or None,
        "lat": lat,
        "lon": long,
    }
    if not place["kelurahan"]:
        raise LocationMissing(
            "Name the kelurahan/desa: in the kelurahan field, or in address_string as "
            '"Kel. <name>" (e.g. "Jl. Raya Cikande, Kel. Cikande, Kec. Cikande, Kab. Serang").'
        )
    return {key: value for key, value in place.items() if value is not None}


def parse_address(address: str) -> dict[str, str]:
    """The kelurahan, kecamatan and kabupaten/kota an address names, by their markers."""
    found: dict[str, str] = {}
    for part in (p.strip() for p in address.split(",")):
        for field, pattern in _PART:
            match = pattern.match(part)
            if match and field not in found:
                found[field] = part if field == _KEEPS_MARKER else match["name"].strip()
                break
    return found


def summary_of(description: str) -> str:
    """The first line of the description, cut at a word to fit a summary."""
    first = description.strip().splitlines()[0].strip()
    if len(first) <= SUMMARY_MAX:
        return first
    cut = first[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


def reporter_of(
    first_name: str | None, last_name: str | None, phone: str | None, email: str | None
) -> Reporter | None:
    """The requester as a private reporter, or None when no contact field was given."""
    name = " ".join(part for part in (first_name, last_name) if part)
    contact = "; ".join(part for part in (phone, email) if part)
    if not name and not contact:
        return None
    return Reporter(name=name or "(tanpa nama)", kind="person", contact=contact or None)


def aspiration_id_for(key_id: str, idempotency_key: str | None) -> str:
    """A new id, or (with an Idempotency-Key) the same id for the same app and key."""
    if not idempotency_key:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_OPEN311_NAMESPACE, f"{key_id}\n{idempotency_key}"))
