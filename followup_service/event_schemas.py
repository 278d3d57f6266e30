"""Wire schemas of case events added after shared/events/case.py (registered on import).

CaseBacked belongs with the other case events in shared/events/case.py; it is kept
here until that module's owner moves it (the schema is the same either way).
"""

from marshmallow import Schema, fields, validate

import shared.events.case  # noqa: F401 - the other case events, registered first
from shared.events.registry import REGISTRY


@REGISTRY.event("CaseBacked", version=1)
class CaseBackedV1(Schema):
    case_id = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    actor = fields.String(required=True)
    backing_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    count = fields.Integer(required=True, validate=validate.Range(min=0))
    total_count = fields.Integer(required=True, validate=validate.Range(min=0))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    meeting_id = fields.String(load_default=None, allow_none=True)
