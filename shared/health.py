"""Dependency checks for /readyz: database, Kafka and Redis reachable."""

from __future__ import annotations

import socket

from sqlalchemy import Engine, text


def database_check(engine: Engine):
    def check():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return check


def kafka_check(bootstrap_servers: str, timeout: float = 1.0):
    def check():
        host, port = bootstrap_servers.split(",")[0].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass

    return check


def redis_check(client):
    def check():
        client.ping()

    return check
