"""Cross-unit work under need to know (issue 27): a tawuran at the Banjir Kanal Barat
border of three Polsek (seed 003). Polsek Tambora logs it and splits it; one sub-case goes
to Polsek Pal Merah, one to Polsek Metro Tanah Abang. Each Polsek sees and works its own
sub-case only; Tambora, which recorded it, keeps all of them."""

import pytest

from tests.integration.followup.conftest import aspiration_recorded

pytestmark = pytest.mark.integration

TAMBORA = {"kabupaten": "Jakarta Barat", "kecamatan": "Tambora", "kelurahan": "Duri Utara"}


def test_a_sub_case_assigned_to_another_polsek_is_in_that_polseks_scope(followup):
    event = aspiration_recorded("tawuran", confidential=True, **TAMBORA)
    event.payload["unit"] = "Polsek Tambora"  # the old id: read as polsek-317304
    case_id = followup.record(event)
    tambora = followup.officer("polsek-tambora")
    split = followup.client.post(
        f"/api/v1/cases/{case_id}/split",
        json={
            "sub_cases": [
                {"category": "tawuran", "public_summary": f"Sisi {side}"}
                for side in ("Tambora", "Pal Merah", "Tanah Abang")
            ]
        },
        headers=tambora,
    )
    assert split.status_code == 201, split.json
    own, palmerah_sub, tanah_abang_sub = (s["id"] for s in split.json["sub_cases"])
    for sub, agency in ((palmerah_sub, "polsek-317307"), (tanah_abang_sub, "polsek-317107")):
        moved = followup.post(sub, "assign", tambora, agency_id=agency, reason="Wilayahnya")
        assert moved.status_code == 200, moved.json

    palmerah = followup.officer("polsek-317307")
    tanah_abang_supervisor = followup.auth("supervisor", unit="Polsek Metro Tanah Abang")
    jakarta_pusat = followup.auth("supervisor", area="31.71")  # Polres Metro Jakarta Pusat

    def status(case, headers):
        return followup.client.get(f"/api/v1/cases/{case}", headers=headers).status_code

    def listed(headers):
        items = followup.client.get("/api/v1/cases", headers=headers).json["items"]
        return {i["id"] for i in items}

    assert [status(c, palmerah) for c in (palmerah_sub, tanah_abang_sub, own, case_id)] == [
        200,
        404,
        404,
        404,
    ]
    assert listed(palmerah) == {palmerah_sub}
    noted = followup.post(palmerah_sub, "progress", palmerah, text="Patroli stasioner")
    assert noted.status_code == 200, noted.json
    assert followup.post(tanah_abang_sub, "progress", palmerah, text="x").status_code == 403

    assert listed(tanah_abang_supervisor) == {tanah_abang_sub}
    assert listed(jakarta_pusat) == {tanah_abang_sub}  # held by a Polsek of its area
    assert listed(tambora) == {case_id, own, palmerah_sub, tanah_abang_sub}
