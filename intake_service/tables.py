"""The intake database: the event log plus read models rebuilt from it."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

from intake_service.notify_requests import define_notify_requests_table
from intake_service.photos import define_photos_table
from shared.eventstore.tables import define_event_tables
from shared.idempotency import define_idempotency_table
from shared.regions.store import define_regions_table

metadata = MetaData()
define_event_tables(metadata)
regions = define_regions_table(metadata)
# Idempotency-Key answers, written in the same transaction as the events (shared.idempotency)
idempotency_keys = define_idempotency_table(metadata)
# reporters' notify requests, sealed, until the follow-up notifier takes them
notify_requests = define_notify_requests_table(metadata)
# uploaded photos (issue 25): who uploaded which blob, which aspiration names it
photos = define_photos_table(metadata)

meetings = Table(
    "meetings",
    metadata,
    Column("meeting_id", String(36), primary_key=True),
    Column("unit", String(200), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False, index=True),
    Column("kecamatan", String(200)),
    Column("kelurahan", String(200), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("aspiration_count", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("region_code", String(13), index=True),  # the place's Kemendagri code, if matched
)

aspirations = Table(
    "aspirations",
    metadata,
    Column("aspiration_id", String(36), primary_key=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    Column("meeting_id", String(36), index=True),
    Column("unit", String(200), index=True),
    Column("category", String(60), nullable=False, index=True),
    Column("summary", String(300), nullable=False),
    Column("public_summary", String(500), nullable=False, server_default=""),
    Column("description", Text, nullable=False, default=""),
    Column("kelurahan", String(200), nullable=False, index=True),
    Column("location", JSON),
    Column("urgency", String(10), nullable=False, server_default="normal"),
    Column("confidential", Boolean, nullable=False, server_default=false()),
    Column("status", String(30), nullable=False, default="open"),
    Column("backing_count", Integer, nullable=False, server_default=text("0")),
    Column("backing_groups", JSON),
    Column("attachments", JSON),
    # How it came in: "officer", or "open311" (filed by the app named in channel_client)
    Column("channel", String(20), nullable=False, server_default="officer", index=True),
    Column("channel_client", String(200)),
    Column("attributes", JSON),  # the category's extra answers
    # Reporter and supporters' identities: never leaves the intake service unfiltered.
    Column("private", JSON),
    Column("raised_at", DateTime(timezone=True), index=True),
    Column("position", BigInteger, nullable=False, server_default=text("0")),  # recording order
    Column("version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("extra", JSON, nullable=False, default=dict),
    # The location's Kemendagri code (kelurahan/desa, or the deepest level matched) and
    # whether it reaches the kelurahan/desa: false is "lokasi belum terverifikasi".
    Column("region_code", String(13), index=True),
    Column("location_verified", Boolean, nullable=False, server_default=false(), index=True),
)

# Who saw an informant: one row per answer that showed a reporter's or supporter's name or
# contact (append-only: UPDATE, DELETE and TRUNCATE raise, a trigger of migration
# f1a9c3e5b7d2; the aspiration's supervisor reads it).
identity_views = Table(
    "identity_views",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("aspiration_id", String(36), nullable=False, index=True),
    Column("viewer", String(120), nullable=False),  # role:subject, as events record actors
    Column("unit", String(200)),
    Column("area", String(20)),
    Column("via", String(200), nullable=False),  # the route that answered
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
