"""Domain errors raised by services, and the HTTP error pages."""

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _

from .database import reads_only_from_now
from .extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# PostgreSQL: lock_timeout, statement_timeout, deadlock, serialization failure.
BUSY_SQLSTATES = {"55P03", "57014", "40P01", "40001"}
# SQLite: SQLITE_BUSY and SQLITE_LOCKED (primary codes; extended codes carry them in the low byte).
BUSY_SQLITE_CODES = {5, 6}


class DomainError(Exception):
    """A business rule the user broke; the message tells them what to do instead."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The user may not do this to this object."""


class Conflict(DomainError):
    """The request clashes with the current state (full course, duplicate, stale form)."""


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _page(code: int, title: str, message: str, headers: dict | None = None):
    if _wants_json() or (code == 503 and request.is_json):  # a script sent JSON: it reads JSON
        return jsonify(error=title, message=message), code, headers or {}
    page = render_template("errors/error.html", code=code, title=title, message=message)
    return page, code, headers or {}


def is_busy(error: sa.exc.OperationalError) -> bool:
    """A lock or timeout that another try will likely get past, as opposed to a broken
    database (unreachable server, missing table, full disk)."""
    original = error.orig
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in BUSY_SQLITE_CODES


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(error):
        return _page(400, _("Bad request"), getattr(error, "description", "") or "")

    @app.errorhandler(403)
    def forbidden(error):
        return _page(403, _("Not allowed"), _("You do not have permission to open this page."))

    @app.errorhandler(404)
    def not_found(error):
        return _page(404, _("Page not found"), _("The page you asked for does not exist."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _page(405, _("Method not allowed"), _("This address does not accept that request."))

    @app.errorhandler(413)
    def too_large(error):
        return _page(413, _("File too large"), _("The upload is larger than the limit of 5 MB."))

    @app.errorhandler(429)
    def too_many(error):
        return _page(
            429, _("Too many attempts"), _("Please wait a few minutes before trying again.")
        )

    @app.errorhandler(sa.exc.OperationalError)
    def database_busy(error):
        # The whole transaction is undone, so what the user sent can simply be sent again.
        db.session.rollback()
        if not is_busy(error):
            raise error  # handled as any other failure: logged, then the 500 page
        # The URL rule, not the path: paths can carry tokens and certificate codes.
        rule = request.url_rule.rule if request.url_rule else "?"
        log.warning("database busy on %s %s: %s", request.method, rule, error.orig)
        reads_only_from_now()
        title = _("Please try again")
        message = _("The server is busy and nothing was saved. Please try again in a moment.")
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        try:
            return _page(503, title, message, headers)
        except sa.exc.OperationalError:
            # The page itself could not read what it shows (who is signed in): say it plainly.
            db.session.rollback()
            return f"{title}. {message}", 503, {**headers, "Content-Type": "text/plain"}

    @app.errorhandler(500)
    def server_error(error):
        # The transaction that failed must not leak into the next request on this connection.
        db.session.rollback()
        return _page(
            500, _("Something went wrong"), _("The error was logged. Please try again later.")
        )


def show_error(form, error: DomainError, default: str) -> None:
    """Put a broken rule's message next to the field it is about; the form keeps what was typed."""
    field = getattr(form, error.field or default, None) or getattr(form, default)
    field.errors = [*field.errors, error.message]
