"""Every process's metrics endpoint, scraped while work flows through real processes: both
APIs under gunicorn (2 workers, multiprocess mode), both relays, the consumer and the
deadline worker, each on its own port. The dashboard asks only for metrics they serve."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, text

from shared.auth import Tokens
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.kafka_io import make_producer
from shared.eventstore.relay import RELAY_LEADER_LOCK
from tests.dashboard import dashboard_expressions, promql_metric_names
from tests.e2e.test_processes import _call, _free_port
from tests.support import REPO_ROOT, process_env, wait_for

pytestmark = pytest.mark.e2e
VENV_BIN = os.path.dirname(sys.executable)
GUNICORN_CONF = os.path.join(REPO_ROOT, "shared", "gunicorn_conf.py")
WORKERS = ("intake-relay", "followup-relay", "followup-consumer", "followup-worker")
REQUESTS = "kawal_http_request_duration_seconds_count"


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a metrics endpoint: (name, labels) -> value."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        body = resp.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def series(samples: dict, name: str) -> list[dict]:
    return [dict(ls) for (n, ls) in samples if n == name]


@pytest.fixture
def system(make_settings, tmp_path):
    """The six processes, the intake relay held on standby (the test holds its leader
    lock) so the outbox can be seen filling."""
    intake = make_settings("intake")
    followup = make_settings("followup", topic_prefix=intake.topic_prefix)
    common = process_env(intake, followup)
    common.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn_conf.py makes one per API
    ports = {name: _free_port() for name in ("intake-api", "followup-api", *WORKERS)}
    api = [f"{VENV_BIN}/gunicorn", "-c", GUNICORN_CONF, "-w", "2", "-b"]
    commands = {
        "intake-api": [*api, f"127.0.0.1:{ports['intake-api']}", "intake_service.app:create_app()"],
        "followup-api": [
            *api,
            f"127.0.0.1:{ports['followup-api']}",
            "followup_service.app:create_app()",
        ],
        "intake-relay": [sys.executable, "-m", "intake_service.cli", "relay"],
        "followup-relay": [sys.executable, "-m", "followup_service.cli", "relay"],
        "followup-consumer": [sys.executable, "-m", "followup_service.cli", "consumer"],
        "followup-worker": [
            *(sys.executable, "-m", "followup_service.cli", "worker", "--interval", "1"),
        ],
    }
    intake_db = create_engine(intake.database_url)
    relay_lock = intake_db.connect()
    assert relay_lock.execute(
        text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LEADER_LOCK}
    ).scalar_one()
    relay_lock.commit()
    processes = []
    for name, command in commands.items():
        env = {**common, **({"METRICS_PORT": str(ports[name])} if name in WORKERS else {})}
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        processes.append(
            (subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=log), log)
        )
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

    def answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    for url in urls.values():
        wait_for(lambda u=url: answers(u), what=f"{url}/metrics")
    token = Tokens(intake.jwt_secret, intake.jwt_issuer).issue(
        "e2e-officer", "officer", unit="Polsek Cikande"
    )
    followup_db = create_engine(followup.database_url)
    yield {
        "urls": urls,
        "token": token,
        "intake": intake,
        "followup": followup,
        "relay_lock": relay_lock,
        "intake_db": intake_db,
        "followup_db": followup_db,
        "logs": tmp_path,
    }
    for process, _ in processes:
        process.terminate()
    for process, log in processes:
        assert process.wait(timeout=30) is not None
        log.close()
    relay_lock.close()
    intake_db.dispose()
    followup_db.dispose()


def test_every_endpoint_is_scraped_and_its_numbers_move_when_work_flows(system):
    urls, token = system["urls"], system["token"]
    intake, followup = system["intake"], system["followup"]
    before = {name: scrape(url) for name, url in urls.items()}
    for name in WORKERS:  # every process says which process it is (default collectors)
        assert value(before[name], "process_cpu_seconds_total") > 0, name
    assert value(before["intake-relay"], "kawal_outbox_events") == 0

    # 1. Three aspirations wait in the outbox while the relay stands by.
    codes = []
    for n in range(3):
        body = {"category": "road_damage", "summary": f"Jalan rusak {n}", "kelurahan": "Cikande"}
        status, answer = _call("POST", f"{urls['intake-api']}/api/v1/aspirations", body, token)
        assert status == 201, answer
        codes.append(answer["tracking_code"])
    outbox = select(func.count()).select_from(text("outbox"))
    with system["intake_db"].connect() as conn:
        waiting = conn.execute(outbox).scalar_one()
    assert waiting >= 3
    held = scrape(urls["intake-relay"])
    assert value(held, "kawal_outbox_events") == waiting
    assert value(held, "kawal_outbox_oldest_event_age_seconds") > 0

    # 2. The consumer cannot store offsets (the test locks the table) when the relay leads:
    #    the broker's end offsets move past the stored ones, and the lag shows it.
    with system["followup_db"].connect() as blocker:
        blocker.execute(text("LOCK TABLE consumer_offsets IN SHARE MODE"))
        system["relay_lock"].execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LEADER_LOCK}
        )
        system["relay_lock"].commit()
        wait_for(
            lambda: value(scrape(urls["intake-relay"]), "kawal_outbox_events") == 0,
            what="the relay to empty the outbox",
        )
        lagging = wait_for(
            lambda: (
                (s := scrape(urls["followup-consumer"]))
                and value(s, "kawal_consumer_lag_records") >= waiting
                and s
            ),
            what="the lag to show the published events",
        )
        blocker.rollback()
    lag_series = series(lagging, "kawal_consumer_lag_records")
    topic = intake.topic(INTAKE_EVENTS)
    assert {s["topic"] for s in lag_series} == {topic} and len(lag_series) == 3, lag_series

    # 3. The consumer catches up: lag 0, every published event handled once.
    published = value(scrape(urls["intake-relay"]), "kawal_relay_published_events_total")
    assert published - value(before["intake-relay"], "kawal_relay_published_events_total") == (
        waiting
    )

    def caught_up():
        s = scrape(urls["followup-consumer"])
        handled = value(s, "kawal_consumer_handled_events_total")
        return value(s, "kawal_consumer_lag_records") == 0 and handled == published and s

    consumer = wait_for(caught_up, what="the consumer to catch up")
    assert len(series(consumer, "kawal_consumer_lag_records")) == 3
    for code in codes:
        wait_for(
            lambda c=code: _call("GET", f"{urls['followup-api']}/api/v1/track/{c}")[0] == 200,
            what=f"case {code}",
        )
    wait_for(
        lambda: (
            value(scrape(urls["followup-relay"]), "kawal_outbox_events") == 0
            and value(scrape(urls["followup-relay"]), "kawal_relay_published_events_total") >= 3
        ),
        what="the follow-up relay to publish the case events",
    )

    # 4. One code tracked twice after its cache entry is dropped: a miss, then a hit.
    cache = redis.Redis.from_url(followup.redis_url)
    # the processes run with intake's key prefix (REDIS_KEY_PREFIX above)
    assert cache.delete(intake.redis_key("track", codes[0])) == 1
    cache.close()
    untracked = scrape(urls["followup-api"])
    for _ in range(2):
        assert _call("GET", f"{urls['followup-api']}/api/v1/track/{codes[0]}")[0] == 200
    tracked = scrape(urls["followup-api"])
    for name in ("kawal_tracking_cache_misses_total", "kawal_tracking_cache_hits_total"):
        assert value(tracked, name) - value(untracked, name) == 1, name

    # 5. An undecodable record is dead-lettered and counted; the lag returns to 0.
    producer = make_producer(intake.kafka_bootstrap_servers)
    producer.send(topic, key=b"garbage", value=b"not an event").get(timeout=10)
    producer.close()
    wait_for(
        lambda: (
            (s := scrape(urls["followup-consumer"]))
            and value(s, "kawal_consumer_dead_letters_total") == 1
            and value(s, "kawal_consumer_lag_records") == 0
        ),
        what="the dead letter to be counted",
    )

    # 6. The request histograms count every request, summed over both gunicorn workers.
    after = {name: scrape(url) for name, url in urls.items()}
    posted = {"method": "POST", "route": "/api/v1/aspirations", "status": "201"}
    for _ in range(4):  # whichever worker answers the scrape, the sum is the same
        assert value(scrape(urls["intake-api"]), REQUESTS, **posted) == 3
    track = {"method": "GET", "route": "/api/v1/track/<code>", "status": "200"}
    assert value(after["followup-api"], REQUESTS, **track) >= 5  # 3 waits + miss + hit
    assert value(after["intake-api"], "kawal_http_request_duration_seconds_bucket", le="+Inf")
    assert not [s for s in series(after["intake-api"], REQUESTS) if "/KA-" in s["route"]]
    for name in ("followup-relay", "intake-relay"):
        failures = {s["reason"] for s in series(after[name], "kawal_relay_failures_total")}
        assert failures == {"kafka", "database"}, name
    for name in ("kawal_deadline_breaches_total", "kawal_deadline_escalations_total"):
        assert {s["deadline"] for s in series(after["followup-worker"], name)} == {
            "acknowledge",
            "resolve",
        }
    print("\nscrape after the flow (kawal_ samples, buckets left out):")
    for name, samples in after.items():
        shown = sorted(
            (n, sorted(ls), v)
            for (n, ls), v in samples.items()
            if n.startswith("kawal_") and not n.endswith("_bucket") and "/metrics" not in str(ls)
        )
        for n, ls, v in shown[:14]:
            labels = ",".join(f'{k}="{val}"' for k, val in ls)
            print(f"  {name}: {n}{{{labels}}} {v:g}")

    # 7. Each process serves the metrics of what it does, and no other process's.
    own = {
        "intake-api": {"kawal_http_request"},
        "followup-api": {"kawal_http_request", "kawal_tracking_cache", "kawal_tracking_miss"},
        "intake-relay": {"kawal_relay", "kawal_outbox"},
        "followup-relay": {"kawal_relay", "kawal_outbox"},
        "followup-consumer": {"kawal_consumer"},
        "followup-worker": {"kawal_deadline"},
    }
    for name, samples in after.items():
        kawal = {n for (n, _) in samples if n.startswith("kawal_")}
        assert kawal and all(n.startswith(tuple(own[name])) for n in kawal), (name, kawal)

    # 8. The dashboard uses only metrics some endpoint serves.
    served = {n for samples in after.values() for (n, _) in samples}
    needed = set().union(*map(promql_metric_names, dashboard_expressions()))
    assert needed - served == set()
    assert len(needed) >= 12
