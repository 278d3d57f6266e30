"""The follow-up database's photo tables (defined on the service's metadata)."""

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, false


def define_case_photos_table(metadata: MetaData) -> Table:
    """The read model of the cases' PhotoAttached/PhotoRemoved events (rebuilt by replay)."""
    return Table(
        "case_photos",
        metadata,
        Column("photo_id", String(36), primary_key=True),
        Column("case_id", String(60), nullable=False, index=True),
        Column("sha256", String(64), nullable=False),
        Column("public", Boolean, nullable=False, server_default=false()),
        Column("kind", String(10), nullable=False, server_default="before"),  # before | after
        Column("added_at", DateTime(timezone=True), nullable=False),
        Column("agency_id", String(120)),  # the agency whose staff attached a proof photo
        Column("added_by", String(120)),  # the event's actor
    )


def define_photo_blob_deletions_table(metadata: MetaData) -> Table:
    """Blobs a removal left to delete: written in the removal's transaction, deleted from
    the store right after the commit or, when the store was away, by the worker later. Not
    a read model (a queue of work outside the database): a rebuild leaves it alone."""
    return Table(
        "photo_blob_deletions",
        metadata,
        Column("sha256", String(64), primary_key=True),
        Column("requested_at", DateTime(timezone=True), nullable=False),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
        Column("last_error", String(200)),
    )
