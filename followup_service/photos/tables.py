"""The follow-up database's photo table (defined on the service's metadata)."""

from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, false


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
