"""Developer tool: autogenerate a migration for a service from its table metadata.

python -m shared.make_migration intake_service "add meetings"
"""

import os
import sys
import tempfile

from alembic import command

from shared.config import REPO_ROOT
from shared.migrations import alembic_config


def main() -> None:
    service, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        cfg = alembic_config(os.path.join(REPO_ROOT, service), url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    main()
