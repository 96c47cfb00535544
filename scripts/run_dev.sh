#!/usr/bin/env bash
# `make run`: the development server and, beside it, the Huey consumer that issues
# certificates in the background. Ctrl+C (or either one ending) stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=${FLASK_APP:-wsgi}

$BIN/huey_consumer app.tasks.huey --workers 2 --worker-type thread --logfile instance/huey.log &
consumer=$!
$BIN/flask run --host 127.0.0.1 --port "${PORT:-5000}" &
server=$!

stop() {
  trap - INT TERM EXIT
  kill "$server" "$consumer" 2>/dev/null
  wait "$server" "$consumer" 2>/dev/null
}
trap stop INT TERM EXIT
# Whichever ends first (Ctrl+C, a crash) ends the other.
wait -n "$server" "$consumer"
