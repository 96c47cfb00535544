#!/usr/bin/env bash
# The whole suite: once on SQLite, once on a PostgreSQL started on loopback for the run.
# One Redis, also on loopback, serves both passes (TEST_REDIS_URL): the multi-server tests
# share it for rate limits and the task queue. Ports: AKADEMIA_PG_PORT, AKADEMIA_REDIS_PORT.
set -uo pipefail
cd "$(dirname "$0")/.."
pg_dir=$(mktemp -d /tmp/akademia-pg.XXXXXX)
redis_dir=$(mktemp -d /tmp/akademia-redis.XXXXXX)
trap 'bash scripts/pg_server.sh stop "$pg_dir"; rm -rf "$pg_dir"; bash scripts/redis_server.sh stop "$redis_dir"; rm -rf "$redis_dir"' EXIT

redis_url=$(bash scripts/redis_server.sh start "$redis_dir" "${AKADEMIA_REDIS_PORT:-6389}") || { echo "Redis did not start"; exit 1; }
export TEST_REDIS_URL=$redis_url

echo "== SQLite =="
.venv/bin/pytest "$@"
sqlite_status=$?

echo "== PostgreSQL =="
url=$(bash scripts/pg_server.sh start "$pg_dir" "${AKADEMIA_PG_PORT:-54329}") || { echo "PostgreSQL did not start"; exit 1; }
TEST_DATABASE_URL=$url .venv/bin/pytest "$@"
pg_status=$?

echo "SQLite suite exit $sqlite_status, PostgreSQL suite exit $pg_status"
[ $sqlite_status -eq 0 ] && [ $pg_status -eq 0 ]
