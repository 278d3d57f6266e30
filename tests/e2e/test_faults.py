"""When a part blinks, nobody is turned away and nothing is lost (issue 22).

On the system scripts/run.sh starts (its own PostgreSQL, Kafka and Redis; both APIs under
gunicorn, both relays, the consumer and the deadline worker, supervised by run.sh), an
officer client behaves like the logging page's outbox (one Idempotency-Key per
aspiration, fixed before the first attempt; 5xx and timeouts retried with backoff) and
posts 10 aspirations a second, while residents read tracking 20 times a second. The
system goes through, one after the other:

a) PostgreSQL stopped with ``-m immediate`` and started again 5 s later;
b) Redis SIGSTOPped for 10 s, then continued;
c) Redis killed and started empty;
d) the consumer and one relay SIGKILLed, and restarted by run.sh.

It shows that every aspiration the client was told was accepted is exactly one case,
readable at /track within 30 s after the last fault; that no request answered 500; that
during (b) and (c) tracking reads answered 200 from PostgreSQL; that during (a) every
failure was a 503 with Retry-After; and that after (c) a session signed out, and an
Open311 key revoked, before the fault are refused at every request after the restart.
The figures per fault are written to .local/test-reports/faults.json.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.test_run_path import _demo_password, _form_page, http, run_sh, sign_in
from tests.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.e2e
__all__ = ["run_sh"]  # the module fixture: this module's own run.sh

POSTS_PER_SECOND = 10
READS_PER_SECOND = 20
CLIENT_TIMEOUT = 5.0  # the page's outbox gives up on an attempt after this and retries
REPORT = os.path.join(REPO_ROOT, ".local", "test-reports", "faults.json")


@dataclass
class Answer:
    at: float
    took: float
    status: int  # 0: no answer (connection refused, timeout)
    retry_after: str | None = None
    kind: str = ""


@dataclass
class Log:
    """Every answer the clients got, with the phase it fell in."""

    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def between(self, start: float, end: float, kind: str | None = None) -> list[Answer]:
        with self.lock:
            return [
                a for a in self.answers if start <= a.at < end and (kind is None or a.kind == kind)
            ]


def request(method: str, url: str, *, body=None, headers=None, timeout=CLIENT_TIMEOUT):
    data = json.dumps(body).encode() if body is not None else None
    headers = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return 0, b"", {}


class Officer:
    """The logging page's outbox: each aspiration keeps its Idempotency-Key through every
    retry; 5xx, 409, 429 and no answer are retried with backoff, a 4xx is a rejection."""

    def __init__(self, base: str, token: str, log: Log):
        self.base, self.token, self.log = base, token, log
        self.accepted: dict[str, str] = {}  # marker -> tracking code
        self.rejected: list[str] = []
        self.pending = 0
        self._lock = threading.Lock()
        self.stop_retrying_at = float("inf")

    def post_one(self, n: int) -> None:
        marker = f"fault-{uuid.uuid4().hex[:12]}"
        key = str(uuid.uuid4())
        body = {
            "category": "street_lighting",
            "summary": f"PJU mati {marker}",
            "location": {"kelurahan": "Cikande", "kecamatan": "Cikande", "kabupaten": "Serang"},
        }
        if n % 2:  # half carry a client id, as the page does; half rely on the key alone
            body["id"] = key
        with self._lock:
            self.pending += 1
        backoff = 0.2
        try:
            while time.monotonic() < self.stop_retrying_at:
                started = time.monotonic()
                status, raw, headers = request(
                    "POST",
                    f"{self.base}/api/v1/aspirations",
                    body=body,
                    headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key},
                )
                self.log.add(
                    Answer(
                        started,
                        time.monotonic() - started,
                        status,
                        headers.get("Retry-After"),
                        "post",
                    )  # fmt: skip
                )
                if status in (200, 201):
                    with self._lock:
                        self.accepted[marker] = json.loads(raw)["tracking_code"]
                    return
                if status and status < 500 and status not in (409, 429):
                    with self._lock:
                        self.rejected.append(f"{status}: {raw[:300]!r}")
                    return
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        finally:
            with self._lock:
                self.pending -= 1


class Residents:
    """Read tracking codes they were given (the demo's and the accepted ones)."""

    def __init__(self, base: str, codes: list[str], log: Log):
        self.base, self.codes, self.log = base, codes, log

    def read(self, n: int) -> None:
        code = self.codes[n % len(self.codes)]
        path = f"/lacak/{code}" if n % 4 == 0 else f"/api/v1/track/{code}"
        started = time.monotonic()
        status, _, headers = request("GET", self.base + path)
        self.log.add(
            Answer(started, time.monotonic() - started, status, headers.get("Retry-After"), "read")
        )


class Load:
    """Officer posts and resident reads at fixed rates, each in a pool, until stopped."""

    def __init__(self, officer: Officer, residents: Residents):
        self.officer, self.residents = officer, residents
        self.stopped = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=64)
        self.threads = [
            threading.Thread(target=self._tick, args=(POSTS_PER_SECOND, officer.post_one)),
            threading.Thread(target=self._tick, args=(READS_PER_SECOND, residents.read)),
        ]

    def _tick(self, rate: int, work) -> None:
        n, started = 0, time.monotonic()
        while not self.stopped.is_set():
            self.pool.submit(work, n)
            n += 1
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                self.stopped.wait(delay)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for thread in self.threads:
            thread.join()


def _pid_of(run_sh, name: str) -> int | None:
    """The live pid run.sh's supervisor wrote for `name` (RUN_DIR/<name>.pid)."""
    try:
        with open(os.path.join(run_sh.run_dir, f"{name}.pid")) as fh:
            pid = int(fh.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _pg(ports: dict, data_dir: str, *args: str) -> None:
    env = {**os.environ, "PG_PORT": str(ports["PG_PORT"]), "PG_DATA_DIR": data_dir}
    subprocess.run([os.path.join(REPO_ROOT, "deploy", "postgres", "pg.sh"), *args],
                   env=env, check=True, capture_output=True)  # fmt: skip


def _pg_stop_immediate(data_dir: str) -> None:
    pg_ctl = sorted(
        f"/usr/lib/postgresql/{v}/bin/pg_ctl" for v in os.listdir("/usr/lib/postgresql")
    )[-1]
    command = [pg_ctl, "stop", "-D", data_dir, "-m", "immediate", "-w"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, cwd="/")


def _redis(ports: dict, *args: str) -> None:
    env = {**os.environ, "REDIS_PORT": str(ports["REDIS_PORT"])}
    subprocess.run([os.path.join(REPO_ROOT, "deploy", "redis", "redis.sh"), *args],
                   env=env, check=True, capture_output=True)  # fmt: skip


def _redis_pid(ports: dict) -> int:
    with open(f"/tmp/kawal-redis-{ports['REDIS_PORT']}/redis.pid") as fh:
        return int(fh.read().strip())


def _pg_data_dir(port: int) -> str:
    """The data folder of the PostgreSQL server listening on `port` (run.sh may have moved
    it where the postgres user can reach it), from its postmaster's command line."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = fh.read().decode().split("\0")
        except OSError:
            continue
        postmaster = args[0].endswith("postgres") and "-D" in args and "-p" in args
        if postmaster and args[args.index("-p") + 1] == str(port):
            return args[args.index("-D") + 1]
    raise AssertionError(f"no PostgreSQL server on port {port}")


def _summary(answers: list[Answer]) -> dict:
    statuses: dict[int, int] = defaultdict(int)
    for a in answers:
        statuses[a.status] += 1
    return {
        "requests": len(answers),
        "503": statuses.get(503, 0),
        "500": sum(n for s, n in statuses.items() if s >= 500 and s != 503),
        "no_answer": statuses.get(0, 0),
        "slowest_s": round(max((a.took for a in answers), default=0.0), 3),
        "statuses": dict(sorted(statuses.items())),
    }


def _recovered_after(log: Log, back_at: float, kind: str) -> float | None:
    """Seconds from the part's return to the first success of this kind begun after it."""
    firsts = [
        a.at + a.took for a in log.between(back_at, float("inf"), kind) if a.status in (200, 201)
    ]
    return round(min(firsts) - back_at, 2) if firsts else None


def test_a_blinking_part_turns_nobody_away_and_loses_nothing(run_sh):
    password = _demo_password(run_sh.output)
    _, officer_token = sign_in(run_sh.followup, "demo-officer", password)
    demo_code = next(
        ln.split("/lacak/", 1)[1].split()[0] for ln in run_sh.output if "/lacak/KA-" in ln
    )
    log = Log()
    officer = Officer(run_sh.intake, officer_token, log)
    residents = Residents(run_sh.followup, [demo_code], log)
    ports = run_sh.ports
    pg_data = _pg_data_dir(ports["PG_PORT"])
    phases: dict[str, dict] = {}

    def mark(name: str, fault_at: float, back_at: float, end_at: float) -> None:
        phases[name] = {"fault_at": fault_at, "back_at": back_at, "end_at": end_at}

    with Load(officer, residents):
        time.sleep(3)  # steady state first
        residents.codes.extend(list(officer.accepted.values())[:5])

        # a) PostgreSQL stopped with -m immediate, started again 5 s later
        fault_at = time.monotonic()
        _pg_stop_immediate(pg_data)
        time.sleep(5)
        _pg(ports, pg_data, "start")
        back_at = time.monotonic()
        wait_for(lambda: _recovered_after(log, back_at, "post") is not None, timeout=60,
                 what="an accepted post after PostgreSQL returned")  # fmt: skip
        time.sleep(2)
        mark("a_postgresql_restart", fault_at, back_at, time.monotonic())

        # b) Redis SIGSTOPped for 10 s
        fault_at = time.monotonic()
        redis_pid = _redis_pid(ports)
        os.kill(redis_pid, signal.SIGSTOP)
        time.sleep(10)
        os.kill(redis_pid, signal.SIGCONT)
        back_at = time.monotonic()
        wait_for(lambda: _recovered_after(log, back_at, "post") is not None, timeout=60,
                 what="an accepted post after Redis continued")  # fmt: skip
        time.sleep(2)
        mark("b_redis_stopped", fault_at, back_at, time.monotonic())

        # c) Redis killed and started empty, with a signed-out session and a revoked key
        signed_out, revoked_key = (
            _signed_out_session(run_sh, password),
            _revoked_key(run_sh, password),
        )
        fault_at = time.monotonic()
        os.kill(_redis_pid(ports), signal.SIGKILL)
        time.sleep(1)
        _redis(ports, "start")
        back_at = time.monotonic()
        refused = _probe_refused(run_sh, signed_out, revoked_key, seconds=5)
        wait_for(lambda: _recovered_after(log, back_at, "post") is not None, timeout=60,
                 what="an accepted post after Redis restarted empty")  # fmt: skip
        mark("c_redis_restarted_empty", fault_at, back_at, time.monotonic())

        # d) the consumer and the intake relay SIGKILLed; run.sh restarts them
        fault_at = time.monotonic()
        killed = {name: _pid_of(run_sh, name) for name in ("followup-consumer", "intake-relay")}
        assert all(killed.values()), f"run.sh wrote a live pid for each: {killed}"
        for pid in killed.values():
            os.kill(pid, signal.SIGKILL)
        for name, old in killed.items():
            wait_for(lambda n=name, o=old: _pid_of(run_sh, n) not in (None, o), timeout=60,
                     what=f"run.sh to restart {name}")  # fmt: skip
        back_at = time.monotonic()
        time.sleep(3)
        mark("d_processes_killed", fault_at, back_at, time.monotonic())
        officer.stop_retrying_at = time.monotonic() + 60
    wait_for(lambda: officer.pending == 0, timeout=90, what="the officer's outbox to drain")
    last_fault_ended = time.monotonic()

    # every accepted aspiration is exactly one case, readable at /track within 30 s
    codes = dict(officer.accepted)
    assert not officer.rejected, officer.rejected[:5]
    assert len(codes) > 100, f"only {len(codes)} accepted: the load did not run"
    db = Databases(run_sh.ports["PG_PORT"])
    try:
        # polled in the database: a lookup of a code whose case is not open yet is a miss,
        # and misses are rate limited per address (issue 23)
        wait_for(lambda: db.cases_with(codes.values()) == len(codes), timeout=30, interval=0.5,
                 what="every accepted aspiration to be a case",
                 diagnose=db.diagnose(codes))  # fmt: skip
        converged_in = time.monotonic() - last_fault_ended
        for code in codes.values():
            status, _, _ = request("GET", f"{run_sh.followup}/api/v1/track/{code}")
            assert status == 200, (code, status)
        db.assert_exactly_once(codes)
    finally:
        db.close()

    # no 500 anywhere; (a): failures are 503 with Retry-After; (b), (c): reads answered
    server_errors = [a for a in log.answers if a.status >= 500 and a.status != 503]
    assert not server_errors, [(a.kind, a.status) for a in server_errors[:10]]
    a = phases["a_postgresql_restart"]
    for answer in log.between(a["fault_at"], a["back_at"]):
        if answer.status not in (200, 201, 404):
            assert answer.status == 503 and answer.retry_after, answer
    for name in ("b_redis_stopped", "c_redis_restarted_empty"):
        p = phases[name]
        reads = log.between(p["fault_at"], p["end_at"], "read")
        assert reads and all(r.status == 200 for r in reads), (name, _summary(reads))
    assert refused["accepted"] == 0, refused

    report = {
        name: {
            "posts": _summary(log.between(p["fault_at"], p["end_at"], "post")),
            "reads": _summary(log.between(p["fault_at"], p["end_at"], "read")),
            "part_away_s": round(p["back_at"] - p["fault_at"], 1),
            "post_recovered_after_s": _recovered_after(log, p["back_at"], "post"),
            "read_recovered_after_s": _recovered_after(log, p["back_at"], "read"),
        }
        for name, p in phases.items()
    }
    report["after_c_signed_out_and_revoked"] = refused
    report["accepted"] = len(codes)
    report["all_readable_within_s"] = round(converged_in, 1)
    report["total"] = {"posts": _summary(log.between(0, float("inf"), "post")),
                       "reads": _summary(log.between(0, float("inf"), "read"))}  # fmt: skip
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "w") as fh:
        json.dump(report, fh, indent=2)
    print(json.dumps(report, indent=2))


def _signed_out_session(run_sh, password: str) -> str:
    cookie, token = sign_in(run_sh.followup, "demo-liaison", password)
    _, csrf, cookie = _form_page(f"{run_sh.followup}/kerja", cookie)
    out = http("POST", f"{run_sh.followup}/keluar", form={"csrf_token": csrf},
               headers={"Cookie": cookie})  # fmt: skip
    assert out.status in (302, 303)
    auth = {"Authorization": f"Bearer {token}"}
    assert http("GET", f"{run_sh.followup}/api/v1/cases", headers=auth).status == 401
    return token


def _revoked_key(run_sh, password: str) -> str:
    cookie, _ = sign_in(run_sh.followup, "demo-admin", password)
    _, csrf, cookie = _form_page(f"{run_sh.followup}/admin/integrasi", cookie)
    made = http("POST", f"{run_sh.followup}/admin/integrasi", headers={"Cookie": cookie},
                form={"name": "Aplikasi Uji Gangguan", "purpose": "open311",
                      "agency": "", "csrf_token": csrf})  # fmt: skip
    assert made.status == 201, made.text[:500]
    key = made.text.split('id="new-token-value">', 1)[1].split("<", 1)[0]
    token_id = _token_id(key)
    revoked = http("POST", f"{run_sh.followup}/admin/integrasi/{token_id}/cabut",
                   form={"csrf_token": csrf}, headers={"Cookie": cookie})  # fmt: skip
    assert revoked.status == 303, revoked.text[:300]
    assert _file_open311(run_sh, key) == 403
    return key


def _token_id(token: str) -> str:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["jti"]


def _file_open311(run_sh, key: str) -> int:
    form = {
        "api_key": key,
        "service_code": "street_lighting",
        "address_string": "Jl. Raya Cikande, Cikande, Kab. Serang",
        "description": "Lampu PJU mati di depan pasar.",
    }
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(f"{run_sh.intake}/open311/v2/requests.json", data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _probe_refused(run_sh, signed_out: str, revoked_key: str, seconds: float) -> dict:
    """From the restart on, every request with the signed-out session or the revoked key
    is refused (401/403) or cannot be decided (503): never accepted."""
    tally: dict[str, int] = defaultdict(int)
    auth = {"Authorization": f"Bearer {signed_out}"}
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for url in (f"{run_sh.intake}/api/v1/meetings", f"{run_sh.followup}/api/v1/cases"):
            status, _, _ = request("GET", url, headers=auth)
            tally[str(status)] += 1
            tally["accepted"] += status < 300 and status != 0
        status = _file_open311(run_sh, revoked_key)
        tally[f"open311 {status}"] += 1
        tally["accepted"] += status < 300
        time.sleep(0.05)
    return dict(tally)


class Databases:
    """run.sh's two databases, read directly to count what was stored."""

    def __init__(self, port: int):
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        self.intake = create_engine(f"{url}/kawal_intake")
        self.followup = create_engine(f"{url}/kawal_followup")

    def close(self) -> None:
        self.intake.dispose()
        self.followup.dispose()

    def cases_with(self, codes) -> int:
        with self.followup.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM cases WHERE tracking_code = ANY(:codes)"),
                {"codes": list(codes)},
            ).scalar()

    def diagnose(self, codes: dict[str, str]):
        def account() -> str:
            with self.intake.connect() as conn:
                outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
            with self.followup.connect() as conn:
                offsets = conn.execute(
                    text("SELECT partition, next_offset FROM consumer_offsets ORDER BY 1")
                ).all()
            return (
                f"{self.cases_with(codes.values())} of {len(codes)} cases; intake outbox "
                f"{outbox}; consumer offsets {[tuple(r) for r in offsets]}"
            )

        return account

    def assert_exactly_once(self, codes: dict[str, str]) -> None:
        with self.intake.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT substring(summary from 'fault-[0-9a-f]{12}') AS marker, "
                    "count(*) AS n, min(tracking_code) AS code FROM aspirations "
                    "WHERE summary LIKE 'PJU mati fault-%' GROUP BY 1"
                )
            ).all()
        stored = {r.marker: (r.n, r.code) for r in rows}
        for marker, code in codes.items():
            assert stored.get(marker, (0, None))[0] == 1, (marker, stored.get(marker))
            assert stored[marker][1] == code
        with self.followup.connect() as conn:
            per_code = dict(
                conn.execute(
                    text(
                        "SELECT tracking_code, count(*) FROM cases "
                        "WHERE tracking_code = ANY(:codes) GROUP BY 1"
                    ),
                    {"codes": list(codes.values())},
                ).all()
            )
        wrong = {c: per_code.get(c) for c in codes.values() if per_code.get(c) != 1}
        assert not wrong, wrong
