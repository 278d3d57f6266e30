from followup_service.tables import metadata
from shared.migrations import run_env

run_env(metadata)
