"""The wire contract between the services: envelope, schemas, topics."""

from shared.events.envelope import EventEnvelope, NewEvent
from shared.events.registry import REGISTRY, EventRegistry, EventSchemaError

__all__ = ["EventEnvelope", "NewEvent", "EventRegistry", "EventSchemaError", "REGISTRY"]
