"""report cards (issue 26): report_case_facts projection and the published report_cards

Revision ID: f26b0c4d8e19
Revises: c24a6e1f3b57
Create Date: 2026-12-06 10:55:00

The facts are filled by the next `rebuild-projections` (cases opened before this
revision have no row until then; new case events write theirs).
"""

import sqlalchemy as sa
from alembic import op

revision = "f26b0c4d8e19"
down_revision = "c24a6e1f3b57"
branch_labels = None
depends_on = None

_AREA_INDEXES = ("province", "kabupaten", "kecamatan")


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "report_case_facts",
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("province", sa.String(length=2)),
        sa.Column("kabupaten", sa.String(length=5)),
        sa.Column("kecamatan", sa.String(length=8)),
        sa.Column("agency_id", sa.String(length=120)),
        sa.Column("agency_name", sa.String(length=200)),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=40)),
        sa.Column("opened_at", ts, nullable=False),
        sa.Column("routed_at", ts),
        sa.Column("acknowledged_at", ts),
        sa.Column("ack_due_at", ts),
        sa.Column("ack_breached", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", ts),
        sa.Column("closed_at", ts),
        sa.Column("disputed_or_reopened", sa.Boolean(), nullable=False),
        sa.Column("next_deadline_at", ts),
        sa.Column("ack_working_days", sa.Float()),
        sa.Column("resolve_working_days", sa.Float()),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    for level in _AREA_INDEXES:
        op.create_index(f"ix_report_case_facts_{level}", "report_case_facts", [level, "opened_at"])
    op.create_index("ix_report_case_facts_updated_at", "report_case_facts", ["updated_at"])
    op.create_table(
        "report_cards",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("computed_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("report_cards")
    op.drop_index("ix_report_case_facts_updated_at", table_name="report_case_facts")
    for level in _AREA_INDEXES:
        op.drop_index(f"ix_report_case_facts_{level}", table_name="report_case_facts")
    op.drop_table("report_case_facts")
