"""Wires the follow-up service's adapters in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis as redis_lib
from sqlalchemy import Engine

import shared.events.case  # noqa: F401 - registers the case event schemas
import shared.events.intake  # noqa: F401 - registers the intake event schemas it consumes
from followup_service.domain.routing import RoutingRules
from followup_service.rules import load_routing_rules
from followup_service.tables import metadata
from followup_service.tracking_cache import TrackingCache
from shared.config import Settings
from shared.db import make_engine
from shared.events import REGISTRY
from shared.events.topics import CASE_EVENTS
from shared.eventstore.store import EventStore
from shared.police import load_police_directory
from shared.redis_clients import cache_client, credentials_client

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Followup:
    settings: Settings
    engine: Engine
    store: EventStore
    redis: redis_lib.Redis
    rules: RoutingRules
    tracking: TrackingCache
    clock: Clock = field(default=system_clock)  # tests move time by replacing it


def bootstrap(settings: Settings, clock: Clock = system_clock) -> Followup:
    engine = make_engine(settings.database_url)
    redis = credentials_client(settings.redis_url)
    load_police_directory()  # once per process, at start: no request waits for it
    return Followup(
        settings=settings,
        engine=engine,
        store=EventStore(metadata, REGISTRY, topic=settings.topic(CASE_EVENTS)),
        redis=redis,
        rules=load_routing_rules(settings.routing_rules_path),
        tracking=TrackingCache(cache_client(settings.redis_url), settings),
        clock=clock,
    )
