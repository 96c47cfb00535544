"""Logs: one line per request and per application record, each carrying its request id.

LOG_FORMAT=json (the default in production) writes JSON lines to stderr; text is for people
reading a terminal. What a request line holds is chosen so that nothing secret or personal
reaches the log: the route's rule ("/auth/reset-password/<token>"), never the path or the
query string; the user's id, never an e-mail or a name; never a form field.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# What nginx ($request_id), load balancers and uuid4 produce; anything else is replaced, so
# a client cannot put spaces, quotes or a megabyte into our log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
# A safety net for exception messages (a database's "Key (email)=(...) already exists").
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

request_log = logging.getLogger("akademia.request")


class StderrHandler(logging.StreamHandler):
    """Writes to the current sys.stderr, not the one at start-up (pytest swaps it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request it was logged in (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["traceback"] = _scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return _scrub(super().format(record))


def _scrub(text: str) -> str:
    return _EMAIL.sub("<email>", text)


def configure(log_format: str, level: str = "INFO") -> logging.Handler:
    """One handler on the root logger, so the app's, SQLAlchemy's and Huey's records share
    the format; calling it again (another app in the same process) replaces it."""
    from flask.logging import default_handler

    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler = StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    # In a Huey consumer, huey_consumer gave the "huey" logger its own handler before the
    # app existed: same format there, and no second copy of each line through the root.
    huey_log = logging.getLogger("huey")
    if huey_log.handlers:
        for huey_handler in huey_log.handlers:
            huey_handler.setFormatter(formatter)
        huey_log.propagate = False
    root.setLevel(level.upper())
    # Flask's own handler on the app logger would print each error a second time.
    logging.getLogger("app").removeHandler(default_handler)
    if log_format == "json":
        # The development server's access line holds the raw path and query string.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return handler


def init_app(app: Flask) -> None:
    """Request ids and request lines for every app; a log handler unless tests capture logs
    themselves (a test that sets LOG_FORMAT gets one)."""
    log_format = app.config.get("LOG_FORMAT")
    if log_format or not app.testing:
        production = app.config.get("ENV_NAME") == "production"
        configure(
            log_format or ("json" if production else "text"), app.config.get("LOG_LEVEL", "INFO")
        )
    app.before_request(_start_request)
    app.after_request(_log_request)

    def log_exception(exc_info) -> None:
        # Flask's own message names request.path, which may hold a token.
        app.logger.error(
            "Unhandled exception in %s [%s]",
            request.endpoint or "(no route)",
            request.method,
            exc_info=exc_info,
        )

    app.log_exception = log_exception


def quiet(view):
    """Request lines for this view at DEBUG when it succeeds: health checks every few
    seconds would drown the rest."""
    view.quiet_request_log = True
    return view


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _request_id(request.headers.get(REQUEST_ID_HEADER))


def _request_id(incoming: str | None) -> str:
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _log_request(response):
    if "request_id" not in g:  # refused by a before_request hook that ran before ours
        _start_request()
    request_id = g.request_id
    started = g.get("request_started")
    rule = request.url_rule
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    quiet_view = getattr(view, "quiet_request_log", False) and response.status_code < 400
    fields = {
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": _user_id(),
    }
    request_log.log(
        logging.DEBUG if quiet_view else logging.INFO,
        "%s %s %s",
        fields["method"],
        fields["route"] or "(no route)",
        fields["status"],
        extra={"fields": fields, "request_id": request_id},
    )
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _user_id() -> int | None:
    """The signed-in user's id if this request loaded the user; never loads it (after a
    writing request that would open another transaction)."""
    user = g.get("_login_user")
    if user is None or getattr(user, "is_anonymous", True):
        return None
    identity = sa.inspect(user).identity  # the key SQLAlchemy holds: no query
    return identity[0] if identity else None
