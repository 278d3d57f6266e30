"""Events the intake service publishes on INTAKE_EVENTS (read by the follow-up side).

These payloads travel to a topic other services read: they never carry the
reporter's identity or contact (that stays in the intake database).
"""

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY

NAME = validate.Length(min=1, max=200)


@REGISTRY.event("AspirationRecorded", version=1)
class AspirationRecordedV1(Schema):
    aspiration_id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True, validate=NAME)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    kelurahan = fields.String(required=True, validate=NAME)
