#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on loopback for the tests: `start DIR PORT` / `stop DIR`.
set -euo pipefail
action=$1; dir=$2; port=${3:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as_owner() {
  if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
case $action in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = "0" ] && chown postgres "$dir"
    as_owner "$bin/initdb -D '$dir/data' -U akademia --auth=trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log'"
    as_owner "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null"
    as_owner "$bin/createdb -h 127.0.0.1 -p $port -U akademia akademia_test"
    echo "postgresql+psycopg://akademia@127.0.0.1:$port/akademia_test"
    ;;
  stop)
    as_owner "$bin/pg_ctl -D '$dir/data' -m fast stop >/dev/null" || true
    ;;
esac
