#!/usr/bin/env bash
# Starts a throwaway Redis on loopback for the tests: `start DIR PORT` / `stop DIR`.
# Debian's redis-server, daemonized, nothing written to disk; prints its redis:// URL.
set -euo pipefail
action=$1; dir=$2; port=${3:-6389}
case $action in
  start)
    mkdir -p "$dir"
    # An empty "save" and appendonly off: the tests need no persistence.
    /usr/bin/redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
      --save '' --appendonly no >/dev/null
    for _ in $(seq 1 100); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis://127.0.0.1:$port/0"
        exit 0
      fi
      sleep 0.1
    done
    echo "Redis did not answer on 127.0.0.1:$port (see $dir/redis.log)" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/redis.pid" ]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/redis.pid"
    fi
    ;;
esac
