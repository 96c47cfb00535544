"""The task queue: Huey, with SQLite storage by default and Redis when REDIS_URL is set.

The consumer runs beside the web server (`make run` starts it): `huey_consumer app.tasks.huey`.
Several machines can share the work when they share a Redis (REDIS_URL). Tests, and apps
created with HUEY_IMMEDIATE, run tasks in the calling process instead (`configure`).

Tasks receive ids, never model instances, and open their own app context with
`task_context()`: a fresh database session that they commit themselves.
"""

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey
from redis import ConnectionPool

NAME = "akademia"
INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _make_huey():
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        # A Redis that does not answer fails fast instead of hanging a request (or /readyz).
        pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=5)
        return RedisHuey(NAME, connection_pool=pool)
    path = Path(os.environ.get("HUEY_SQLITE_PATH") or INSTANCE / "huey.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, filename=str(path))


huey = _make_huey()


def configure(app: Flask) -> None:
    """Immediate mode for tests and HUEY_IMMEDIATE: tasks run where they are enqueued."""
    if app.testing or app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True


_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()


def _app() -> Flask:
    """The app of the calling process, or (in a consumer) one made on first use."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    with _worker_app_lock:
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        return _worker_app


@contextmanager
def task_context():
    """A new app context, hence a new database session, removed when the task ends."""
    with _app().app_context() as context:
        yield context.app
