"""Developer tool: autogenerate a migration for a service from its table metadata.

python -m shared.make_migration intake_service "add meetings"

Needs a PostgreSQL server to diff against: DATABASE_ADMIN_URL (printed by
`eval "$(deploy/stack.sh up)"`). A scratch database is created there, migrated to
head, compared with the service's tables.py, and dropped.
"""

import os
import sys
import uuid

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.config import REPO_ROOT
from shared.migrations import alembic_config


def main() -> None:
    service, message = sys.argv[1], sys.argv[2]
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    if not admin_url:
        sys.exit('DATABASE_ADMIN_URL is not set: run `eval "$(deploy/stack.sh up)"` first')
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        cfg = alembic_config(os.path.join(REPO_ROOT, service), url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
