"""The intake database: the event log plus read models rebuilt from it."""

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text

from shared.eventstore.tables import define_event_tables

metadata = MetaData()
define_event_tables(metadata)

aspirations = Table(
    "aspirations",
    metadata,
    Column("aspiration_id", String(36), primary_key=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    Column("category", String(60), nullable=False, index=True),
    Column("summary", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("kelurahan", String(200), nullable=False, index=True),
    Column("status", String(30), nullable=False, default="recorded"),
    Column("version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("extra", JSON, nullable=False, default=dict),
)
