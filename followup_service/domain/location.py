"""Where a case is in the official hierarchy, and the names routing fills templates with.

A Location is what the region directory (shared.regions, reached through an adapter)
says about a case's area: Kemendagri codes and official names, from the province down
to as deep as the area was recognised. Police units follow the regions but with their
own names (Polda Metro Jaya, Polrestabes Surabaya, Polsek Metro Menteng): PoliceUnits
names them from templates plus the irregular names of deploy/routing/police.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    province_code: str  # dotted Kemendagri codes: "32", "32.75", "32.75.04", "32.75.04.1001"
    province: str
    regency_code: str | None = None
    regency: str | None = None  # official: "Kota Bekasi", "Kota Administrasi Jakarta Pusat"
    regency_bare: str | None = None  # without its kind words: "Bekasi", "Jakarta Pusat"
    regency_is_city: bool = False
    regency_name_shared: bool = False  # a kabupaten and a kota of the province share the name
    district_code: str | None = None
    district: str | None = None
    village_code: str | None = None
    village: str | None = None
    village_is_desa: bool = False

    @property
    def code(self) -> str:
        return self.village_code or self.district_code or self.regency_code or self.province_code


@dataclass(frozen=True)
class PoliceUnits:
    """Irregular police unit names by region code (the rest follow the templates)."""

    polda: Mapping[str, str] = field(default_factory=dict)  # province or regency code -> name
    polres: Mapping[str, str] = field(default_factory=dict)  # regency code -> name
    polsek: Mapping[str, str] = field(default_factory=dict)  # district code -> name

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]] | None) -> PoliceUnits:
        data = data or {}
        return cls(
            **{
                level: {
                    str(code): str(name) if name else ""
                    for code, name in (data.get(level) or {}).items()
                }
                for level in ("polda", "polres", "polsek")
            }
        )

    def polda_of(self, location: Location) -> str | None:
        if location.regency_code in self.polda:
            return self.polda[location.regency_code]
        return self.polda.get(location.province_code)

    def polres_of(self, location: Location) -> str | None:
        if location.regency_code is None or location.regency_bare is None:
            return None
        if location.regency_code in self.polres:
            return self.polres[location.regency_code]
        if location.regency_is_city and location.regency_name_shared:
            return f"Polres {location.regency_bare} Kota"
        return f"Polres {location.regency_bare}"

    def polsek_of(self, location: Location) -> str | None:
        if location.district_code is None:
            return None
        if location.district_code in self.polsek:  # "": no Polsek, the Polres covers it
            return self.polsek[location.district_code] or None
        return f"Polsek {location.district}"


def template_fields(location: Location, police: PoliceUnits) -> dict[str, str]:
    """The values agency templates may use; a field is absent when the area does not reach
    that level (a rung needing it is then left out of the ladder)."""
    values = {
        "provinsi": location.province,
        "provinsi_code": _compact(location.province_code),
        "kabkota": location.regency,
        "kabkota_code": _compact(location.regency_code),
        "kecamatan": location.district,
        "kecamatan_code": _compact(location.district_code),
        "kelurahan": location.village,
        "kelurahan_code": _compact(location.village_code),
        "desa_kelurahan": (
            f"{'Desa' if location.village_is_desa else 'Kelurahan'} {location.village}"
            if location.village
            else None
        ),
        "polda": police.polda_of(location),
        "polres": police.polres_of(location),
        "polsek": police.polsek_of(location),
    }
    return {key: value for key, value in values.items() if value}


def _compact(code: str | None) -> str | None:
    return code.replace(".", "") if code else None
