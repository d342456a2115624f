#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages, start it, create a test database
# and user. Everything goes to stderr except the last line on stdout: a
# SQLAlchemy URL for the database (e.g. for CASELENS_TEST_POSTGRES_URL).
set -euo pipefail

DB_NAME="${CASELENS_PG_DB:-caselens_test}"
DB_USER="${CASELENS_PG_USER:-caselens}"
DB_PASSWORD="${CASELENS_PG_PASSWORD:-caselens}"
DB_PORT="${CASELENS_PG_PORT:-5432}"

{
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y postgresql
  fi

  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main --port "$DB_PORT"
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
    pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$DB_PORT" && break
    sleep 1
  done

  as_postgres() { su postgres -c "$*"; }
  if ! as_postgres "psql -p $DB_PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"" | grep -q 1; then
    as_postgres "psql -p $DB_PORT -v ON_ERROR_STOP=1 -c \"CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD' CREATEDB\""
  fi
  if ! as_postgres "psql -p $DB_PORT -tAc \"SELECT 1 FROM pg_database WHERE datname='$DB_NAME'\"" | grep -q 1; then
    as_postgres "createdb -p $DB_PORT -O $DB_USER $DB_NAME"
  fi
} 1>&2

echo "postgresql+psycopg://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${DB_PORT}/${DB_NAME}"
