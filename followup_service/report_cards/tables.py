"""The report cards' tables, in the follow-up database's metadata.

`report_case_facts` is a projection of the case events (one row per case, what the
figures need: `domain.CaseFacts` plus the area codes), rebuilt with the other read
models. `report_cards` holds the published figures per area code (NATIONAL, province,
kabupaten/kota, kecamatan), already suppressed for small numbers, as the worker last
computed them.
"""

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, String, Table

from followup_service.tables import metadata

report_case_facts = Table(
    "report_case_facts",
    metadata,
    Column("case_id", String(60), primary_key=True),
    Column("tracking_code", String(16), nullable=False),
    Column("category", String(60), nullable=False),
    Column("region", String(200), nullable=False),
    Column("province", String(2)),
    Column("kabupaten", String(5)),
    Column("kecamatan", String(8)),
    Column("agency_id", String(120)),
    Column("agency_name", String(200)),
    Column("sensitive", Boolean, nullable=False),
    Column("status", String(40), nullable=False),
    Column("outcome", String(40)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("routed_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("ack_due_at", DateTime(timezone=True)),
    Column("ack_breached", Boolean, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("disputed_or_reopened", Boolean, nullable=False),
    Column("next_deadline_at", DateTime(timezone=True)),
    Column("ack_working_days", Float),
    Column("resolve_working_days", Float),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# the per-case open data, paged by area in opening order
Index(
    "ix_report_case_facts_kabupaten", report_case_facts.c.kabupaten, report_case_facts.c.opened_at
)
Index("ix_report_case_facts_province", report_case_facts.c.province, report_case_facts.c.opened_at)
Index(
    "ix_report_case_facts_kecamatan", report_case_facts.c.kecamatan, report_case_facts.c.opened_at
)
Index("ix_report_case_facts_updated_at", report_case_facts.c.updated_at)  # "changed since?"

report_cards = Table(
    "report_cards",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("card", JSON, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)
