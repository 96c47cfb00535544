"""Gunicorn settings for Akademia (docs/deploy.md).

    gunicorn -c deploy/gunicorn.conf.py          # serves wsgi:app

Run from the repository's root (systemd: WorkingDirectory). Each value below can be changed
from the environment without editing this file; the app's own settings come from the
environment too (app/config.py).
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "wsgi:app"
proc_name = "akademia"

# Loopback: nginx on the same machine is the only client. A load balancer that talks to
# gunicorn directly needs GUNICORN_BIND=0.0.0.0:8000 (and PROXY_COUNT set to match).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Processes for CPU (Argon2 on sign-in, PDF reading, templates), threads for the time
# spent waiting on PostgreSQL and Redis. Each process holds its own database pool
# (SQLAlchemy default 5 + 10 overflow): workers x machines x 15 must stay below
# PostgreSQL's max_connections.
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"

# A request slower than this is killed and its worker replaced. Certificates and bulk
# files are made by the queue's consumer, not in requests, so a minute is generous.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On stop or reload (SIGTERM/SIGHUP) a worker finishes the requests it holds for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps upstream connections open (keepalive in deploy/nginx/akademia.conf).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Replace each worker after this many requests (with jitter, so not all at once): bounds
# any slow growth of memory in long-lived processes. 0 turns it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Each worker builds its own app: the database pool and Redis connections are not shared
# across fork().
preload_app = False
# Gunicorn 25+ opens a control socket in the user's home; systemd's signals (stop, reload)
# are all we use, and two instances on one machine would fight over the path.
control_socket_disable = True
# Worker heartbeats in memory, not on a disk that may stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# No access log: the app writes one line per request itself (app/logs.py), with the route
# instead of the raw path (no tokens, no query strings) and the request id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

_log_format = os.environ.get("LOG_FORMAT") or (
    "json" if os.environ.get("AKADEMIA_ENV") == "production" else "text"
)
if _log_format.strip().lower() == "json":
    # Gunicorn's own lines (boot, worker timeouts) in the app's JSON format, one stream.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["stderr"],
                "propagate": False,
            },
            # A logging config turns gunicorn's access log back on; its lines hold the raw
            # path and query string, so they are dropped here.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }
