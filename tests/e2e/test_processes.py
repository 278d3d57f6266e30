"""Both services as real processes (gunicorn APIs, relay, consumer), as run.sh starts them."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from shared.auth import Tokens
from tests.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.e2e
VENV_BIN = os.path.dirname(sys.executable)
ARTIFACTS = os.path.join(REPO_ROOT, "test-artifacts")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(method, url, body=None, token=None):
    req = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body else None
    )
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except OSError:
        return 0, None


@pytest.fixture
def system(make_settings, tmp_path):
    intake = make_settings("intake")
    followup = make_settings("followup", topic_prefix=intake.topic_prefix)
    common = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": intake.kafka_bootstrap_servers,
        "REDIS_URL": intake.redis_url,
        "TOPIC_PREFIX": intake.topic_prefix,
        "REDIS_KEY_PREFIX": intake.redis_key_prefix,
        "INTAKE_DATABASE_URL": intake.database_url,
        "FOLLOWUP_DATABASE_URL": followup.database_url,
    }
    ports = {"intake": _free_port(), "followup": _free_port()}
    commands = {
        "intake-api": [
            f"{VENV_BIN}/gunicorn",
            "-b",
            f"127.0.0.1:{ports['intake']}",
            "-w",
            "2",
            "intake_service.app:create_app()",
        ],
        "followup-api": [
            f"{VENV_BIN}/gunicorn",
            "-b",
            f"127.0.0.1:{ports['followup']}",
            "-w",
            "2",
            "followup_service.app:create_app()",
        ],
        "intake-relay": [sys.executable, "-m", "intake_service.cli", "relay"],
        "followup-consumer": [sys.executable, "-m", "followup_service.cli", "consumer"],
    }
    processes = []
    for name, command in commands.items():
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        processes.append(
            (subprocess.Popen(command, env=common, cwd=REPO_ROOT, stdout=log, stderr=log), log)
        )
    urls = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
    for url in urls.values():
        wait_for(lambda u=url: _call("GET", f"{u}/healthz")[0] == 200, what=url)
    token = Tokens(intake.jwt_secret, intake.jwt_issuer).issue(
        "e2e-officer", "officer", unit="Polsek Cikande"
    )
    yield urls, token
    for process, _ in processes:
        process.terminate()
    for process, log in processes:
        assert process.wait(timeout=30) is not None
        log.close()


def test_cases_are_trackable_at_followup_when_posted_to_the_running_intake(system):
    urls, token = system
    latencies = []
    for n in range(100):
        body = {
            "category": "street_lighting" if n % 2 else "road_damage",
            "summary": f"Aspirasi warga nomor {n}",
            "kelurahan": "Cikande",
        }
        started = time.perf_counter()
        status, answer = _call("POST", f"{urls['intake']}/api/v1/aspirations", body, token)
        assert status == 201, answer
        code = answer["tracking_code"]
        wait_for(
            lambda c=code: _call("GET", f"{urls['followup']}/api/v1/track/{c}")[0] == 200,
            interval=0.005,
            what=f"case {code}",
        )
        latencies.append(time.perf_counter() - started)
    os.makedirs(ARTIFACTS, exist_ok=True)
    p50 = statistics.median(latencies)
    with open(os.path.join(ARTIFACTS, "intake_to_tracking_latency.json"), "w") as fh:
        json.dump({"count": len(latencies), "p50_s": p50, "max_s": max(latencies)}, fh)
    print(f"\nintake POST -> case readable at followup: p50 {p50 * 1000:.0f} ms")
    assert len(latencies) == 100
