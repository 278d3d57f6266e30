"""Events of the follow-up service's case streams, published on CASE_EVENTS."""

from marshmallow import Schema, fields

from shared.events.registry import REGISTRY


@REGISTRY.event("CaseOpened", version=1)
class CaseOpenedV1(Schema):
    case_id = fields.String(required=True)
    aspiration_id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True)
    kelurahan = fields.String(required=True)
    summary = fields.String(required=True)
