"""Events the intake service publishes on INTAKE_EVENTS (read by the follow-up side).

These payloads travel to a topic other services read: they never carry the
reporter's identity or contact (those stay in private intake events, never relayed).
Aspiration events are keyed by meeting on Kafka, so one meeting's events stay in order.
"""

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY
from shared.regions.places import upcast_place
from shared.timeutil import UtcDateTime
from shared.units import UNIT_ID_PATTERN, unit_id

NAME = validate.Length(min=1, max=200)
UNIT_ID = validate.Regexp(UNIT_ID_PATTERN, error="Not a unit id (e.g. polsek-cikande).")
MEETING_KINDS = (
    "ngopi_kamtibmas",
    "ngariung",
    "patroli_sambang",
    "patroli_stasioner",
    "jumat_curhat",
    "other",
)
URGENCIES = ("normal", "high")
WITHDRAWAL_REASONS = ("recorded_by_mistake", "duplicate_of")
AMENDABLE = (
    "category",
    "summary",
    "public_summary",
    "description",
    "location",
    "urgency",
    "confidential",
    "attachments",
)


class Place(Schema):
    """Where a meeting was held or an aspiration applies (RT < RW < kelurahan < kecamatan)."""

    polsek = fields.String(load_default=None, allow_none=True, validate=NAME)
    kabupaten = fields.String(load_default=None, allow_none=True, validate=NAME)
    kecamatan = fields.String(load_default=None, allow_none=True, validate=NAME)
    kelurahan = fields.String(required=True, validate=NAME)
    rw = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    rt = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


REGION_CODE = validate.Regexp(
    r"^[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?$", error="Not a Kemendagri region code."
)


class LocatedPlace(Place):
    """A place with its code (since MeetingRecorded v3, AspirationRecorded v5, AspirationAmended
    v2): `region_code` is the kelurahan/desa code, or the most specific region the names
    determine; `verified` is True when the place is known down to its kelurahan/desa.
    Unmatched places keep their names with region_code None ("lokasi belum terverifikasi").
    See shared/regions/places.py."""

    region_code = fields.String(required=True, allow_none=True, validate=REGION_CODE)
    verified = fields.Boolean(required=True)


def _vendored_directory():
    from shared.regions.dataset import load_directory  # read once per process, when needed

    return load_directory()


# Upcasters of places recorded before codes match the names in the official directory.
# The default is the vendored dataset; a process or test may provide another
# (REGISTRY.provide("regions", factory)) before events are read.
REGISTRY.provide("regions", _vendored_directory)


class Attachment(Schema):
    url = fields.Url(required=True, schemes={"http", "https"})
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


@REGISTRY.event("MeetingRecorded", version=1)
class MeetingRecordedV1(Schema):
    meeting_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    held_at = UtcDateTime(required=True)
    unit = fields.String(required=True, validate=NAME)
    place = fields.Nested(Place, required=True)
    host_officer = fields.String(required=True, validate=NAME)
    partners = fields.List(fields.String(validate=NAME), load_default=list)
    attendee_count = fields.Integer(load_default=None, allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


@REGISTRY.event("MeetingRecorded", version=2)
class MeetingRecordedV2(MeetingRecordedV1):
    """v2: `unit` is the unit's canonical id (shared/units.py), not its display name."""

    unit = fields.String(required=True, validate=UNIT_ID)


@REGISTRY.upcaster("MeetingRecorded", from_version=1)
def _meeting_recorded_v1_to_v2(payload: dict) -> dict:
    return {**payload, "unit": unit_id(payload["unit"])}


@REGISTRY.event("MeetingRecorded", version=3)
class MeetingRecordedV3(MeetingRecordedV2):
    """v3: the place carries its region code and whether it is verified."""

    place = fields.Nested(LocatedPlace, required=True)


@REGISTRY.upcaster("MeetingRecorded", from_version=2, needs="regions")
def _meeting_recorded_v2_to_v3(payload: dict, directory) -> dict:
    return {**payload, "place": upcast_place(directory, payload["place"])}


@REGISTRY.event("AspirationRecorded", version=1)
class AspirationRecordedV1(Schema):
    aspiration_id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True, validate=NAME)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    kelurahan = fields.String(required=True, validate=NAME)


@REGISTRY.event("AspirationRecorded", version=2)
class AspirationRecordedV2(Schema):
    """v2: meeting, location, urgency, confidentiality, unit, backing, attachments.

    `kelurahan` stays at the top level (equal to location.kelurahan) for v1 readers.
    """

    aspiration_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True, allow_none=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True, validate=NAME)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=300))
    public_summary = fields.String(load_default="", validate=validate.Length(max=500))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    kelurahan = fields.String(required=True, validate=NAME)
    location = fields.Nested(Place, required=True)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    confidential = fields.Boolean(load_default=False)
    unit = fields.String(required=True, allow_none=True, validate=NAME)
    raised_at = UtcDateTime(load_default=None, allow_none=True)
    backing_count = fields.Integer(load_default=0, validate=validate.Range(min=0))
    backing_groups = fields.List(fields.String(validate=NAME), load_default=list)
    attachments = fields.List(fields.Nested(Attachment), load_default=list)


@REGISTRY.upcaster("AspirationRecorded", from_version=1)
def _aspiration_recorded_v1_to_v2(payload: dict) -> dict:
    return {
        **payload,
        "meeting_id": None,
        "public_summary": "",
        "location": {"kelurahan": payload["kelurahan"]},
        "urgency": "normal",
        "confidential": False,
        "unit": None,
        "raised_at": None,
        "backing_count": 0,
        "backing_groups": [],
        "attachments": [],
    }


@REGISTRY.event("AspirationRecorded", version=3)
class AspirationRecordedV3(AspirationRecordedV2):
    """v3: `unit` is the unit's canonical id (shared/units.py), not its display name."""

    unit = fields.String(required=True, allow_none=True, validate=UNIT_ID)


@REGISTRY.upcaster("AspirationRecorded", from_version=2)
def _aspiration_recorded_v2_to_v3(payload: dict) -> dict:
    return {**payload, "unit": unit_id(payload["unit"])}


CHANNELS = ("officer", "open311")


@REGISTRY.event("AspirationRecorded", version=4)
class AspirationRecordedV4(AspirationRecordedV3):
    """v4: the channel it came in by. `officer`: logged by police staff (a meeting or
    not); `open311`: filed by an organisation's app through Open311 (`channel_client` is
    the app's name, `unit` None). `attributes`: the category's extra answers
    (deploy/routing/rules.yaml), as checked by shared.taxonomy.validate_attributes."""

    channel = fields.String(load_default="officer", validate=validate.OneOf(CHANNELS))
    channel_client = fields.String(load_default=None, allow_none=True, validate=NAME)
    attributes = fields.Dict(keys=fields.String(), load_default=dict)


@REGISTRY.upcaster("AspirationRecorded", from_version=3)
def _aspiration_recorded_v3_to_v4(payload: dict) -> dict:
    return {**payload, "channel": "officer", "channel_client": None, "attributes": {}}


@REGISTRY.event("AspirationRecorded", version=5)
class AspirationRecordedV5(AspirationRecordedV4):
    """v5: the location carries its region code and whether it is verified (names kept)."""

    location = fields.Nested(LocatedPlace, required=True)


@REGISTRY.upcaster("AspirationRecorded", from_version=4, needs="regions")
def _aspiration_recorded_v4_to_v5(payload: dict, directory) -> dict:
    return {**payload, "location": upcast_place(directory, payload["location"])}


class PhotoRef(Schema):
    """A photo an aspiration refers to (issue 25): its id on intake, the sha256 its blobs
    are stored under, and whether the officer marked it public. Never the bytes."""

    id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    public = fields.Boolean(load_default=False)


@REGISTRY.event("AspirationRecorded", version=6)
class AspirationRecordedV6(AspirationRecordedV5):
    """v6: `photos`, references to the photos the officer attached (at most 5)."""

    photos = fields.List(
        fields.Nested(PhotoRef), load_default=list, validate=validate.Length(max=5)
    )


@REGISTRY.upcaster("AspirationRecorded", from_version=5)
def _aspiration_recorded_v5_to_v6(payload: dict) -> dict:
    return {**payload, "photos": []}


PHOTO_REMOVAL_REASONS = ("withdrawn", "erasure")


@REGISTRY.event("PhotosRemoved", version=1)
class PhotosRemovedV1(Schema):
    """An aspiration's photos were removed and their blobs deleted (its withdrawal, or an
    erasure request). Ids only: follow-up stops showing them."""

    aspiration_id = fields.UUID(required=True)
    photo_ids = fields.List(fields.UUID(), required=True)
    reason = fields.String(required=True, validate=validate.OneOf(PHOTO_REMOVAL_REASONS))


@REGISTRY.event("AspirationBacked", version=1)
class AspirationBackedV1(Schema):
    """More residents back an aspiration, possibly raised again at a later meeting."""

    aspiration_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True, allow_none=True)
    backing_id = fields.UUID(required=True)
    count = fields.Integer(required=True, validate=validate.Range(min=0))
    groups = fields.List(fields.String(validate=NAME), load_default=list)
    total_count = fields.Integer(required=True, validate=validate.Range(min=0))
    linked_summary = fields.String(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AspirationChanges(Schema):
    category = fields.String(validate=NAME)
    summary = fields.String(validate=validate.Length(min=1, max=300))
    public_summary = fields.String(validate=validate.Length(max=500))
    description = fields.String(validate=validate.Length(max=5000))
    location = fields.Nested(Place)
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    confidential = fields.Boolean()
    attachments = fields.List(fields.Nested(Attachment))


@REGISTRY.event("AspirationAmended", version=1)
class AspirationAmendedV1(Schema):
    """A correction: `changes` holds new values, `previous` the values they replace."""

    aspiration_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True, allow_none=True)
    changes = fields.Nested(AspirationChanges, required=True)
    previous = fields.Nested(AspirationChanges, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))
    amended_by = fields.String(required=True, validate=NAME)


class AspirationChangesV2(AspirationChanges):
    location = fields.Nested(LocatedPlace)


@REGISTRY.event("AspirationAmended", version=2)
class AspirationAmendedV2(AspirationAmendedV1):
    """v2: a changed location carries its region code (a supervisor fixing an unverified
    location amends it with the code chosen from the directory)."""

    changes = fields.Nested(AspirationChangesV2, required=True)
    previous = fields.Nested(AspirationChangesV2, required=True)


@REGISTRY.upcaster("AspirationAmended", from_version=1, needs="regions")
def _aspiration_amended_v1_to_v2(payload: dict, directory) -> dict:
    def located(values: dict) -> dict:
        if values.get("location") is None:
            return values
        return {**values, "location": upcast_place(directory, values["location"])}

    changes, previous = located(payload["changes"]), located(payload["previous"])
    return {**payload, "changes": changes, "previous": previous}


@REGISTRY.event("AspirationWithdrawn", version=1)
class AspirationWithdrawnV1(Schema):
    aspiration_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True, allow_none=True)
    reason = fields.String(required=True, validate=validate.OneOf(WITHDRAWAL_REASONS))
    duplicate_of = fields.UUID(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    withdrawn_by = fields.String(required=True, validate=NAME)
