"""Events of the follow-up service's case streams, published on CASE_EVENTS.

Each schema validates the follow-up domain's payloads (followup_service.domain.events):
times are ISO 8601 with their offset, agencies are {id, name}. CaseOpened carries the
raw description for the services' own use; consumers must never show it publicly.
"""

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY
from shared.timeutil import UtcDateTime

OUTCOMES = ("resolved_verified", "not_responsible", "duplicate", "no_further_action", "withdrawn")
BREACHES = ("acknowledge", "resolve")
TEXT = validate.Length(min=1, max=5000)


def _optional_string(**kwargs):
    return fields.String(load_default=None, allow_none=True, **kwargs)


def _time(required: bool = True):
    if required:
        return UtcDateTime(required=True, format="iso")
    return UtcDateTime(load_default=None, allow_none=True, format="iso")


class Agency(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class SubCase(Schema):
    case_id = fields.String(required=True)
    category = fields.String(required=True)
    public_summary = fields.String(required=True)


class CaseEventSchema(Schema):
    case_id = fields.String(required=True)
    occurred_at = _time()
    actor = fields.String(required=True)


@REGISTRY.event("CaseOpened", version=1)
class CaseOpenedV1(CaseEventSchema):
    aspiration_id = fields.String(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True)
    region = fields.String(required=True)
    kecamatan = fields.String(load_default="")
    kelurahan = fields.String(required=True)
    public_summary = fields.String(required=True)
    description = fields.String(load_default="")
    urgency = fields.String(load_default="normal", validate=validate.OneOf(("normal", "high")))
    sensitive = fields.Boolean(load_default=False)
    parent_id = _optional_string()
    unit = fields.String(load_default="")


@REGISTRY.event("CaseOpened", version=2)
class CaseOpenedV2(CaseOpenedV1):
    """v2: `public_summary` is only what an officer wrote for the public ("" when none:
    the public view shows the category's neutral sentence). v1 events may carry the
    internal summary copied in by the consumer; the upcaster empties it for sensitive
    cases (sensitive categories and confidential aspirations)."""


@REGISTRY.upcaster("CaseOpened", from_version=1)
def _case_opened_v1_to_v2(payload: dict) -> dict:
    if payload.get("sensitive"):
        return {**payload, "public_summary": ""}
    return payload


class _Routing(CaseEventSchema):
    rule_version = fields.String(required=True)
    reason = fields.String(required=True)
    automatic = fields.Boolean(required=True)
    acknowledge_by = _time()
    resolve_by = _time()


@REGISTRY.event("CaseRouted", version=1)
class CaseRoutedV1(_Routing):
    agency_id = fields.String(required=True)
    agency_name = fields.String(required=True)
    level = fields.Integer(required=True)
    ladder = fields.List(fields.Nested(Agency), required=True, validate=validate.Length(min=1))


@REGISTRY.event("CaseEscalated", version=1)
class CaseEscalatedV1(_Routing):
    from_agency_id = fields.String(required=True)
    from_level = fields.Integer(required=True)
    to_agency_id = fields.String(required=True)
    to_agency_name = fields.String(required=True)
    to_level = fields.Integer(required=True)
    breach = _optional_string(validate=validate.OneOf(BREACHES))


@REGISTRY.event("CaseAcknowledged", version=1)
class CaseAcknowledgedV1(CaseEventSchema):
    agency_id = fields.String(required=True)


@REGISTRY.event("ProgressNoted", version=1)
class ProgressNotedV1(CaseEventSchema):
    text = fields.String(required=True, validate=TEXT)
    public = fields.Boolean(required=True)


@REGISTRY.event("ProgressNoted", version=2)
class ProgressNotedV2(ProgressNotedV1):
    """v2: `evidence_ref` ("photo:<id>"), a proof photo attached with the note (issue 25)."""

    evidence_ref = _optional_string(validate=validate.Length(max=500))


@REGISTRY.upcaster("ProgressNoted", from_version=1)
def _progress_noted_v1_to_v2(payload: dict) -> dict:
    return {**payload, "evidence_ref": None}


@REGISTRY.event("DeadlineMissed", version=1)
class DeadlineMissedV1(CaseEventSchema):
    agency_id = fields.String(required=True)
    breach = fields.String(required=True, validate=validate.OneOf(BREACHES))
    due_at = _time()


@REGISTRY.event("CaseDeclined", version=1)
class CaseDeclinedV1(CaseEventSchema):
    agency_id = fields.String(required=True)
    reason = fields.String(required=True, validate=TEXT)


@REGISTRY.event("CaseResolved", version=1)
class CaseResolvedV1(CaseEventSchema):
    agency_id = fields.String(required=True)
    resolution = fields.String(required=True, validate=TEXT)
    evidence_ref = _optional_string()
    verify_by = _time()


@REGISTRY.event("VerificationConfirmed", version=1)
class VerificationConfirmedV1(CaseEventSchema):
    photo_ref = _optional_string()


@REGISTRY.event("ResolutionDisputed", version=1)
class ResolutionDisputedV1(CaseEventSchema):
    by = fields.String(required=True, validate=validate.OneOf(("officer", "community")))
    reason = fields.String(required=True, validate=TEXT)


@REGISTRY.event("CaseReopened", version=1)
class CaseReopenedV1(CaseEventSchema):
    reason = fields.String(required=True, validate=TEXT)
    resolve_by = _time(required=False)


@REGISTRY.event("CaseClosed", version=1)
class CaseClosedV1(CaseEventSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(load_default="")
    duplicate_of = _optional_string()


@REGISTRY.event("CaseSplit", version=1)
class CaseSplitV1(CaseEventSchema):
    sub_cases = fields.List(fields.Nested(SubCase), required=True, validate=validate.Length(min=2))


@REGISTRY.event("CaseAmended", version=1)
class CaseAmendedV1(CaseEventSchema):
    """Only changed fields are set; `sensitive` follows the (possibly new) category."""

    public_summary = _optional_string()
    description = _optional_string()
    category = _optional_string()
    sensitive = fields.Boolean(required=True)


@REGISTRY.event("CaseAmended", version=2)
class CaseAmendedV2(CaseAmendedV1):
    """v2: `public_summary` is only what an officer wrote for the public ("" clears it).
    v1 amendments of a sensitive case may carry a copy of the internal summary: the
    upcaster clears the public summary instead."""


@REGISTRY.upcaster("CaseAmended", from_version=1)
def _case_amended_v1_to_v2(payload: dict) -> dict:
    if payload.get("sensitive"):
        return {**payload, "public_summary": ""}
    return payload


@REGISTRY.event("CaseRelocated", version=1)
class CaseRelocatedV1(CaseEventSchema):
    """The aspiration's location was amended: the case's new area (region code, names)."""

    region = fields.String(required=True)
    kecamatan = fields.String(load_default="")
    kelurahan = fields.String(required=True)


@REGISTRY.event("CaseWithdrawn", version=1)
class CaseWithdrawnV1(CaseEventSchema):
    reason = fields.String(required=True)


@REGISTRY.event("CaseBacked", version=1)
class CaseBackedV1(CaseEventSchema):
    backing_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    count = fields.Integer(required=True, validate=validate.Range(min=0))
    total_count = fields.Integer(required=True, validate=validate.Range(min=0))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    meeting_id = fields.String(load_default=None, allow_none=True)


PHOTO_KINDS = ("before", "after")


@REGISTRY.event("PhotoAttached", version=1)
class PhotoAttachedV1(CaseEventSchema):
    """A photo reference in the case's stream (never bytes), so a replay restores
    `case_photos`: the aspiration's photos (`before`, from intake's AspirationRecorded) and
    the agencies' proof photos (`after`, with the agency whose staff attached it)."""

    photo_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    public = fields.Boolean(load_default=False)
    kind = fields.String(required=True, validate=validate.OneOf(PHOTO_KINDS))
    agency_id = _optional_string(validate=validate.Length(max=120))


@REGISTRY.event("PhotoRemoved", version=1)
class PhotoRemovedV1(CaseEventSchema):
    """A photo was removed from the case (withdrawal, an erasure request): ids only, and
    the reason given (short text)."""

    photo_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
