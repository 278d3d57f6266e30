"""identity_views append-only, enforced: UPDATE, DELETE and TRUNCATE raise

Who saw an informant is evidence; until now only convention kept it unchanged. Nothing in
the code updates or deletes it (no retention purge, no rebuild: it is not a read model;
tests make fresh databases; restore loads into an empty one with COPY, which inserts).
A purge, if one is ever decided, belongs in its own migration that changes this one.

Revision ID: f1a9c3e5b7d2
Revises: e25a7f0c3b91
Create Date: 2026-12-06 12:50:00
"""

from alembic import op

revision = "f1a9c3e5b7d2"
down_revision = "e25a7f0c3b91"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION identity_views_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'identity_views is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER identity_views_no_update_delete BEFORE UPDATE OR DELETE "
        "ON identity_views FOR EACH ROW EXECUTE FUNCTION identity_views_append_only()"
    )
    op.execute(
        "CREATE TRIGGER identity_views_no_truncate BEFORE TRUNCATE "
        "ON identity_views FOR EACH STATEMENT EXECUTE FUNCTION identity_views_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER identity_views_no_truncate ON identity_views")
    op.execute("DROP TRIGGER identity_views_no_update_delete ON identity_views")
    op.execute("DROP FUNCTION identity_views_append_only()")
