"""Harness plumbing: the stack, throwaway databases, processes, repetitions and results."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.presets import Preset
from shared.auth import RevocationList
from shared.config import REPO_ROOT, Settings

REQUIRED_ENV = ("DATABASE_ADMIN_URL", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")
VENV_BIN = os.path.dirname(sys.executable)


class BenchSkipped(Exception):
    """A figure cannot run on this code base yet (e.g. an endpoint is missing)."""


def stats(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "samples": samples,
    }


@dataclass
class Row:
    """One measured figure beside its baseline (the ceiling or floor under it)."""

    figure: str
    measure: str
    unit: str
    subject: list[float]
    baseline_name: str
    baseline: list[float]
    higher_is_better: bool = True
    params: dict = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict:
        s, b = stats(self.subject), stats(self.baseline)
        ratio = s["median"] / b["median"] if b["median"] else None
        if ratio is None or ratio == 0:
            efficiency = None
        else:
            efficiency = ratio if self.higher_is_better else 1 / ratio
        return {
            "figure": self.figure,
            "measure": self.measure,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "subject": s,
            "baseline_name": self.baseline_name,
            "baseline": b,
            "ratio": ratio,
            "efficiency": efficiency,
            "params": self.params,
            "note": self.note,
        }


def compose_gunicorn_args(service: str, workers_override: int | None = None) -> list[str]:
    """Workers/threads of the production config (docker-compose.yml), so both stay in step."""
    workers, threads = "4", "4"
    path = os.path.join(REPO_ROOT, "docker-compose.yml")
    with contextlib.suppress(OSError, KeyError, TypeError):
        import yaml

        with open(path, encoding="utf-8") as fh:
            command = yaml.safe_load(fh)["services"][f"{service}-api"]["command"]
        if m := re.search(r"-w\s+(\d+)", command):
            workers = m.group(1)
        if m := re.search(r"--threads\s+(\d+)", command):
            threads = m.group(1)
    return ["-w", str(workers_override or workers), "--threads", threads]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 10):
    """(status, parsed JSON or None) for one request; never raises on 4xx/5xx."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def wait_http_ok(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            if http("GET", url, timeout=2)[0] == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


class Bench:
    """One harness run: stack env, preset, throwaway databases/topics, results so far."""

    def __init__(self, preset: Preset, out_dir: str, profile: str | None = None):
        missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
        if missing:
            raise SystemExit(
                f"{', '.join(missing)} not set: run scripts/bench.sh (or eval "
                '"$(deploy/stack.sh up)" first).'
            )
        self.env = {name: os.environ[name] for name in REQUIRED_ENV}
        self.preset = preset
        self.out_dir = out_dir
        self.profile = profile
        self.run_id = uuid.uuid4().hex[:6]
        # A secret of this run, as production would have: the services refuse the built-in
        # development secret outside KAWAL_ENV=development, and the bench must not need it.
        self.jwt_secret = secrets.token_urlsafe(48)
        self.rows: list[Row] = []
        self.errors: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._databases: list[str] = []
        self._procs: list[subprocess.Popen] = []
        self.admin = create_engine(self.env["DATABASE_ADMIN_URL"], isolation_level="AUTOCOMMIT")
        self.log_dir = os.path.join(out_dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)

    @property
    def bootstrap(self) -> str:
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    def prefix(self, label: str) -> str:
        """A fresh topic/key prefix (Kafka topics and Redis keys never collide across runs)."""
        return f"bench{self.run_id}{label}{uuid.uuid4().hex[:4]}"

    def create_database(self, service: str) -> str:
        """A fresh PostgreSQL database migrated to the service's newest schema."""
        from shared.migrations import upgrade

        name = f"bench_{self.run_id}_{service}_{len(self._databases)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._databases.append(name)
        url = make_url(str(self.admin.url)).set(database=name)
        url_str = url.render_as_string(hide_password=False)
        upgrade(os.path.join(REPO_ROOT, f"{service}_service"), url_str)
        return url_str

    def settings(self, service: str, database_url: str, prefix: str, **overrides) -> Settings:
        values = {
            "service_name": service,
            "database_url": database_url,
            "kafka_bootstrap_servers": self.bootstrap,
            "redis_url": self.env["REDIS_URL"],
            "topic_prefix": prefix,
            "redis_key_prefix": prefix,
            "jwt_secret": self.jwt_secret,
        }
        settings = Settings(**{**values, **overrides})
        # the follow-up service's "credential cache complete" mark (shared.auth), as its
        # start-up writes it: intake alone would otherwise answer staff with 503
        client = redis_lib.Redis.from_url(settings.redis_url)
        RevocationList(client, settings.redis_key_prefix).mark_complete()
        client.close()
        return settings

    def service_env(self, settings: Settings, **extra: str) -> dict[str, str]:
        """Environment for a service subprocess reading these settings via Settings.from_env."""
        prefix = settings.service_name.upper() + "_"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INTAKE_", "FOLLOWUP_", "DATABASE_URL"))
        }
        env.update(
            {
                prefix + "DATABASE_URL": settings.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                "REDIS_URL": settings.redis_url,
                "TOPIC_PREFIX": settings.topic_prefix,
                "REDIS_KEY_PREFIX": settings.redis_key_prefix,
                "JWT_SECRET": settings.jwt_secret,
                "JWT_ISSUER": settings.jwt_issuer,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if settings.consumer_group:
            env[prefix + "CONSUMER_GROUP"] = settings.consumer_group
        env.update(extra)
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(os.path.join(self.log_dir, f"{name}.log"), "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        if str(proc.args[0]).endswith("pyinstrument"):
            timeout = 180.0  # it writes the profile on the way out
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self._procs:
            self._procs.remove(proc)

    def python_argv(self, module_args: list[str], profile_as: str | None = None) -> list[str]:
        """`python -m ...`, under pyinstrument when --profile names this process."""
        if profile_as and self.profile == profile_as:
            out = os.path.join(self.out_dir, f"profile-{profile_as}.txt")
            return [os.path.join(VENV_BIN, "pyinstrument"), "-o", out, *module_args]
        return [sys.executable, *module_args]

    @contextlib.contextmanager
    def gunicorn(
        self, settings: Settings, name: str, app: str | None = None, **extra_env: str
    ) -> Iterator[str]:
        """The service's production server (gunicorn, compose's workers/threads); yields URL."""
        port = free_port()
        service = settings.service_name
        argv = [
            os.path.join(VENV_BIN, "gunicorn"),
            "-b",
            f"127.0.0.1:{port}",
            *compose_gunicorn_args(service, self.preset.gunicorn_workers),
            "--log-level",
            "warning",
            app or f"{service}_service.app:create_app()",
        ]
        proc = self.spawn(name, argv, self.service_env(settings, **extra_env))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http_ok(f"{url}/healthz", timeout=60, proc=proc)
            yield url
        finally:
            self.stop(proc)

    def repeat(
        self, fn: Callable[[], dict[str, float]], reps: int | None = None, warmup: int | None = None
    ) -> dict:
        """Warm-up runs (discarded), then timed runs; returns metric -> list of values."""
        for _ in range(self.preset.warmup if warmup is None else warmup):
            fn()
        results: dict[str, list[float]] = {}
        for _ in range(reps or self.preset.reps):
            for key, value in fn().items():
                results.setdefault(key, []).append(value)
        return results

    def add(self, row: Row) -> None:
        self.rows.append(row)
        d = row.as_dict()
        ratio = f"{d['ratio']:.3f}" if d["ratio"] is not None else "n/a"
        print(
            f"  [{row.figure}] {row.measure}: {d['subject']['median']:.1f} {row.unit} "
            f"vs {row.baseline_name} {d['baseline']['median']:.1f} (ratio {ratio})",
            flush=True,
        )

    def close(self) -> None:
        for proc in list(self._procs):
            self.stop(proc, timeout=5)
        with self.admin.connect() as conn:
            for name in self._databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()
        with contextlib.suppress(Exception):
            self._delete_topics()

    def _delete_topics(self) -> None:
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=15_000)
        try:
            mine = [t for t in admin.list_topics() if t.startswith(f"bench{self.run_id}")]
            if mine:
                admin.delete_topics(mine)
        finally:
            admin.close()
