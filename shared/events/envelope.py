"""Event envelope: the metadata every stored and published event carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from marshmallow import Schema, fields


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended; the store fills stream position and times."""

    event_type: str
    payload: dict
    schema_version: int | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=utcnow)
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class EventEnvelope:
    event_id: str
    event_type: str
    schema_version: int
    stream_id: str
    stream_version: int
    occurred_at: datetime
    recorded_at: datetime
    payload: dict
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    global_position: int | None = None

    def to_wire(self) -> bytes:
        return orjson.dumps(_SCHEMA.dump(self.__dict__))

    @classmethod
    def from_wire(cls, raw: bytes) -> EventEnvelope:
        """Decode bytes from Kafka; raises ValueError or marshmallow ValidationError."""
        return cls(**_SCHEMA.load(orjson.loads(raw)))


class EnvelopeSchema(Schema):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    schema_version = fields.Integer(required=True, strict=True)
    stream_id = fields.String(required=True)
    stream_version = fields.Integer(required=True, strict=True)
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    recorded_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    payload = fields.Dict(required=True)
    actor = fields.String(allow_none=True, load_default=None)
    correlation_id = fields.String(allow_none=True, load_default=None)
    causation_id = fields.String(allow_none=True, load_default=None)
    global_position = fields.Integer(allow_none=True, load_default=None)

    class Meta:
        ordered = True

    def load(self, data, **kwargs):  # event ids travel as strings
        loaded = super().load(data, **kwargs)
        loaded["event_id"] = str(loaded["event_id"])
        return loaded


# One schema instance: building a marshmallow Schema per message dominated relay CPU time.
_SCHEMA = EnvelopeSchema()
