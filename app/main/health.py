"""What the load balancer asks: is this process alive (/healthz), may it take traffic (/readyz)."""

import logging

import sqlalchemy as sa
from huey.storage import RedisStorage

from app import queue
from app.extensions import db

log = logging.getLogger(__name__)


def check_database() -> None:
    # Its own connection, outside the request's session: a failure leaves nothing to roll back.
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def check_queue() -> None:
    """Redis (REDIS_URL: the queue and the rate limits) answers PING; else the Huey SQLite
    file answers a query on its task table."""
    storage = queue.huey.storage
    if isinstance(storage, RedisStorage):
        storage.conn.ping()
    else:
        storage.queue_size()


CHECKS = {"database": check_database, "queue": check_queue}


def readiness() -> dict[str, str]:
    """Each check's outcome: "ok", or "error: <exception class>" (the detail goes to the log,
    not to whoever asks)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            log.warning("Readiness check %s failed: %r", name, error)
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results
