"""The follow-up database: case event log, consumer tracking, and read models."""

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from shared.eventstore.tables import define_event_tables

metadata = MetaData()
define_event_tables(metadata)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(60), primary_key=True),
    Column("aspiration_id", String(36), nullable=False, unique=True),
    Column("tracking_code", String(16), nullable=False, unique=True),
    Column("category", String(60), nullable=False, index=True),
    Column("kelurahan", String(200), nullable=False, index=True),
    Column("status", String(40), nullable=False, index=True),
    Column("summary", String(300), nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
)
