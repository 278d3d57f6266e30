import followup_service.report_cards.tables  # noqa: F401  (its tables join the metadata)
from followup_service.tables import metadata
from shared.migrations import run_env

run_env(metadata)
