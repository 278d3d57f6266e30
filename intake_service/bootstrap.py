"""Wires the intake service's adapters in one place."""

from __future__ import annotations

from dataclasses import dataclass

import redis as redis_lib
from sqlalchemy import Engine

import intake_service.private_events  # noqa: F401 - registers the private event schemas
import shared.events.intake  # noqa: F401 - registers the intake event schemas
from intake_service.tables import idempotency_keys, metadata
from shared.config import Settings
from shared.db import make_engine
from shared.events import REGISTRY
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.store import EventStore
from shared.idempotency import IdempotencyStore
from shared.police import load_police_directory
from shared.redis_clients import credentials_client
from shared.regions.dataset import load_directory
from shared.regions.directory import RegionDirectory


@dataclass
class Intake:
    settings: Settings
    engine: Engine
    store: EventStore
    redis: redis_lib.Redis
    idempotency: IdempotencyStore

    @property
    def regions(self) -> RegionDirectory:
        """The official region directory (read once per process, on first use)."""
        return load_directory()


def bootstrap(settings: Settings) -> Intake:
    engine = make_engine(settings.database_url)
    redis = credentials_client(settings.redis_url)
    load_police_directory()  # once per process, at start: no request waits for it
    return Intake(
        settings=settings,
        engine=engine,
        store=EventStore(metadata, REGISTRY, topic=settings.topic(INTAKE_EVENTS)),
        redis=redis,
        idempotency=IdempotencyStore(engine, idempotency_keys),  # PostgreSQL, not Redis
    )
