"""regions table: the official region hierarchy, loaded from the vendored dataset

deploy/regions/idn-area-data-4.0.1.csv.gz (see deploy/regions/SOURCE.md): 91,599 rows.

Revision ID: a1c3e5f70b21
Revises: fbccb48606b0
Create Date: 2026-11-25
"""

from shared.regions.store import migrate_down, migrate_up

revision = "a1c3e5f70b21"
down_revision = "fbccb48606b0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate_up()


def downgrade() -> None:
    migrate_down()
