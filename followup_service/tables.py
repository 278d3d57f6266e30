"""The follow-up database: case event log, consumer tracking, and read models.

`cases` and `case_timeline` are projections of the case events: `cli.py
rebuild-projections` replays them from the event store into fresh tables and swaps
those in (shared/table_swap.py).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

from followup_service.accounts.tables import define_account_tables
from followup_service.notifications.tables import define_notification_tables
from followup_service.photos.tables import (
    define_case_photos_table,
    define_photo_blob_deletions_table,
)
from shared.eventstore.tables import define_event_tables
from shared.regions.store import define_regions_table

metadata = MetaData()
define_event_tables(metadata)
regions = define_regions_table(metadata)
# residents' subscriptions (sealed contacts) and the notification outbox (issue 24)
notification_tables = define_notification_tables(metadata)
# the photos an aspiration names (issue 25): references from intake's events, never bytes
case_photos = define_case_photos_table(metadata)
# blobs a photo removal still has to delete from the store (a queue, not a read model)
photo_blob_deletions = define_photo_blob_deletions_table(metadata)

# One row per case: the case list, per-agency queues, the deadline worker's agenda
# (next_deadline_at) and the public tracking view (public_view).
cases = Table(
    "cases",
    metadata,
    Column("case_id", String(60), primary_key=True),
    Column("parent_id", String(60), index=True),
    Column("aspiration_id", String(36), nullable=False, index=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    Column("category", String(60), nullable=False, index=True),
    Column("region", String(200), nullable=False),
    Column("kecamatan", String(200), nullable=False),
    Column("kelurahan", String(200), nullable=False, index=True),
    Column("unit", String(200), nullable=False, index=True),
    Column("urgency", String(10), nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("status", String(40), nullable=False, index=True),
    Column("outcome", String(40)),
    Column("agency_id", String(120), index=True),
    Column("agency_name", String(200)),
    Column("level", Integer, nullable=False),
    Column("rule_version", String(40)),
    Column("acknowledge_by", DateTime(timezone=True)),
    Column("resolve_by", DateTime(timezone=True)),
    Column("verify_by", DateTime(timezone=True)),
    Column("next_deadline_at", DateTime(timezone=True), index=True),
    Column("escalations", Integer, nullable=False),
    Column("public_summary", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("public_view", JSON, nullable=False),
    # Last, as the migration added it (bulk writes map columns by position).
    # region is a kelurahan/desa code: false is "lokasi belum terverifikasi" (supervisors fix
    # it by amending the aspiration's location)
    Column("location_verified", Boolean, nullable=False, server_default=false(), index=True),
)

# Every case event, for the case detail's full timeline.
case_timeline = Table(
    "case_timeline",
    metadata,
    Column("case_id", String(60), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(120)),
    Column("public", Boolean, nullable=False),
    Column("payload", JSON, nullable=False),
)

Index("ix_cases_agency_status", cases.c.agency_id, cases.c.status)

# Staff accounts, their credentials, revocations and integration tokens (the accounts
# package owns their definitions).
account_tables = define_account_tables(metadata)
accounts = account_tables["accounts"]
account_credentials = account_tables["account_credentials"]
revoked_credentials = account_tables["revoked_credentials"]
integration_tokens = account_tables["integration_tokens"]

# Every read of case content by an admin (possible only with the national area: shared.
# need_to_know): append-only, never updated or deleted, kept through rebuilds.
admin_case_views = Table(
    "admin_case_views",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", String(60), nullable=False, index=True),
    Column("viewer", String(120), nullable=False),
    Column("via", String(200), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
