"""Confidential stays confidential (issue 23): the tawuran tip of the issue, recorded
without a public summary, shows no word of its internal summary, no place and no unit on
any public surface, whether recorded before or after the change (the old consumer copied
the internal summary in: an upcaster clears it on replay); the SQL listing rule agrees
with the domain's."""

from __future__ import annotations

import json
import re
import uuid
import zlib

import pytest
from sqlalchemy import select, update

from followup_service import handlers
from followup_service.consumers import open_case_command
from followup_service.domain.case import Case
from followup_service.domain.visibility import is_publicly_listed
from followup_service.listing import publicly_listed
from followup_service.projections import rebuild
from followup_service.tables import cases, metadata
from shared.pages.session import COOKIE as SESSION_COOKIE
from shared.tracking_code import new_tracking_code
from tests.integration.followup.conftest import intake_event

pytestmark = pytest.mark.integration

TIP = "Rencana tawuran kelompok Gang Kenari Sabtu malam di jembatan"
# Words of the internal summary, the place and the unit that must not reach the public.
LEAKS = ("Kenari", "jembatan", "Rencana tawuran", "Pekayon", "Bekasi", "Polsek", "Polres")


def _tip(confidential: bool = True, category: str = "tawuran"):
    aspiration_id = str(uuid.uuid4())
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": str(uuid.uuid4()),
        "tracking_code": new_tracking_code(),
        "category": category,
        "summary": TIP,
        "public_summary": "",
        "description": "Disampaikan Pak Otong, ketua RT 03.",
        "kelurahan": "Pekayon Jaya",
        "location": {
            "kabupaten": "Kota Bekasi",
            "kecamatan": "Bekasi Selatan",
            "kelurahan": "Pekayon Jaya",
        },
        "urgency": "high",
        "confidential": confidential,
        "unit": "Polsek Bekasi Selatan",
        "backing_count": 0,
    }
    return intake_event("AspirationRecorded", 2, aspiration_id, payload)


def _record_as_before(followup, envelope) -> str:
    """Open the case as the consumer did before the change: the internal summary copied
    into the public one, stored as CaseOpened v1."""
    command = open_case_command(envelope.payload)
    command = type(command)(**{**command.__dict__, "public_summary": envelope.payload["summary"]})
    with followup.fu.engine.begin() as conn:
        work = handlers.Work(followup.fu, conn, {})
        handlers.open_case(work, command, envelope)
        work.flush()
        events = metadata.tables["events"]
        conn.execute(
            update(events)
            .where(events.c.stream_id == command_stream(envelope))
            .where(events.c.event_type == "CaseOpened")
            .values(schema_version=1)
        )
    return envelope.payload["tracking_code"]


def command_stream(envelope) -> str:
    return handlers.case_stream_id(str(envelope.payload["aspiration_id"]))


def _public_surfaces(followup, code: str, case_id: str) -> dict[str, str]:
    client = followup.client
    officer = followup.tokens.issue("bhabin", "officer", unit="polsek-bekasi-selatan")
    staff = followup.app.test_client()
    staff.set_cookie(SESSION_COOKIE, officer)
    surfaces = {
        "track api": client.get(f"/api/v1/track/{code}"),
        "track page": client.get(f"/lacak/{code}"),
        "track page en": client.get(f"/lacak/{code}?lang=en"),
        "print page": client.get(f"/lacak/{code}/cetak"),
        "anonymous case api": client.get(f"/api/v1/cases/{case_id}"),
        "public list": client.get("/api/v1/public/cases?per_page=100"),
        "open311 requests": client.get("/open311/v2/requests.json"),
        "open311 requests xml": client.get("/open311/v2/requests.xml"),
        "open311 one": client.get(f"/open311/v2/requests/{case_id}.json"),
        "open311 updates": client.get("/open311/v2/servicerequestupdates.json"),
        "report back": staff.get(f"/laporan?kode={code}"),
        "report back pdf": staff.get(f"/laporan.pdf?kode={code}"),
    }
    return surfaces


def pdf_text(pdf: bytes) -> str:
    """The PDF's bytes with its (deflated) content streams inflated."""
    parts = [pdf.decode("latin-1")]
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(parts)


def _assert_nothing_leaks(followup, code: str, case_id: str) -> None:
    surfaces = _public_surfaces(followup, code, case_id)
    for name, response in surfaces.items():
        if response.mimetype == "application/pdf":
            body = pdf_text(response.get_data())
        else:
            body = response.get_data(as_text=True)
        leaked = [word for word in LEAKS if word in body]
        assert not leaked, f"{name} shows {leaked}"
    track = surfaces["track api"]
    assert track.status_code == 200 and track.json["status"] == "routed"
    assert track.json["status_only"] is True and track.json["agency"] == "Kepolisian"
    assert track.json["kelurahan"] is None and track.json["kecamatan"] is None
    assert "Potensi tawuran" in track.json["public_summary"]
    assert [e["event"] for e in track.json["timeline"]] == ["CaseOpened", "CaseRouted"]
    assert "Diteruskan ke Kepolisian" in surfaces["track page"].get_data(as_text=True)
    assert "Forwarded to the police" in surfaces["track page en"].get_data(as_text=True)
    assert surfaces["print page"].status_code == 200
    assert surfaces["anonymous case api"].status_code == 404
    assert surfaces["open311 one"].status_code == 404
    assert code not in surfaces["public list"].get_data(as_text=True)
    assert "1" in surfaces["report back"].get_data(as_text=True)  # counted, never listed


def test_the_tawuran_tip_shows_no_summary_place_or_unit_on_any_public_surface(followup):
    tip = _tip()
    case_id = followup.record(tip)
    code = tip.payload["tracking_code"]

    _assert_nothing_leaks(followup, code, case_id)
    staff = followup.client.get(f"/api/v1/cases/{case_id}", headers=followup.supervisor).json
    assert staff["kelurahan"] == "Pekayon Jaya" and "Polsek" in staff["agency"]["name"]
    assert staff["public_summary"] != TIP


def test_a_tip_recorded_before_the_change_is_corrected_by_replay(followup):
    tip = _tip()
    code = _record_as_before(followup, tip)
    case_id = command_stream(tip)
    with followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)
    followup.fu.tracking.forget([code])

    _assert_nothing_leaks(followup, code, case_id)


def test_a_confidential_aspiration_of_a_public_category_is_status_only(followup):
    tip = _tip(confidential=True, category="street_lighting")
    case_id = followup.record(tip)
    view = followup.client.get(f"/api/v1/track/{tip.payload['tracking_code']}").json

    assert view["status_only"] and view["agency"] == "instansi terkait"
    assert not [word for word in LEAKS if word in json.dumps(view)]
    requests = followup.client.get("/open311/v2/requests.json").get_data(as_text=True)
    assert case_id not in requests


def test_the_sql_listing_rule_agrees_with_the_domain_rule(followup):
    opened = [
        followup.record(_tip(confidential=False, category="street_lighting")),
        followup.record(_tip(confidential=True, category="street_lighting")),
        followup.record(_tip(confidential=False, category="tawuran")),
    ]
    with followup.fu.engine.connect() as conn:
        listed = set(
            conn.execute(
                select(cases.c.case_id).where(publicly_listed(), cases.c.case_id.in_(opened))
            ).scalars()
        )
    by_domain = {case_id for case_id in opened if is_publicly_listed(_load(followup, case_id))}
    assert listed == by_domain == {opened[0]}


def _load(followup, case_id: str) -> Case:
    return handlers.load_case(followup.fu, case_id)
