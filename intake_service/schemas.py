"""Marshmallow schemas of the intake HTTP API (requests, queries, answers); OpenAPI uses them."""

from __future__ import annotations

from flask import current_app
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from intake_service.notify_requests import NotifyIn
from shared.events.intake import (
    MEETING_KINDS,
    REGION_CODE,
    URGENCIES,
    WITHDRAWAL_REASONS,
    Attachment,
    LocatedPlace,
    Place,
)
from shared.fields import CleanText, Instant
from shared.regions.dataset import load_directory
from shared.taxonomy import load_categories
from shared.timeutil import JAKARTA, UtcDateTime

NAME = validate.Length(min=1, max=200)


class Category(CleanText):
    """A category id from the configured taxonomy (deploy/routing/rules.yaml)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        known = load_categories(current_app.config["SETTINGS"].routing_rules_path)
        if value not in known:
            raise ValidationError(f"Unknown category. Known: {', '.join(sorted(known))}.")
        return value


def _known_region_code(code: str | None) -> None:
    if code is not None and code not in load_directory():
        raise ValidationError(
            "Unknown region code: not in the official directory (idn-area-data 4.0.1); "
            "choose the place from the suggestions (GET /api/v1/regions) or give its names."
        )


class PlaceIn(Place):
    """A place as people type it: every name is human text (see shared.fields.CleanText).

    Either the kelurahan/desa's code (`region_code`, e.g. chosen from the suggestions) or
    its names, or both: a code must exist (422 otherwise); names the directory cannot
    match are accepted and recorded unverified ("lokasi belum terverifikasi")."""

    polsek = CleanText(load_default=None, allow_none=True, validate=NAME)
    kabupaten = CleanText(load_default=None, allow_none=True, validate=NAME)
    kecamatan = CleanText(load_default=None, allow_none=True, validate=NAME)
    kelurahan = CleanText(load_default=None, allow_none=True, validate=NAME)
    region_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.And(REGION_CODE, _known_region_code),
        metadata={
            "description": "Kemendagri code of the kelurahan/desa (or of the kecamatan or "
            "kabupaten/kota when the kelurahan is typed free)",
            "example": "32.75.04.1001",
        },
    )
    rw = CleanText(load_default=None, allow_none=True, validate=validate.Length(max=10))
    rt = CleanText(load_default=None, allow_none=True, validate=validate.Length(max=10))
    address = CleanText(load_default=None, allow_none=True, validate=validate.Length(max=300))

    @validates_schema
    def _kelurahan_or_code(self, data, **_):
        code = data.get("region_code") or ""
        if not data.get("kelurahan") and code.count(".") != 3:
            raise ValidationError(
                "Name the kelurahan/desa, or give its region_code (a kelurahan/desa code).",
                "kelurahan",
            )


class PlaceData(Place):
    """A place as commands carry it to the handlers (names and the code given, if any)."""

    kelurahan = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)


class Reporter(Schema):
    """Who raised it: confidential, shown only to the unit's officers and supervisors."""

    name = CleanText(required=True, validate=NAME, metadata={"example": "Warga RW 18"})
    kind = fields.String(load_default="person", validate=validate.OneOf(("person", "group")))
    contact = CleanText(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"example": "+62 812-0000-0018"},
    )


class Backing(Schema):
    count = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))
    groups = fields.List(CleanText(validate=NAME, allow_blank=False), load_default=list)


class MeetingIn(Schema):
    id = fields.UUID(load_default=None, metadata={"description": "client-generated id"})
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    held_at = Instant(
        required=True,
        default_timezone=JAKARTA,
        metadata={"description": "date-time; without an offset it is Asia/Jakarta time"},
    )
    unit = CleanText(
        load_default=None,
        validate=NAME,
        allow_blank=False,
        metadata={"description": "default: the officer's unit"},
    )
    place = fields.Nested(PlaceIn, required=True)
    host_officer = CleanText(required=True, validate=NAME)
    partners = fields.List(CleanText(validate=NAME, allow_blank=False), load_default=list)
    attendee_count = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=100_000)
    )
    notes = CleanText(load_default="", validate=validate.Length(max=5000))


class PhotoIn(Schema):
    id = fields.UUID(required=True, metadata={"description": "from POST /api/v1/photos"})
    public = fields.Boolean(
        load_default=False,
        metadata={"description": "shown to the public (never for a sensitive or confidential one)"},
    )


class PhotoUploadOut(Schema):
    id = fields.UUID(required=True)
    sha256 = fields.String(required=True, metadata={"description": "of the stored JPEG"})
    url = fields.String(required=True)
    thumbnail_url = fields.String(required=True)
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)


class PhotoOut(Schema):
    id = fields.UUID(required=True)
    sha256 = fields.String(required=True)
    public = fields.Boolean(required=True)
    url = fields.String(required=True)
    thumbnail_url = fields.String(required=True)


class AspirationIn(Schema):
    id = fields.UUID(load_default=None, metadata={"description": "client-generated id"})
    category = Category(required=True, metadata={"example": "street_lighting"})
    summary = CleanText(required=True, validate=validate.Length(min=3, max=300))
    public_summary = CleanText(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "what communities may see"},
    )
    description = CleanText(load_default="", validate=validate.Length(max=5000))
    location = fields.Nested(
        PlaceIn, load_default=None, metadata={"description": "default: the meeting's place"}
    )
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    confidential = fields.Boolean(load_default=False)
    raised_by = fields.Nested(Reporter, load_default=None, allow_none=True)
    notify = fields.Nested(
        NotifyIn,
        load_default=None,
        allow_none=True,
        metadata={"description": "the reporter's consent to hear of progress (kept private)"},
    )
    attachments = fields.List(fields.Nested(Attachment), load_default=list)
    photos = fields.List(
        fields.Nested(PhotoIn),
        load_default=list,
        validate=validate.Length(max=5),
        metadata={"description": "photos uploaded with POST /api/v1/photos (at most 5)"},
    )
    backing = fields.Nested(Backing, load_default=None, allow_none=True)
    supports = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "link as support for this open aspiration instead of a new one"},
    )


class SingleAspirationIn(AspirationIn):
    meeting_id = fields.UUID(load_default=None, allow_none=True)
    unit = CleanText(
        load_default=None,
        validate=NAME,
        allow_blank=False,
        metadata={"description": "without a meeting"},
    )

    @pre_load
    def _kelurahan_shorthand(self, data, **_):
        """`kelurahan` at the top level (the v1 shape) stands for location.kelurahan."""
        if isinstance(data, dict) and "kelurahan" in data and "location" not in data:
            kelurahan = data["kelurahan"]
            data = {k: v for k, v in data.items() if k != "kelurahan"}
            data["location"] = {"kelurahan": kelurahan}
        return data


# A meeting's batch: officers send a few dozen, but a unit catching up after days offline
# or an agency importing a backlog sends hundreds; 500 items fit the 1 MiB body limit.
MAX_BATCH_ITEMS = 500


class BatchIn(Schema):
    aspirations = fields.List(
        fields.Nested(AspirationIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_ITEMS),
    )


class BackingIn(Schema):
    id = fields.UUID(load_default=None, metadata={"description": "client-generated id"})
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    groups = fields.List(CleanText(validate=NAME, allow_blank=False), load_default=list)
    meeting_id = fields.UUID(load_default=None, allow_none=True)
    note = CleanText(load_default="", validate=validate.Length(max=2000))


class ChangesIn(Schema):
    category = Category()
    summary = CleanText(validate=validate.Length(min=3, max=300), allow_blank=False)
    public_summary = CleanText(validate=validate.Length(max=500))
    description = CleanText(validate=validate.Length(max=5000))
    location = fields.Nested(PlaceIn)
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    confidential = fields.Boolean()
    attachments = fields.List(fields.Nested(Attachment))
    raised_by = fields.Nested(Reporter)


class AmendmentIn(Schema):
    changes = fields.Nested(ChangesIn, required=True)
    reason = CleanText(required=True, validate=validate.Length(min=3, max=1000))

    @validates_schema
    def _something_changes(self, data, **_):
        if not data.get("changes"):
            raise ValidationError("Name at least one field to change.", "changes")


class WithdrawalIn(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(WITHDRAWAL_REASONS))
    duplicate_of = fields.UUID(load_default=None, allow_none=True)
    note = CleanText(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def _duplicate_names_the_other(self, data, **_):
        if data.get("reason") == "duplicate_of" and not data.get("duplicate_of"):
            raise ValidationError("Name the aspiration this one duplicates.", "duplicate_of")


class PageQuery(Schema):
    unit = CleanText(validate=NAME, allow_blank=False)
    kelurahan = CleanText(validate=NAME, allow_blank=False)
    date_from = fields.Date(data_key="from", metadata={"description": "inclusive, Jakarta date"})
    date_to = fields.Date(data_key="to", metadata={"description": "inclusive, Jakarta date"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class MeetingQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(MEETING_KINDS))


class AspirationQuery(PageQuery):
    category = CleanText(validate=NAME, allow_blank=False)
    meeting_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("open", "withdrawn")))
    location_verified = fields.Boolean(
        metadata={"description": "false: only those not matched to a kelurahan/desa"}
    )


class CandidateQuery(Schema):
    kelurahan = CleanText(required=True, validate=NAME)
    category = CleanText(required=True, validate=NAME)


class RegionQuery(Schema):
    level = fields.String(
        load_default="kabupaten",
        validate=validate.OneOf(("provinsi", "kabupaten", "kecamatan", "kelurahan")),
        metadata={
            "description": "What to suggest: provinsi, kabupaten (kabupaten/kota), "
            "kecamatan or kelurahan (kelurahan/desa)"
        },
    )
    q = CleanText(
        load_default="",
        validate=validate.Length(max=100),
        metadata={
            "description": "What the officer typed so far (case, diacritics and "
            '"Kab."/"Kabupaten"/"Kota"/"Kec."/"Desa" ignored)',
            "example": "kab serang",
        },
    )
    parent = fields.String(
        validate=validate.Regexp(r"^[0-9]{2}(\.[0-9]{2}){0,2}$"),
        metadata={
            "description": "Kemendagri code of the region above (the chosen kabupaten "
            "for kecamatan, the kecamatan for kelurahan)",
            "example": "36.04",
        },
    )
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class RegionOut(Schema):
    code = fields.String(required=True, metadata={"example": "36.04"})
    name = fields.String(required=True, metadata={"example": "Kabupaten Serang"})
    parent_code = fields.String(allow_none=True, metadata={"example": "36"})


class RegionsOut(Schema):
    items = fields.List(fields.Nested(RegionOut), required=True)


class AreaQuery(Schema):
    unit = CleanText(
        validate=NAME,
        allow_blank=False,
        metadata={"description": "a police unit id; default: the caller's unit"},
    )


class AreaOut(Schema):
    """Every kecamatan and kelurahan/desa of a unit's kabupaten/kota, for the officer page to
    keep on the phone (suggestions with no signal)."""

    unit = fields.String(allow_none=True, metadata={"example": "polsek-cikande"})
    dataset = fields.String(metadata={"example": "idn-area-data 4.0.1"})
    regency = fields.Nested(RegionOut, allow_none=True, metadata={"description": "None: unknown"})
    districts = fields.List(fields.Nested(RegionOut), required=True)
    villages = fields.List(fields.Nested(RegionOut), required=True)


class WriteOut(Schema):
    id = fields.UUID(required=True)
    status = fields.String(
        required=True, metadata={"description": "created | existing (replayed id) | linked"}
    )
    tracking_code = fields.String(allow_none=True, metadata={"example": "KA-7GQ4-M2"})
    linked_to = fields.UUID(allow_none=True)


class BatchOut(Schema):
    meeting_id = fields.UUID(required=True)
    items = fields.List(fields.Nested(WriteOut), required=True)


class AspirationOut(Schema):
    id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    meeting_id = fields.UUID(allow_none=True)
    unit = fields.String(allow_none=True, metadata={"description": "unit id"})
    unit_name = fields.String(allow_none=True)
    category = fields.String(required=True)
    summary = fields.String(required=True)
    public_summary = fields.String()
    description = fields.String()
    kelurahan = fields.String(required=True)
    location = fields.Nested(LocatedPlace, allow_none=True)
    region_code = fields.String(
        allow_none=True, metadata={"description": "Kemendagri code of the location"}
    )
    location_verified = fields.Boolean(
        metadata={"description": "false: lokasi belum terverifikasi (not matched to a kelurahan)"}
    )
    urgency = fields.String()
    confidential = fields.Boolean()
    status = fields.String(metadata={"description": "open | withdrawn"})
    backing_count = fields.Integer()
    backing_groups = fields.List(fields.String())
    attachments = fields.List(fields.Nested(Attachment))
    photos = fields.List(fields.Nested(PhotoOut))
    channel = fields.String(metadata={"description": "officer | open311"})
    channel_client = fields.String(
        allow_none=True, metadata={"description": "the Open311 app that filed it"}
    )
    attributes = fields.Dict(metadata={"description": "the category's extra answers"})
    raised_at = UtcDateTime(allow_none=True)
    recorded_at = UtcDateTime()
    amendments = fields.Integer()
    withdrawal = fields.Dict(allow_none=True)
    raised_by = fields.Nested(
        Reporter, allow_none=True, metadata={"description": "only for roles that may see it"}
    )
    supporters = fields.List(
        fields.Nested(Reporter), metadata={"description": "only for roles that may see them"}
    )


class MeetingOut(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)
    held_at = UtcDateTime(required=True)
    unit = fields.String(required=True, metadata={"description": "unit id"})
    unit_name = fields.String(required=True)
    place = fields.Nested(LocatedPlace)
    host_officer = fields.String()
    partners = fields.List(fields.String())
    attendee_count = fields.Integer(allow_none=True)
    notes = fields.String()
    aspiration_count = fields.Integer()
    recorded_at = UtcDateTime()
    aspirations = fields.List(fields.Nested(AspirationOut))


class MeetingPage(Schema):
    items = fields.List(fields.Nested(MeetingOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class AspirationPage(Schema):
    items = fields.List(fields.Nested(AspirationOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class CandidatesOut(Schema):
    items = fields.List(fields.Nested(AspirationOut), required=True)


class HistoryEntry(Schema):
    event_type = fields.String(required=True)
    occurred_at = UtcDateTime(required=True)
    actor = fields.String(allow_none=True)
    payload = fields.Dict(required=True)


class HistoryOut(Schema):
    items = fields.List(fields.Nested(HistoryEntry), required=True)


class IdentityView(Schema):
    viewer = fields.String(required=True, metadata={"description": "role:username"})
    unit = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    via = fields.String(required=True, metadata={"description": "the route that answered"})
    seen_at = fields.DateTime(required=True)


class IdentityViewsOut(Schema):
    """Who was shown the reporter's or a supporter's name or contact, oldest first."""

    items = fields.List(fields.Nested(IdentityView), required=True)
