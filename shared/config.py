"""Settings read from the environment, with defaults that match deploy/ scripts.

Each service builds a ``Settings`` with its own embedded default database; tests
override any field through ``Settings.from_env(overrides)`` or ``replace``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

DEVELOPMENT_SECRET = "dev-only-change-me-please-32-bytes!"
MIN_SECRET_BYTES = 32
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_DIR = os.path.join(REPO_ROOT, ".local")


@dataclass(frozen=True)
class Settings:
    service_name: str
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    topic_prefix: str = "kawal"
    redis_key_prefix: str = "kawal"
    jwt_secret: str = DEVELOPMENT_SECRET
    # keys that still verify during a rotation (comma-separated; README, Operations)
    jwt_previous_secrets: str = ""
    jwt_issuer: str = "kawal-aspirasi"
    max_body_bytes: int = 1024 * 1024
    routing_rules_path: str = os.path.join(REPO_ROOT, "deploy", "routing", "rules.yaml")
    # outbox rows per relay batch: each batch waits for all its acks before the next is
    # sent, and 2,000 spreads that wait (figure 1b of bench/README.md)
    relay_batch_size: int = 2000
    consumer_group: str = ""
    # intake: where staff sign in (the follow-up service's /masuk, which owns accounts)
    sign_in_url: str = ""
    # follow-up: other services' origins a sign-in may return to (comma-separated)
    trusted_origins: str = ""
    # failed sign-ins allowed per account and per address (flask-limiter notation)
    sign_in_failure_limit: str = "5 per minute"
    # set to the parent domain when the services are on sibling subdomains
    session_cookie_domain: str = ""
    # follow-up: the intake service's base URL, where Open311 POSTs are passed on
    intake_url: str = ""
    # relays, consumer, deadline worker: serve /metrics here (0: not at all); one port
    # per process (README, Metrics)
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # seconds of Strict-Transport-Security, sent only on requests that came over TLS
    # (or X-Forwarded-Proto: https from the proxy); 0: never (plain HTTP, run.sh)
    hsts_max_age: int = 0
    # follow-up: misses (malformed or unknown tracking codes) allowed per client address on
    # the tracking API and pages, in flask-limiter notation (README, probing)
    tracking_miss_limit: str = "10/minute;60/hour"
    # reverse proxies in front of the service whose X-Forwarded-For/-Proto it trusts (0:
    # none, the peer's address is the client's); per-address limits key on the client
    proxy_hops: int = 0

    @classmethod
    def from_env(cls, service_name: str, default_database_url: str, **overrides) -> Settings:
        """Build settings: overrides beat environment variables beat defaults."""
        env = os.environ
        prefix = service_name.upper() + "_"
        values: dict = {"service_name": service_name}
        values["database_url"] = env.get(prefix + "DATABASE_URL") or env.get(
            "DATABASE_URL", default_database_url
        )
        for f in fields(cls):
            if f.name in values:
                continue
            raw = env.get(prefix + f.name.upper()) or env.get(f.name.upper())
            if raw is not None:
                values[f.name] = int(raw) if f.type in ("int", int) else raw
        settings = cls(**values)
        return replace(settings, **overrides) if overrides else settings

    @property
    def previous_secrets(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.jwt_previous_secrets.split(",") if k.strip())

    def topic(self, base_name: str) -> str:
        return f"{self.topic_prefix}.{base_name}"

    def redis_key(self, *parts: str) -> str:
        return ":".join((self.redis_key_prefix, *parts))


def local_postgres_default(service_name: str) -> str:
    """The database scripts/run.sh creates for a service on the local server of deploy/."""
    port = os.environ.get("PG_PORT", "15432")
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/kawal_{service_name}"


class InsecureConfiguration(RuntimeError):
    """The services refuse to start with a configuration that would let anyone in."""


def require_safe_secret(settings: Settings, environ=os.environ) -> None:
    """Refuse the built-in signing secret (or a short one) unless KAWAL_ENV=development.

    Anyone can read the built-in secret in this repository and sign a supervisor token
    with it, so it is only for a developer's own machine (run.sh and the tests say so).
    """
    if environ.get("KAWAL_ENV") == "development":
        return
    if settings.jwt_secret == DEVELOPMENT_SECRET:
        raise InsecureConfiguration(
            "JWT_SECRET is unset or the built-in development secret: set JWT_SECRET to a "
            f"random value of at least {MIN_SECRET_BYTES} bytes (or KAWAL_ENV=development "
            "on a developer's machine)"
        )
    if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        raise InsecureConfiguration(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    for previous in settings.previous_secrets:
        if previous == DEVELOPMENT_SECRET or len(previous.encode()) < MIN_SECRET_BYTES:
            raise InsecureConfiguration(
                "JWT_PREVIOUS_SECRETS may hold only real keys of at least "
                f"{MIN_SECRET_BYTES} bytes (never the built-in development secret)"
            )
