"""The Idempotency-Key store on its own, against the intake's real PostgreSQL database.

(It lived in Redis until issue 22; the keys are now kept with the write.)"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask, jsonify
from sqlalchemy import insert, select, update

from intake_service.tables import idempotency_keys, metadata
from shared.db import make_engine
from shared.idempotency import (
    IdempotencyStore,
    StoredResponse,
    idempotent,
)
from shared.web import install_json_errors

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(make_settings):
    engine = make_engine(make_settings("intake").database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine):
    return IdempotencyStore(engine, idempotency_keys)


def _age(engine, scope: str, key: str, age: timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(created_at=datetime.now(UTC) - age)
        )


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(idempotency_keys).order_by(idempotency_keys.c.key)).all()


def test_the_migration_makes_the_table_tables_py_defines(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "idempotency_keys" in repr(d)] == []


def test_an_answer_stored_in_the_claiming_transaction_is_found_with_its_fingerprint(store):
    with store.engine.begin() as conn:
        assert store.claim(conn, "budi", "k", "hash-a")
        assert store.lookup("budi", "k") is None  # not committed yet: nobody else sees it
        store.complete(conn, "budi", "k", StoredResponse(201, {"id": "1"}, "hash-a"))
    assert store.lookup("budi", "k") == StoredResponse(201, {"id": "1"}, "hash-a")
    assert store.lookup("rina", "k") is None  # keys are per caller


def test_a_claim_rolled_back_leaves_the_key_free(store):
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        assert store.claim(conn, "budi", "k2", "hash-a")
        raise RuntimeError("the handler failed")
    assert store.lookup("budi", "k2") is None
    with store.engine.begin() as conn:
        assert store.claim(conn, "budi", "k2", "hash-b")


def test_a_second_claim_waits_for_the_first_and_finds_the_key_taken_once_it_commits(store):
    claimed, results = threading.Event(), []

    def first():
        with store.engine.begin() as conn:
            store.claim(conn, "budi", "k3", "hash-a")
            claimed.set()
            time.sleep(0.5)
            store.complete(conn, "budi", "k3", StoredResponse(201, {"n": 1}, "hash-a"))

    thread = threading.Thread(target=first)
    thread.start()
    claimed.wait(5)
    started = time.monotonic()
    with store.engine.begin() as conn:
        results.append(store.claim(conn, "budi", "k3", "hash-a"))
    waited = time.monotonic() - started
    thread.join()
    assert results == [False] and waited > 0.3
    assert store.lookup("budi", "k3").body == {"n": 1}


def test_a_row_older_than_the_ttl_is_forgotten_taken_over_and_pruned(store, engine):
    for key in ("old", "fresh"):
        store.record("budi", key, StoredResponse(201, {"key": key}, "hash-a"))
    _age(engine, "budi", "old", timedelta(hours=24, minutes=1))
    assert store.lookup("budi", "old") is None and store.lookup("budi", "fresh") is not None
    assert not store.record("budi", "fresh", StoredResponse(200, {}, "hash-b"))  # live: kept
    assert store.prune() == 1
    assert [row.key for row in _rows(engine)] == ["fresh"]
    store.record("budi", "again", StoredResponse(201, {}, "hash-a"))
    _age(engine, "budi", "again", timedelta(days=2))
    with engine.begin() as conn:
        assert store.claim(conn, "budi", "again", "hash-b")  # an expired key is free again


def test_pruning_runs_at_most_every_interval_per_process(engine):
    store = IdempotencyStore(engine, idempotency_keys, prune_every=timedelta(hours=1))
    with engine.begin() as conn:
        conn.execute(
            insert(idempotency_keys),
            [
                {
                    "scope": "s",
                    "key": f"k{n}",
                    "fingerprint": "f",
                    "status": 201,
                    "body": {},
                    "created_at": datetime.now(UTC) - timedelta(days=3),
                }
                for n in range(3)
            ],
        )
    store.prune_now_and_then()  # the first write of a process prunes
    assert _rows(engine) == []
    store.record("s", "late", StoredResponse(201, {}, "f"))
    _age(engine, "s", "late", timedelta(days=3))
    store.prune_now_and_then()  # within the hour: not again
    assert len(_rows(engine)) == 1


def test_store_refuses_a_memory_shorter_than_a_day(engine):
    with pytest.raises(ValueError):
        IdempotencyStore(engine, idempotency_keys, ttl=timedelta(hours=1))


def test_an_answer_not_kept_in_a_handlers_transaction_is_recorded_after_the_fact(store):
    """The fallback: a view whose write does not go through shared.idempotency.transaction."""
    app, calls = Flask(__name__), []
    install_json_errors(app)

    @app.post("/plain")
    @idempotent(lambda: store, lambda: "tester")
    def plain():
        calls.append(1)
        if len(calls) == 1:
            return jsonify({"error": "try again"}), 503  # failed: not remembered
        return jsonify({"call": len(calls)}), 201

    client, key = app.test_client(), {"Idempotency-Key": "fallback-1"}
    assert client.post("/plain", json={"a": 1}, headers=key).status_code == 503
    first = client.post("/plain", json={"a": 1}, headers=key)
    again = client.post("/plain", json={"a": 1}, headers=key)
    assert (first.status_code, first.json) == (201, {"call": 2})
    assert (again.status_code, again.json) == (201, {"call": 2}) and len(calls) == 2
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.post("/plain", json={"a": 2}, headers=key).status_code == 409
