"""regions table: the official region hierarchy, loaded from the vendored dataset

deploy/regions/idn-area-data-4.0.1.csv.gz (see deploy/regions/SOURCE.md): 91,599 rows.

Revision ID: b2d4f6a81c32
Revises: f6d2ad0271cd
Create Date: 2026-11-25
"""

from shared.regions.store import migrate_down, migrate_up

revision = "b2d4f6a81c32"
down_revision = "f6d2ad0271cd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate_up()


def downgrade() -> None:
    migrate_down()
