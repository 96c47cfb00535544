"""A second app on the test database, for settings the session's app does not have."""

import logging
from contextlib import contextmanager

from app import create_app
from app.extensions import db


@contextmanager
def second_app(app, **settings):
    """An app sharing the test database, with `settings` on top; the root logger's handlers
    are put back afterwards (LOG_FORMAT installs one)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("werkzeug").level
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "memory",
        "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False,
        "SERVER_NAME": "localhost",
        "SECRET_KEY": app.config["SECRET_KEY"],
        **settings,
    }
    other = create_app(config)
    other.instance_path = app.instance_path
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("werkzeug").setLevel(saved[2])
