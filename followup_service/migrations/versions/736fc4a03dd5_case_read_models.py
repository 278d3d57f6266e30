"""case read models

The `cases` read model is rebuilt rather than altered: it is a projection, so after
upgrading run `python -m followup_service.cli rebuild-projections`.

Revision ID: 736fc4a03dd5
Revises: 496ea6e17bdf
Create Date: 2026-11-23 09:31:07.535571
"""

import sqlalchemy as sa
from alembic import op

revision = "736fc4a03dd5"
down_revision = "496ea6e17bdf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("cases")
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("parent_id", sa.String(length=60), nullable=True),
        sa.Column("aspiration_id", sa.String(length=36), nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("kecamatan", sa.String(length=200), nullable=False),
        sa.Column("kelurahan", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("agency_id", sa.String(length=120), nullable=True),
        sa.Column("agency_name", sa.String(length=200), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("rule_version", sa.String(length=40), nullable=True),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verify_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("public_summary", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_view", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("tracking_code"),
    )
    for name, columns in {
        "ix_cases_parent_id": ["parent_id"],
        "ix_cases_aspiration_id": ["aspiration_id"],
        "ix_cases_category": ["category"],
        "ix_cases_kelurahan": ["kelurahan"],
        "ix_cases_unit": ["unit"],
        "ix_cases_status": ["status"],
        "ix_cases_agency_id": ["agency_id"],
        "ix_cases_next_deadline_at": ["next_deadline_at"],
        "ix_cases_opened_at": ["opened_at"],
        "ix_cases_agency_status": ["agency_id", "status"],
    }.items():
        op.create_index(name, "cases", columns, unique=False)
    op.create_table(
        "case_timeline",
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("case_timeline")
    op.drop_table("cases")
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("aspiration_id", sa.String(length=36), nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("kelurahan", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("aspiration_id"),
        sa.UniqueConstraint("tracking_code"),
    )
