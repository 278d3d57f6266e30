"""accounts.area: a supervisor's area, an admin's national area (issue 27)

Accounts made before have none (their events carry no area): a supervisor bound to a
unit keeps that unit's area; one with neither sees no case until an admin sets it.

Revision ID: c9e1a3b5d724
Revises: b8d2f4a6c913
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c9e1a3b5d724"
down_revision = "b8d2f4a6c913"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("area", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "area")
