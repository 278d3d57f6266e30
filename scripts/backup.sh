#!/usr/bin/env bash
# Back up both services' databases with pg_dump (custom format, one file each) and the
# photo store (every blob into DIR/photos; shared/photos/backup.py).
#   scripts/backup.sh DIR
# Reads INTAKE_DATABASE_URL and FOLLOWUP_DATABASE_URL (as the services do; default: the
# databases run.sh makes on PG_PORT). The event log is the source of truth; the read
# models come along so a restore serves at once, and restore.sh rebuilds them anyway.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/pg_urls.sh"
DIR=${1:?usage: scripts/backup.sh DIR}
PY="${PYTHON:-$ROOT/.local/venv/bin/python}"
mkdir -p "$DIR"
for service in intake followup; do
  url=$(libpq_url "$service")
  "$PG_BIN/pg_dump" --format=custom --no-owner --no-privileges --file="$DIR/$service.dump" "$url"
  echo "backup: $service -> $DIR/$service.dump ($(du -h "$DIR/$service.dump" | cut -f1))"
done
# The photo store the services use (PHOTO_STORE, PHOTO_DIR, PHOTO_S3_*): after the
# databases, so every photo a dumped row names is in it (blobs are never rewritten).
(cd "$ROOT" && "$PY" -m shared.photos.backup dump "$DIR/photos")
date -u +%Y-%m-%dT%H:%M:%SZ >"$DIR/taken-at"
