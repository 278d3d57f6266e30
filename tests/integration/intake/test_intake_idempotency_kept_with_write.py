"""Idempotency-Key answers kept with the write, in PostgreSQL (issue 22, item 2): a batch
retried after Redis lost its data is stored once; two sends of it at the same moment store
it once and get one answer; Redis holds nothing of it."""

import threading
import time

import pytest
from sqlalchemy import event, select

from intake_service.tables import idempotency_keys
from tests.integration.intake.conftest import aspiration_body, meeting_body

pytestmark = pytest.mark.integration


def _batch(n: int = 5) -> dict:
    """Items without client ids: the server makes them, so only the key can tell a resend."""
    items = [aspiration_body(i) for i in range(n)]
    return {"aspirations": [{k: v for k, v in item.items() if k != "id"} for item in items]}


def _lose_redis_data(intake, redis_client) -> None:
    redis_client.flushall()
    # After a Redis loss the follow-up service rebuilds the credential cache (issue 22
    # item 3), or every staff request is refused with 503. Nothing else runs here: do its
    # last step for it. (Idempotency itself needs nothing back from Redis.)
    mark_complete = getattr(intake.tokens.revocations, "mark_complete", None)
    if mark_complete is not None:
        mark_complete()


def _stored(intake) -> tuple[int, int]:
    return intake.count(), intake.count("aspirations")


def _keys(intake) -> list:
    with intake.engine.connect() as conn:
        return conn.execute(select(idempotency_keys)).all()


def test_a_batch_retried_after_redis_lost_its_data_is_stored_once(intake, redis_client):
    meeting_id = intake.meeting()
    path, batch = f"/api/v1/meetings/{meeting_id}/aspirations", _batch(5)
    first = intake.post(path, batch, key="outbox-batch-1")
    assert first.status_code == 201, first.json
    _lose_redis_data(intake, redis_client)
    again = intake.post(path, batch, key="outbox-batch-1")
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _stored(intake) == (1 + 5, 5)
    assert intake.post(path, _batch(4), key="outbox-batch-1").status_code == 409  # other body
    assert _stored(intake) == (6, 5)


def _at_the_same_moment(intake, path: str, bodies: list[dict], key: str) -> list:
    """Send the bodies at once with one key; the first transaction to claim the key holds
    it a second (sleeping after its INSERT), so the others reach their claim meanwhile."""
    headers = {**intake.headers(), "Idempotency-Key": key}
    claims: list[str] = []

    def hold_the_first_claim(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO idempotency_keys"):
            claims.append(statement)
            if len(claims) == 1:
                time.sleep(1.0)

    barrier, answers = threading.Barrier(len(bodies)), [None] * len(bodies)

    def send(index: int) -> None:
        client = intake.app.test_client()
        barrier.wait()
        answers[index] = client.post(path, json=bodies[index], headers=headers)

    event.listen(intake.engine, "after_cursor_execute", hold_the_first_claim)
    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(intake.engine, "after_cursor_execute", hold_the_first_claim)
    assert len(claims) == len(bodies), "every request reached its transaction's claim"
    return answers


def test_two_sends_of_a_batch_at_the_same_moment_store_it_once_with_one_answer(intake):
    meeting_id = intake.meeting()
    path, batch = f"/api/v1/meetings/{meeting_id}/aspirations", _batch(5)
    answers = _at_the_same_moment(intake, path, [batch, batch], "outbox-batch-2")
    assert [a.status_code for a in answers] == [201, 201], [a.json for a in answers]
    assert answers[0].json == answers[1].json
    assert [a.headers.get("Idempotent-Replayed") for a in answers].count("true") == 1
    assert _stored(intake) == (6, 5)


def test_another_batch_with_the_same_key_at_the_same_moment_is_409(intake):
    meeting_id = intake.meeting()
    path = f"/api/v1/meetings/{meeting_id}/aspirations"
    answers = _at_the_same_moment(intake, path, [_batch(3), _batch(2)], "outbox-batch-3")
    assert sorted(a.status_code for a in answers) == [201, 409]
    conflict = next(a for a in answers if a.status_code == 409)
    assert "Idempotency-Key" in conflict.json["error"]
    stored = len(next(a for a in answers if a.status_code == 201).json["items"])
    assert _stored(intake) == (1 + stored, stored)


def test_the_answer_is_stored_with_the_events_and_not_when_they_roll_back(intake):
    meeting_id = intake.meeting()
    path = f"/api/v1/meetings/{meeting_id}/aspirations"
    rejected = _batch(3)
    rejected["aspirations"][2]["supports"] = "5f0e8a52-5c1e-4a8e-9d5e-000000000000"
    assert intake.post(path, rejected, key="outbox-batch-4").status_code == 422
    assert _keys(intake) == [] and _stored(intake) == (1, 0)  # items 0-1 rolled back too
    corrected = _batch(3)
    first = intake.post(path, corrected, key="outbox-batch-4")  # a failed key is reusable
    assert first.status_code == 201
    [row] = _keys(intake)
    assert (row.key, row.status, row.body) == ("outbox-batch-4", 201, first.json)
    assert row.scope == "officer-polsek-bekasi-selatan"  # the caller's subject


def test_every_keyed_write_resent_is_stored_once_and_answered_as_the_first_time(intake):
    """Amendments, withdrawals and backing without a client id repeat themselves when
    resent; each keyed write of the API is answered from its stored answer instead."""
    meeting = {k: v for k, v in meeting_body().items() if k != "id"}
    single = {k: v for k, v in aspiration_body().items() if k != "id"}
    first_meeting = intake.post("/api/v1/meetings", meeting, key="w-meeting")
    single["meeting_id"] = first_meeting.json["id"]
    first_single = intake.post("/api/v1/aspirations", single, key="w-single")
    path = f"/api/v1/aspirations/{first_single.json['id']}"
    writes = [
        ("/api/v1/meetings", meeting, "w-meeting", first_meeting),
        ("/api/v1/aspirations", single, "w-single", first_single),
    ]
    for suffix, body in [
        ("/backing", {"count": 4, "groups": ["Karang Taruna RW 18"]}),
        ("/amendments", {"changes": {"urgency": "high"}, "reason": "lampu sudah tiga"}),
        ("/withdrawal", {"reason": "recorded_by_mistake"}),
    ]:
        writes.append(
            (path + suffix, body, f"w{suffix}", intake.post(path + suffix, body, key=f"w{suffix}"))
        )
    assert [w[3].status_code for w in writes] == [201] * 5, [w[3].json for w in writes]
    stored = _stored(intake)
    for target, body, key, first in writes:
        again = intake.post(target, body, key=key)
        assert (again.status_code, again.json) == (first.status_code, first.json), target
        assert again.headers["Idempotent-Replayed"] == "true"
    assert _stored(intake) == stored
    assert len(_keys(intake)) == 5


def test_redis_holds_nothing_of_a_keyed_write(intake, redis_client):
    prefix = intake.settings.redis_key_prefix
    before = set(redis_client.scan_iter(match=f"{prefix}*"))
    meeting_id = intake.meeting()
    path = f"/api/v1/meetings/{meeting_id}/aspirations"
    for _ in range(2):
        assert intake.post(path, _batch(2), key="no-redis-please").status_code in (201, 409)
    written = set(redis_client.scan_iter(match=f"{prefix}*")) - before
    assert not [k for k in written if b"idempotency" in k or b"no-redis-please" in k]
    assert not list(redis_client.scan_iter(match="*no-redis-please*"))
    assert len(_keys(intake)) == 1
