"""Events that stay in the intake database: appended with publish=False, never relayed.

The reporter's identity and contact live only here and in the intake read model.
"""

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY

PRIVATE_EVENT_TYPES = ("ReporterIdentified",)


@REGISTRY.event("ReporterIdentified", version=1)
class ReporterIdentifiedV1(Schema):
    """Who raised an aspiration (or, with backing_id, who backed it); latest one wins."""

    aspiration_id = fields.UUID(required=True)
    backing_id = fields.UUID(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="person", validate=validate.OneOf(("person", "group")))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
