"""Engine settings per database, and the models import list for Alembic."""

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request

from .extensions import db

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The largest id an integer primary key holds (PostgreSQL's integer); a typed-in id
# beyond it is no row of ours, and the driver would refuse to send it.
MAX_ID = 2**31 - 1


def row_id(value) -> int:
    """WTForms coerce for a posted id: a ValueError (a form error) when no row can have it."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{number} is not an id")
    return number


def configure_engine_events(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(app, engine)
        elif engine.dialect.name == "postgresql":
            _configure_postgresql(app, engine)


def _configure_sqlite(app: Flask, engine: sa.Engine) -> None:
    # pysqlite's own transaction handling starts transactions late and never takes the
    # write lock up front; we emit BEGIN ourselves so a writing request takes the lock at
    # its start and waits (busy timeout) instead of failing halfway with "database is locked".
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Read at each new connection, so a changed setting applies once the pool is renewed.
        cursor.execute(f"PRAGMA busy_timeout={int(app.config['SQLITE_BUSY_TIMEOUT_MS'])}")
        cursor.close()

    # Outside requests (CLI commands) every transaction may write; tests that keep a session
    # open beside a live server turn this off so their reads do not hold the write lock.
    immediate_outside_requests = app.config.get("SQLITE_IMMEDIATE_OUTSIDE_REQUESTS", True)

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        if has_request_context():
            immediate = request.method in WRITE_METHODS and not g.get("_reads_only")
        else:
            immediate = immediate_outside_requests
        if immediate:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def reads_only_from_now() -> None:
    """The rest of this request only reads (an error page after a failed write): on SQLite
    its transactions then begin without the write lock, so they need not wait for it."""
    g._reads_only = True


def _configure_postgresql(app: Flask, engine: sa.Engine) -> None:
    # Without lock_timeout a request stuck behind a long lock (a migration, a manual LOCK
    # TABLE, a forgotten transaction) waits forever and ties up its worker; with it the
    # request fails with LockNotAvailable and the user is asked to try again (app.errors).
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, false),"
                " set_config('statement_timeout', %s, false)",
                (
                    f"{int(app.config['DATABASE_LOCK_TIMEOUT_MS'])}ms",
                    f"{int(app.config['DATABASE_STATEMENT_TIMEOUT_MS'])}ms",
                ),
            )
        dbapi_connection.commit()


def import_models() -> None:
    """Import every model module so metadata is complete (Alembic autogenerate, create_all)."""
    from app.activities import models as _activities  # noqa: F401
    from app.attendance import models as _attendance  # noqa: F401
    from app.audit import models as _audit  # noqa: F401
    from app.auth import models as _auth  # noqa: F401
    from app.certificates import models as _certificates  # noqa: F401
    from app.courses import models as _courses  # noqa: F401
    from app.enrollment import models as _enrollment  # noqa: F401
    from app.observatory import models as _observatory  # noqa: F401
    from app.people import models as _people  # noqa: F401
    from app.places import models as _places  # noqa: F401
    from app.privacy import models as _privacy  # noqa: F401
    from app.programmes import models as _programmes  # noqa: F401
    from app.quizzes import models as _quizzes  # noqa: F401
    from app.reports import models as _reports  # noqa: F401
    from app.surveys import models as _surveys  # noqa: F401
