"""A rebuild fills fresh tables and swaps them in: readers are never blocked by the replay,
writers wait and land in the new tables, a failure changes nothing (shared/table_swap.py)."""

import threading
import time

import pytest
from sqlalchemy import text

from followup_service import projections
from followup_service.projections import READ_MODELS, rebuild
from shared import table_swap
from shared.events import REGISTRY
from tests.integration.followup.test_replay import _dump

pytestmark = pytest.mark.integration


def _schema(engine) -> dict:
    """Index definitions and constraint names of the read models, and any leftover table."""
    with engine.connect() as conn:
        indexes = conn.execute(
            text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('cases', 'case_timeline') ORDER BY indexname"
            )
        ).all()
        constraints = conn.execute(
            text(
                "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid IN ('cases'::regclass, "
                "'case_timeline'::regclass) ORDER BY conname"
            )
        ).all()
        columns = conn.execute(
            text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_name IN ('cases', 'case_timeline') "
                "ORDER BY table_name, ordinal_position"
            )
        ).all()
        fresh = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_\\_fresh'")
        ).all()
    return {
        "indexes": [tuple(r) for r in indexes],
        "constraints": [tuple(r) for r in constraints],
        "columns": [tuple(r) for r in columns],
        "fresh": [tuple(r) for r in fresh],
    }


def _rebuild_calling(followup, monkeypatch, during) -> None:
    """Rebuild and commit, calling during() once the replay has filled the fresh tables
    and before they are swapped in (what a reader or writer meets for most of a rebuild)."""
    replay = projections._replay

    def replay_then_call(*args, **kwargs):
        count = replay(*args, **kwargs)
        during()
        return count

    monkeypatch.setattr(projections, "_replay", replay_then_call)
    with followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)


def test_the_swapped_in_tables_have_the_live_columns_indexes_and_constraint_names(followup):
    followup.open("street_lighting")
    followup.open("road_damage")
    before = _schema(followup.fu.engine)
    assert len(before["indexes"]) >= 3 and before["fresh"] == []
    assert any(c[2] == "p" for c in before["constraints"])
    live = _dump(followup.fu.engine)

    with followup.fu.engine.begin() as conn:
        assert rebuild(conn, followup.fu.store, followup.fu.rules) > 0

    assert _schema(followup.fu.engine) == before
    assert _dump(followup.fu.engine) == live


def test_readers_see_the_old_rows_while_a_rebuild_runs_and_the_new_ones_after_it(
    followup, monkeypatch
):
    case = followup.open("street_lighting")
    with followup.fu.engine.begin() as conn:  # a read model drifted from the log
        conn.execute(
            text("UPDATE cases SET public_summary = 'usang' WHERE case_id = :id"),
            {"id": case["id"]},
        )

    seen = {}

    def read():
        with followup.fu.engine.connect() as reader:
            reader.execute(text("SET lock_timeout = '2s'"))  # a blocked read fails the test
            seen["summary"] = reader.execute(
                text("SELECT public_summary FROM cases WHERE case_id = :id"), {"id": case["id"]}
            ).scalar_one()
            seen["timeline"] = reader.execute(text("SELECT count(*) FROM case_timeline")).scalar()

    _rebuild_calling(followup, monkeypatch, read)
    assert seen["summary"] == "usang" and seen["timeline"] > 0

    with followup.fu.engine.connect() as reader:
        after = reader.execute(
            text("SELECT public_summary FROM cases WHERE case_id = :id"), {"id": case["id"]}
        ).scalar_one()
    assert after == case["public_summary"] != "usang"


def test_a_writer_that_waited_for_the_rebuild_lands_in_the_new_tables(followup, monkeypatch):
    case = followup.open("street_lighting")
    liaison = followup.liaison("dishub-3604")
    for n in range(6):  # past psycopg's prepare threshold: prepared statements re-plan too
        note = followup.post(case["id"], "progress", liaison, text=f"catatan {n}", public=True)
        assert note.status_code == 200, note.json

    answers = []
    writer = threading.Thread(
        target=lambda: answers.append(followup.post(case["id"], "acknowledge", liaison))
    )

    def write():
        writer.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(followup.fu.engine):  # the writer reached the read models
            assert writer.is_alive() and time.monotonic() < deadline, answers
            time.sleep(0.05)

    _rebuild_calling(followup, monkeypatch, write)
    writer.join(30)

    assert answers and answers[0].status_code == 200, answers and answers[0].json
    view = followup.client.get(f"/api/v1/cases/{case['id']}", headers=followup.supervisor).json
    assert view["status"] == "acknowledged"
    with followup.fu.engine.connect() as reader:
        kinds = reader.execute(
            text("SELECT event_type FROM case_timeline WHERE case_id = :id ORDER BY seq"),
            {"id": case["id"]},
        ).scalars()
        assert list(kinds)[-1] == "CaseAcknowledged"
    live = _dump(followup.fu.engine)
    monkeypatch.undo()
    with followup.fu.engine.begin() as again:
        rebuild(again, followup.fu.store, followup.fu.rules)
    assert _dump(followup.fu.engine) == live  # nothing fell between the replay and the swap


def _waiting_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def test_a_failed_rebuild_leaves_the_live_tables_as_they_were_and_no_fresh_table(
    followup, monkeypatch
):
    followup.open("street_lighting")
    followup.open("tawuran")
    before, live = _schema(followup.fu.engine), _dump(followup.fu.engine)

    def broken(*args, **kwargs):
        raise RuntimeError("crash in the middle of the replay")

    monkeypatch.setattr(projections, "case_row", broken)
    with pytest.raises(RuntimeError), followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)

    assert _schema(followup.fu.engine) == before
    assert _dump(followup.fu.engine) == live
    assert {t.name for t in READ_MODELS} == {
        "cases",
        "case_timeline",
        "report_case_facts",
        "case_photos",
    }


def test_events_stored_at_an_older_version_are_rebuilt_in_their_upcast_form(followup, monkeypatch):
    """Rows of latest-version events are copied by the server; older ones go through the
    upcaster, so the rebuilt timeline and case rows hold what a newer build reads."""
    older = followup.open("street_lighting")
    newer_version = REGISTRY.latest_version("CaseOpened") + 1
    for name in ("_schemas", "_upcasters", "_latest"):
        monkeypatch.setattr(REGISTRY, name, dict(getattr(REGISTRY, name)))
    REGISTRY.event("CaseOpened", version=newer_version)(
        type(REGISTRY.schema("CaseOpened", newer_version - 1))
    )

    @REGISTRY.upcaster("CaseOpened", from_version=newer_version - 1)
    def _summary_in_capitals(payload: dict) -> dict:
        return {**payload, "public_summary": payload["public_summary"].upper()}

    newer = followup.open("road_damage")  # appended at the newer version: no upcast

    with followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)

    with followup.fu.engine.connect() as conn:
        opened = dict(
            conn.execute(
                text("SELECT case_id, payload FROM case_timeline WHERE event_type = 'CaseOpened'")
            ).all()
        )
        summaries = dict(conn.execute(text("SELECT case_id, public_summary FROM cases")).all())
        counts = conn.execute(
            text("SELECT (SELECT count(*) FROM case_timeline), (SELECT count(*) FROM events)")
        ).one()
    assert opened[older["id"]]["public_summary"] == older["public_summary"].upper()
    assert summaries[older["id"]] == older["public_summary"].upper()
    assert opened[newer["id"]]["public_summary"] == newer["public_summary"]  # as stored
    assert counts[0] == counts[1]  # every case event once, whichever way it was written


def test_a_table_with_a_serial_column_is_refused_before_anything_is_created(followup):
    """Its sequence belongs to the live table: dropping that table would take it along."""
    events = followup.fu.store.events
    with (
        pytest.raises(ValueError, match="serial"),
        followup.fu.engine.begin() as conn,
        table_swap.replacing(conn, [events]),
    ):
        pytest.fail("the swap must refuse before handing out a fresh table")
    assert _schema(followup.fu.engine)["fresh"] == []
