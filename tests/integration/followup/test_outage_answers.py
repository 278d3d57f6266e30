"""What callers get while a part underneath is away (issue 22), on real servers: a
Redis address where nothing answers, a database address where nothing answers. Tracking
reads PostgreSQL when the cache cannot answer; what cannot be done answers 503 with
Retry-After (JSON, Open311's list, or a short page), never 500.

The real faults (PostgreSQL stopped with -m immediate, Redis SIGSTOPped, Redis restarted
empty, processes SIGKILLed) are in tests/e2e/test_faults.py.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import replace

import pytest

from followup_service.tracking_cache import TrackingCache
from shared.redis_clients import cache_client
from shared.tracking_code import new_tracking_code
from tests.integration.followup.conftest import Service

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def without_redis(followup):
    """A second follow-up app on the same database whose Redis answers nothing."""
    return Service(replace(followup.settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0"))


def test_tracking_reads_postgresql_when_redis_answers_nothing(followup, without_redis):
    case = followup.open("street_lighting")
    code = case["tracking_code"]
    started = time.perf_counter()
    api = without_redis.client.get(f"/api/v1/track/{code}")
    assert api.status_code == 200 and api.json["tracking_code"] == code
    page = without_redis.client.get(f"/lacak/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    assert time.perf_counter() - started < 5  # no request waited on Redis for seconds
    assert without_redis.client.get("/api/v1/track/KA-ZZZZ-ZZ").status_code == 404
    assert without_redis.client.get("/open311/v2/services.json").status_code == 200


def test_staff_requests_answer_503_when_redis_cannot_decide(without_redis):
    answer = without_redis.client.get("/api/v1/cases", headers=without_redis.supervisor)
    assert answer.status_code == 503
    assert answer.json["unavailable"] == "redis" and int(answer.headers["Retry-After"]) > 0
    page = without_redis.client
    page.set_cookie("ka_session", without_redis.supervisor["Authorization"].split()[1])
    answer = page.get("/kerja")
    assert answer.status_code == 503 and "tidak tersedia" in answer.get_data(as_text=True)


def test_a_hung_redis_is_waited_on_once_then_staff_are_answered_503_at_once(followup, caplog):
    """A listening socket that never answers: what a SIGSTOPped Redis looks like."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        stalled = Service(
            replace(followup.settings, redis_url=f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        )
        headers = stalled.supervisor
        with caplog.at_level(logging.WARNING, logger="shared.web"):
            answers = [stalled.client.get("/api/v1/cases", headers=headers) for _ in range(10)]
    assert {a.status_code for a in answers} == {503}
    causes = [r.getMessage() for r in caplog.records if "redis unavailable" in r.getMessage()]
    waited = [c for c in causes if "TimeoutError" in c]
    assert len(causes) == 10 and len(waited) == 1, causes  # the other nine refused at once


def test_the_cache_skips_redis_for_a_moment_after_a_failure(followup):
    dead = cache_client(f"redis://127.0.0.1:{closed_port()}/0")
    cache = TrackingCache(dead, followup.settings, pause=30)
    assert cache.get("KA-AAAA-AA") is None  # the failure: a miss
    started = time.perf_counter()
    for _ in range(100):
        assert cache.get("KA-AAAA-AA") is None
    assert time.perf_counter() - started < 0.5  # paused: not even a connection attempt
    cache.put("KA-AAAA-AA", 3, {"status": "routed"})
    assert "KA-AAAA-AA" in cache._unrefreshed  # deleted at the next use that works


def test_everything_answers_503_with_retry_after_when_the_database_is_away(make_settings):
    away = Service(
        make_settings(
            "followup", database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x"
        )
    )
    code = new_tracking_code()
    api = away.client.get(f"/api/v1/track/{code}")
    assert api.status_code == 503 and api.json["unavailable"] == "database"
    assert int(api.headers["Retry-After"]) > 0
    page = away.client.get(f"/lacak/{code}")
    assert page.status_code == 503 and "tidak tersedia" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] and page.mimetype == "text/html"
    english = away.client.get(f"/lacak/{code}?lang=en")
    assert "briefly unavailable" in english.get_data(as_text=True)
    listed = away.client.get("/open311/v2/requests.json")
    assert listed.status_code == 503 and listed.json[0]["code"] == 503
    staff = away.client.get("/api/v1/cases", headers=away.supervisor)
    assert staff.status_code == 503
    assert away.client.get("/healthz").status_code == 200  # alive: it will recover
    ready = away.client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["database"].startswith("unavailable")
    assert ready.json["checks"]["redis"] == "ok"
