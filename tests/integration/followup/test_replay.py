"""Read models rebuilt from the event store equal the ones kept live, byte for byte."""

import io
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from followup_service.accounts.service import ACCOUNT_READ_MODELS, CREDENTIALS
from followup_service.cli import main as cli_main
from followup_service.projections import READ_MODELS
from followup_service.tables import case_photos, metadata
from followup_service.worker import sweep
from shared.photos.store import LocalPhotoStore
from tests.integration.followup.conftest import aspiration_recorded, intake_event
from tests.photo_fixtures import small_png

pytestmark = pytest.mark.integration
EVENT_STORE_TABLES = {
    "events",
    "outbox",
    "consumer_offsets",
    "processed_events",
    "dead_letter_replays",
}


def _cell(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _dump(engine) -> dict[str, list[str]]:
    """Every column of every row of every read model, serialized in primary-key order."""
    dump = {}
    with engine.connect() as conn:
        for table in READ_MODELS:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            dump[table.name] = [
                json.dumps({k: _cell(v) for k, v in row.items()}, sort_keys=True, default=str)
                for row in rows
            ]
    return dump


def test_read_models_cover_every_table_when_event_store_tables_are_left_out():
    rebuilt = {t.name for t in (*READ_MODELS, *ACCOUNT_READ_MODELS)}
    reference = {"regions"}  # the region directory: loaded at migrate time, not from events
    audit = {"admin_case_views"}  # an append-only record of reads, not of events
    derived = {"report_cards"}  # recomputed from report_case_facts (a read model)
    # sign-outs and operator-token revocations: the durable record the Redis credential
    # cache is rebuilt from (shared.auth.RevocationList), not events; kept by backups
    security = {"revoked_credentials"}
    # residents' contacts and what is sent to them: a private store, never in an event
    # (followup_service/notifications), erased after the retention
    private = {"notify_subscriptions", "notify_confirmations", "notification_outbox"}
    # removed photos' blobs the store has still to delete: work outside the database
    queue = {"photo_blob_deletions"}
    others = EVENT_STORE_TABLES | reference | audit | derived | security | private | queue
    assert rebuilt | {CREDENTIALS.name} == set(metadata.tables) - others


def test_rebuilt_read_models_are_byte_identical_when_replayed_from_the_event_store(
    followup, monkeypatch, tmp_path
):
    lighting = followup.open("street_lighting", backing_count=12)
    followup.open("tawuran")
    politics = followup.open("money_politics")
    road = followup.open("road_damage")
    liaison = followup.liaison("dishub-3604")
    followup.post(lighting["id"], "acknowledge", liaison)
    followup.post(lighting["id"], "progress", liaison, text="internal", public=False)
    followup.post(politics["id"], "decline", followup.liaison("panwascam-360415"), reason="Bukan")
    split = followup.client.post(
        f"/api/v1/cases/{road['id']}/split",
        json={
            "sub_cases": [
                {"category": "road_damage", "public_summary": "Jalan berlubang"},
                {"category": "street_lighting", "public_summary": "PJU di ruas yang sama"},
            ]
        },
        headers=followup.supervisor,
    )
    assert split.status_code == 201, split.json
    followup.record(
        intake_event(
            "AspirationBacked",
            1,
            lighting["aspiration_id"],
            {
                "aspiration_id": lighting["aspiration_id"],
                "meeting_id": None,
                "backing_id": str(uuid.uuid4()),
                "count": 4,
                "total_count": 16,
            },
        )
    )
    unverified = followup.open("public_order", kecamatan="Berantah", kelurahan="Entah")
    assert (unverified["location_verified"], unverified["region"]) == (False, "36.04")
    located = {"kabupaten": "Kab. Serang", "kecamatan": "Cikande", "kelurahan": "Koper"}
    followup.record(  # an amendment written before codes: upcast by its names on receipt
        intake_event(
            "AspirationAmended",
            1,
            unverified["aspiration_id"],
            {
                "aspiration_id": unverified["aspiration_id"],
                "meeting_id": None,
                "changes": {"location": located},
                "previous": {"location": {"kabupaten": "Kab. Serang", "kelurahan": "Entah"}},
                "reason": "lokasi dicek",
                "amended_by": "supervisor:sri",
            },
        )
    )
    relocated = followup.client.get(
        f"/api/v1/cases/{unverified['id']}", headers=followup.supervisor
    ).json
    assert (relocated["region"], relocated["location_verified"]) == ("36.04.15.2005", True)
    assert relocated["agency"]["id"] == "satpolpp-3604"
    # photos (issue 25): the aspiration's, a liaison's proof, one removed on an erasure request
    followup.app.extensions["photo_store"] = LocalPhotoStore(tmp_path / "photos")
    shown, kept, erased = (str(uuid.uuid4()) for _ in range(3))
    pictured = aspiration_recorded("street_lighting", kelurahan="Cikande")
    pictured.payload["photos"] = [
        {"id": shown, "sha256": "a" * 64, "public": True},
        {"id": kept, "sha256": "b" * 64, "public": False},
        {"id": erased, "sha256": "c" * 64, "public": True},
    ]
    pictured_case = followup.record(pictured)
    agency = followup.client.get(
        f"/api/v1/cases/{pictured_case}", headers=followup.supervisor
    ).json["agency"]["id"]
    proof = followup.client.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(small_png()), "bukti.png"), "case_id": pictured_case},
        headers=followup.liaison(agency),
        content_type="multipart/form-data",
    )
    assert proof.status_code == 201, proof.json
    removed = followup.client.delete(
        f"/api/v1/cases/{pictured_case}/photos/{erased}",
        json={"reason": "permintaan penghapusan"},
        headers=followup.officer(),
    )
    assert removed.status_code == 200, removed.json
    followup.clock.advance(days=9)
    sweep(followup.fu)
    live = _dump(followup.fu.engine)
    assert len(live["cases"]) == 8 and len(live["case_timeline"]) > 15
    photos = "".join(live["case_photos"])
    assert len(live["case_photos"]) == 3 and erased not in photos
    assert all(i in photos for i in (shown, kept, proof.json["id"])) and agency in photos
    assert '"backing_count": 16' in "".join(live["cases"])

    with followup.fu.engine.begin() as conn:  # the rows come back from the events alone
        conn.execute(case_photos.delete())
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", followup.settings.database_url)
    cli_main(["rebuild-projections"])

    rebuilt = _dump(followup.fu.engine)
    for table in live:
        assert rebuilt[table] == live[table], table


def test_photos_kept_before_the_case_events_named_them_survive_migrate_and_a_rebuild(
    followup, monkeypatch
):
    """An upgraded database holds case_photos rows written by the old consumer, with no
    PhotoAttached behind them: `migrate` records one for each, once; a rebuild keeps them."""
    case = followup.open("street_lighting")
    legacy = str(uuid.uuid4())
    with followup.fu.engine.begin() as conn:
        conn.execute(
            case_photos.insert().values(
                photo_id=legacy,
                case_id=case["id"],
                sha256="d" * 64,
                public=True,
                kind="before",
                added_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
            )
        )
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", followup.settings.database_url)
    cli_main(["migrate"])
    cli_main(["migrate"])  # again: nothing more
    with followup.fu.engine.connect() as conn:
        attached = [
            e.payload
            for e in followup.fu.store.read_stream(conn, case["id"])
            if e.event_type == "PhotoAttached"
        ]
    assert [(p["photo_id"], p["sha256"], p["public"]) for p in attached] == [
        (legacy, "d" * 64, True)
    ]
    cli_main(["rebuild-projections"])
    with followup.fu.engine.connect() as conn:
        rows = conn.execute(select(case_photos).where(case_photos.c.case_id == case["id"])).all()
    assert [(r.photo_id, r.public, r.kind) for r in rows] == [(legacy, True, "before")]
