# Sourced by backup.sh and restore.sh: the PostgreSQL client binaries and each service's
# database as a libpq URL (SQLAlchemy's "+psycopg" dialect suffix removed).
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
[[ -x $PG_BIN/pg_dump ]] || { echo "no PostgreSQL client binaries under /usr/lib/postgresql" >&2; exit 1; }
libpq_url() {
  local var default
  var="$(echo "$1" | tr '[:lower:]' '[:upper:]')_DATABASE_URL"
  default="postgresql+psycopg://postgres@127.0.0.1:${PG_PORT:-15432}/kawal_$1"
  local url=${!var:-${DATABASE_URL:-$default}}
  echo "${url/+psycopg/}"
}
