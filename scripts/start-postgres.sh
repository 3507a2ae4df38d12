#!/usr/bin/env bash
# Install (Debian's package) and start a local PostgreSQL for the store tests, then print
# the URL to export as ARXIV_DIGEST_TEST_PG. Safe to run again: every step is idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  as_root pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  as_root pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'arxiv_digest'\"" | grep -q 1 ||
  as_postgres "psql -p $port -qc \"CREATE ROLE arxiv_digest LOGIN PASSWORD 'arxiv_digest'\"" >&2
as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname = 'arxiv_digest_test'\"" | grep -q 1 ||
  as_postgres "createdb -p $port -O arxiv_digest arxiv_digest_test" >&2

echo "postgresql+psycopg://arxiv_digest:arxiv_digest@127.0.0.1:$port/arxiv_digest_test"
