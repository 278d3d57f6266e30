"""The pure parts of shared.idempotency, and the order of its steps with a store kept in a
dict. The SQL itself is tested on PostgreSQL (tests/integration/intake/test_intake_idem*)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from shared import idempotency
from shared.idempotency import (
    IdempotencyConflictError,
    IdempotencyStore,
    StoredResponse,
    answer_from,
    checked_key,
    fingerprint,
    idempotent,
    replay_of,
)
from shared.web import ApiError, install_json_errors


def test_fingerprint_ignores_key_order_and_tells_paths_and_bodies_apart():
    assert fingerprint("POST", "/x", {"a": 1, "b": 2}) == fingerprint(
        "POST", "/x", {"b": 2, "a": 1}
    )
    assert fingerprint("POST", "/x", {"a": 1}) != fingerprint("POST", "/y", {"a": 1})
    assert fingerprint("POST", "/x", {"a": 1}) != fingerprint("POST", "/x", {"a": 2})
    assert len(fingerprint("POST", "/x", b"raw")) == 64


def test_a_key_is_trimmed_and_must_be_1_to_200_characters():
    assert checked_key(None) is None
    assert checked_key("  k-1 ") == "k-1"
    assert checked_key("k" * 200) == "k" * 200
    for bad in ("", "   ", "k" * 201):
        with pytest.raises(ApiError) as error:
            checked_key(bad)
        assert error.value.status == 400


def test_a_stored_answer_is_replayed_for_the_same_request_only():
    stored = StoredResponse(201, {"id": "1"}, "hash-a")
    assert replay_of(None, "hash-a") is None
    assert replay_of(stored, "hash-a") is stored
    with pytest.raises(IdempotencyConflictError, match="another request"):
        replay_of(stored, "hash-b")


def test_keys_are_kept_for_at_least_a_day():
    with pytest.raises(ValueError):
        IdempotencyStore(None, None, ttl=timedelta(hours=23))
    assert IdempotencyStore(None, None, ttl=timedelta(days=2)).ttl == timedelta(days=2)


class DictStore:
    """The store's interface over a dict, with every step logged; `taken_meanwhile`
    plays a concurrent request that commits while this one waits on the key."""

    def __init__(self, log):
        self.rows, self.log, self.taken_meanwhile = {}, log, None

    def lookup(self, scope, key, conn=None):
        self.log.append("lookup")
        return self.rows.get((scope, key))

    def claim(self, conn, scope, key, request_hash):
        self.log.append("claim")
        if self.taken_meanwhile is not None:
            self.rows[(scope, key)] = self.taken_meanwhile
            return False
        return (scope, key) not in self.rows

    def complete(self, conn, scope, key, answer):
        self.log.append("complete")
        conn.pending[(scope, key)] = answer

    def record(self, scope, key, answer):
        self.log.append("record")
        self.rows.setdefault((scope, key), answer)
        return True

    def prune_now_and_then(self):
        pass


class DictEngine:
    """engine.begin(): writes land in `store.rows` only when the block ends without error."""

    def __init__(self, store, log):
        self.store, self.log, self.pending = store, log, {}

    @contextmanager
    def begin(self):
        self.log.append("begin")
        self.pending = {}
        yield self
        self.store.rows.update(self.pending)
        self.log.append("commit")


@pytest.fixture
def app():
    log: list[str] = []
    store = DictStore(log)
    engine = DictEngine(store, log)
    app = Flask(__name__)
    install_json_errors(app)
    app.config.update(store=store, engine=engine, log=log, calls=[])

    @app.post("/write")
    @idempotent(lambda: store, lambda: "budi")
    def write():
        app.config["calls"].append(1)
        respond = answer_from(
            lambda result: ({"id": result, "at": datetime(2026, 1, 2, tzinfo=UTC)}, 201)
        )

        def work(conn):
            log.append("work")
            return str(uuid.uuid4())

        return respond(idempotency.transaction(engine, work))

    @app.post("/fails")
    @idempotent(lambda: store, lambda: "budi")
    def fails():
        answer_from(lambda result: ({}, 201))

        def work(conn):
            raise ApiError(422, "invalid")

        return idempotency.transaction(engine, work)

    return app


def _post(app, path="/write", body=None, key="k-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return app.test_client().post(path, json=body or {"a": 1}, headers=headers)


def test_the_answer_is_built_and_stored_inside_the_write_transaction(app):
    first = _post(app)
    log = app.config["log"]
    assert log == ["lookup", "begin", "claim", "work", "complete", "commit"]  # no "record"
    assert first.status_code == 201
    stored = app.config["store"].rows[("budi", "k-1")]
    assert stored.body == first.json and stored.status == 201
    assert stored.body["at"] == "Fri, 02 Jan 2026 00:00:00 GMT"  # as the response carries it


def test_a_resend_is_replayed_without_running_the_view(app):
    first = _post(app)
    again = _post(app)
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(app.config["calls"]) == 1
    assert _post(app, body={"a": 2}).status_code == 409


def test_a_request_that_finds_its_key_taken_meanwhile_replays_that_answer(app):
    store = app.config["store"]
    store.taken_meanwhile = StoredResponse(
        201, {"id": "the first"}, fingerprint("POST", "/write?", {"a": 1})
    )
    response = _post(app)
    assert (response.status_code, response.json) == (201, {"id": "the first"})
    assert response.headers["Idempotent-Replayed"] == "true"
    assert "work" not in app.config["log"]


def test_a_failed_write_leaves_no_answer_and_the_key_free(app):
    assert _post(app, "/fails").status_code == 422
    assert app.config["store"].rows == {}
    assert _post(app, "/write").status_code == 201


def test_without_a_key_nothing_is_looked_up_or_stored(app):
    assert _post(app, key=None).status_code == 201
    assert app.config["log"] == ["begin", "work", "commit"]
    assert app.config["store"].rows == {}
