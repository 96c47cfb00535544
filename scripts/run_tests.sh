#!/usr/bin/env bash
# The whole suite: once on SQLite, once on a PostgreSQL started on loopback for the run.
set -uo pipefail
cd "$(dirname "$0")/.."
pg_dir=$(mktemp -d /tmp/akademia-pg.XXXXXX)
trap 'bash scripts/pg_server.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT

echo "== SQLite =="
.venv/bin/pytest "$@"
sqlite_status=$?

echo "== PostgreSQL =="
url=$(bash scripts/pg_server.sh start "$pg_dir" "${AKADEMIA_PG_PORT:-54329}") || { echo "PostgreSQL did not start"; exit 1; }
TEST_DATABASE_URL=$url .venv/bin/pytest "$@"
pg_status=$?

echo "SQLite suite exit $sqlite_status, PostgreSQL suite exit $pg_status"
[ $sqlite_status -eq 0 ] && [ $pg_status -eq 0 ]
