"""Registry of event schemas per (type, version), with upcasters to the latest version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from marshmallow import Schema, ValidationError

from shared.events.envelope import EventEnvelope


class EventSchemaError(ValueError):
    """An event payload does not match its registered schema, or its type is unknown."""

    def __init__(self, event_type: str, version: int | None, messages):
        self.event_type = event_type
        self.version = version
        self.messages = messages
        super().__init__(f"{event_type} v{version}: {messages}")


Upcaster = Callable[[dict], dict]


class EventRegistry:
    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], Schema] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._latest: dict[str, int] = {}
        self._resources: dict[str, Callable[[], object]] = {}

    def event(self, event_type: str, version: int = 1):
        """Class decorator registering a marshmallow schema for one event version."""

        def register(schema_cls: type[Schema]) -> type[Schema]:
            self._schemas[(event_type, version)] = schema_cls()
            self._latest[event_type] = max(version, self._latest.get(event_type, 0))
            return schema_cls

        return register

    def upcaster(self, event_type: str, from_version: int, needs: str | None = None):
        """Decorator for a function turning a payload of from_version into from_version+1.

        With `needs`, the function takes the named resource as its second argument (e.g.
        "regions": the region directory, to match old place names): see provide().
        """

        def register(fn):
            step = fn if needs is None else (lambda payload: fn(payload, self.resource(needs)))
            self._upcasters[(event_type, from_version)] = step
            return fn

        return register

    def provide(self, name: str, factory: Callable[[], object]) -> None:
        """Make a resource available to upcasters that need it. `factory` is called when an
        old event first needs it (so a process that never meets one never pays for it) and
        must return the same deterministic data every time (an upcast is pure)."""
        self._resources[name] = factory

    def resource(self, name: str) -> object:
        factory = self._resources.get(name)
        if factory is None:
            raise LookupError(f"no {name!r} provided to the event registry (REGISTRY.provide)")
        return factory()

    def latest_version(self, event_type: str) -> int:
        if event_type not in self._latest:
            raise EventSchemaError(event_type, None, {"event_type": ["Unknown event type."]})
        return self._latest[event_type]

    def schema(self, event_type: str, version: int) -> Schema:
        """The registered schema of one event version (KeyError if unknown)."""
        return self._schemas[(event_type, version)]

    def known_types(self) -> list[str]:
        return sorted(self._latest)

    def validate(self, event_type: str, version: int, payload: dict) -> dict:
        """Validate a payload and return its canonical JSON-ready form."""
        schema = self._schemas.get((event_type, version))
        if schema is None:
            raise EventSchemaError(event_type, version, {"event_type": ["Unknown event type."]})
        try:
            return schema.dump(schema.load(payload))
        except ValidationError as exc:
            raise EventSchemaError(event_type, version, exc.messages) from exc

    def upcast_stored(self, envelope: EventEnvelope) -> EventEnvelope:
        """Like upcast, for events read back from this service's own log.

        They were validated when appended, so one already at the latest version is
        returned as it is (re-validating every event made replays 14x slower than
        the row scan); older versions go through the upcasters and are validated.
        """
        if envelope.schema_version == self._latest.get(envelope.event_type):
            return envelope
        return self.upcast(envelope)

    def upcast(self, envelope: EventEnvelope) -> EventEnvelope:
        """Bring an envelope's payload to the latest schema version, validating on the way."""
        payload, version = envelope.payload, envelope.schema_version
        latest = self.latest_version(envelope.event_type)
        if version < latest:  # check what was written before upcasting it
            self.validate(envelope.event_type, version, payload)
        while version < latest:
            step = self._upcasters.get((envelope.event_type, version))
            if step is None:
                raise EventSchemaError(
                    envelope.event_type, version, {"schema_version": ["No upcaster."]}
                )
            payload, version = step(dict(payload)), version + 1
        payload = self.validate(envelope.event_type, version, payload)
        return replace(envelope, payload=payload, schema_version=version)


REGISTRY = EventRegistry()
"""The project's registry; event modules register into it when imported."""
