"""The Redis Idempotency-Key store on its own, against the real Redis."""

from datetime import timedelta

import pytest

from shared.idempotency import IdempotencyConflictError, IdempotencyStore, fingerprint

pytestmark = pytest.mark.integration


@pytest.fixture
def store(redis_client, make_settings):
    prefix = make_settings("intake").redis_key_prefix
    return IdempotencyStore(redis_client, prefix), redis_client, prefix


def test_answer_is_remembered_for_at_least_a_day_when_completed(store):
    idem, redis_client, prefix = store
    request_hash = fingerprint("POST", "/x", {"a": 1})
    assert idem.begin("budi", "k", request_hash) is None
    idem.complete("budi", "k", request_hash, 201, {"id": "1"})
    replay = idem.begin("budi", "k", fingerprint("POST", "/x", {"a": 1}))
    assert (replay.status, replay.body) == (201, {"id": "1"})
    assert redis_client.ttl(f"{prefix}:idempotency:budi:k") > 23 * 3600


def test_conflict_when_the_key_is_running_or_reused_for_another_request(store):
    idem, *_ = store
    assert idem.begin("budi", "k2", "hash-a") is None
    with pytest.raises(IdempotencyConflictError, match="running"):
        idem.begin("budi", "k2", "hash-a")
    with pytest.raises(IdempotencyConflictError, match="another request"):
        idem.begin("budi", "k2", "hash-b")
    assert idem.begin("rina", "k2", "hash-b") is None  # keys are per caller


def test_key_is_free_again_when_the_first_request_failed(store):
    idem, *_ = store
    assert idem.begin("budi", "k3", "hash-a") is None
    idem.release("budi", "k3")
    assert idem.begin("budi", "k3", "hash-b") is None


def test_store_refuses_a_memory_shorter_than_a_day(redis_client):
    with pytest.raises(ValueError):
        IdempotencyStore(redis_client, "x", ttl=timedelta(hours=1))


def test_fingerprint_ignores_key_order_when_bodies_are_equal():
    assert fingerprint("POST", {"a": 1, "b": 2}) == fingerprint("POST", {"b": 2, "a": 1})
