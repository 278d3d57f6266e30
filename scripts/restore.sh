#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into empty databases, bring the schema to
# this code's head and rebuild every read model from the restored event logs; put the
# backup's photos into the photo store the environment names (checked against their
# sha256 first; a backup without DIR/photos, from before photos, restores none).
#   scripts/restore.sh DIR
# Targets: INTAKE_DATABASE_URL and FOLLOWUP_DATABASE_URL (databases are created when
# missing; an existing database must be empty). Stop the services first. The consumer
# resumes from the offsets in the backup: what Kafka still holds after that is read again
# (processed ids make it safe); see docs/OPERATIONS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/pg_urls.sh"
DIR=${1:?usage: scripts/restore.sh DIR}
PY="${PYTHON:-$ROOT/.local/venv/bin/python}"
for service in intake followup; do
  [[ -f $DIR/$service.dump ]] || { echo "restore: no $DIR/$service.dump" >&2; exit 1; }
  url=$(libpq_url "$service")
  server=${url%/*}/postgres
  name=${url##*/}
  name=${name%%\?*}
  if [[ -z $("$PG_BIN/psql" "$server" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
    "$PG_BIN/psql" "$server" -qc "CREATE DATABASE \"$name\""
  fi
  tables=$("$PG_BIN/psql" "$url" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
  (( tables == 0 )) || { echo "restore: $name is not empty ($tables tables)" >&2; exit 1; }
  "$PG_BIN/pg_restore" --no-owner --no-privileges --exit-on-error --dbname="$url" "$DIR/$service.dump"
  (cd "$ROOT" && "$PY" -m "${service}_service.cli" migrate && "$PY" -m "${service}_service.cli" rebuild-projections)
  echo "restore: $service <- $DIR/$service.dump"
done
if [[ -d $DIR/photos ]]; then
  (cd "$ROOT" && "$PY" -m shared.photos.backup load "$DIR/photos")
fi
