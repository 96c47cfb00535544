"""Roll-call, offline sync, walk-ins and QR self check-in.

The roll-call page works as plain forms; rollcall.js turns it into a one-tap page that keeps
every mark in the browser (IndexedDB) until the sync API acknowledges it.
"""

import hashlib
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import segno
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.i18n import current_locale
from app.people.models import Person, Sex
from app.people.queries import PeopleFilters, people_query
from app.permissions import can_teach_run
from app.places.queries import municipality_choices
from app.security import login_required, public, role_required
from app.timeutil import utcnow

from . import queries, rollcall, services, sync
from .forms import AddWalkInForm, CheckInForm, MarkForm, NewWalkInForm, WalkInSearchForm
from .models import ATTENDANCE_LABELS, AttendanceStatus, Channel, CourseSession

bp = Blueprint("attendance", __name__)
log = logging.getLogger(__name__)

# How long the learner has between opening the scanned link and pressing "confirm".
CHECK_IN_CONFIRM_SECONDS = 120
QR_POLL_MS = 3000
RETRY_AFTER_SECONDS = 2


@bp.errorhandler(sa.exc.OperationalError)
def database_busy(error):
    """A locked or unreachable database: ask to retry; the script keeps its marks meanwhile."""
    db.session.rollback()
    log.warning("attendance: database busy: %s", error.orig)
    message = _("The server is busy. Nothing was lost: try again in a moment.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/") or request.is_json:
        return jsonify(error="busy", message=message, retry=True), 503, headers
    title = _("Please try again")
    return (
        render_template("errors/error.html", code=503, title=title, message=message),
        503,
        headers,
    )


def _session_to_teach(session_id: int) -> CourseSession:
    session = queries.load_session(session_id) or abort(404)
    if not can_teach_run(current_user, session.run):
        abort(403)
    return session


def _rollcall_url(session_id: int, person_id: int | None = None) -> str:
    anchor = f"person-{person_id}" if person_id else None
    return url_for("attendance.rollcall", session_id=session_id, _anchor=anchor)


def _render_rollcall(session: CourseSession, new_person: NewWalkInForm | None = None, code=200):
    search = WalkInSearchForm(request.args)
    search.validate()
    q = search.q.data if not search.q.errors else ""
    candidates = rollcall.walk_in_candidates(
        q=q, programme_ids=rollcall.searchable_programme_ids(current_user, session), session=session
    )
    if new_person is None:
        new_person = NewWalkInForm(formdata=None)
    new_person.municipality_id.choices = [("", _("Not known"))] + municipality_choices()
    page = rollcall.rollcall(session)
    return render_template(
        "attendance/rollcall.html",
        session=session,
        page=page,
        labels=rollcall.status_labels(),
        search=search,
        searched=bool(q and len(q.strip()) >= rollcall.SEARCH_MIN_CHARS),
        candidates=[rollcall.candidate_json(p) for p in candidates],
        new_person=new_person,
        config=_script_config(session),
    ), code


def _script_config(session: CourseSession) -> dict:
    """What rollcall.js needs: URLs, the CSRF token, and its messages in the user's language."""
    return {
        "session_id": session.id,
        "user_id": current_user.id,
        "cancelled": session.cancelled,
        "csrf": generate_csrf(),
        "sync_url": url_for("attendance.sync"),
        "state_url": url_for("attendance.session_state", session_id=session.id),
        "search_url": url_for("attendance.people_search", session_id=session.id),
        "add_url": url_for("attendance.add_walk_in", session_id=session.id),
        "sw_url": url_for("attendance.service_worker"),
        "sw_scope": url_for("main.home"),
        "locale": current_locale().replace("_", "-"),
        "labels": rollcall.status_labels(),
        "text": rollcall.script_text(),
    }


@bp.route("/sessions/<int:session_id>/roll-call", endpoint="rollcall")
@role_required(Role.TRAINER, Role.MANAGER)
def rollcall_page(session_id):
    return _render_rollcall(_session_to_teach(session_id))


@bp.route("/sessions/<int:session_id>/roll-call/mark", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def mark(session_id):
    """The no-JavaScript path: one row's form; the page comes back with the mark shown."""
    session = _session_to_teach(session_id)
    form = MarkForm()
    if not form.validate_on_submit():
        flash(_("Press present, late, excused or absent for the person."), "error")
        return redirect(_rollcall_url(session.id, form.person_id.data))
    try:
        result = services.record_mark(
            session=session,
            person_id=form.person_id.data,
            status=AttendanceStatus(form.status.data),
            remark=form.remark.data,
            marked_at=None,
            by=current_user,
            channel=Channel.ROLL_CALL,
            client_id=form.client_id.data or None,
        )
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(rollcall.result_message(result), "success" if result.applied else "warning")
    return redirect(_rollcall_url(session.id, form.person_id.data))


@bp.route("/sessions/<int:session_id>/roll-call/all-present", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def all_present(session_id):
    session = _session_to_teach(session_id)
    try:
        count = services.mark_all_present(session=session, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Marked present: %(num)d. Marks already made were kept.", num=count), "success")
    return redirect(_rollcall_url(session.id))


@bp.route("/sessions/<int:session_id>/walk-ins/search")
@role_required(Role.TRAINER, Role.MANAGER)
def people_search(session_id):
    """JSON for the walk-in search: id, name, municipality; at least two characters."""
    session = _session_to_teach(session_id)
    q = (request.args.get("q") or "")[:100]
    people = rollcall.walk_in_candidates(
        q=q, programme_ids=rollcall.searchable_programme_ids(current_user, session), session=session
    )
    return jsonify(
        people=[rollcall.candidate_json(p) for p in people], min_chars=rollcall.SEARCH_MIN_CHARS
    )


@bp.route("/sessions/<int:session_id>/walk-ins", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def add_walk_in(session_id):
    session = _session_to_teach(session_id)
    form = AddWalkInForm()
    programme_ids = rollcall.searchable_programme_ids(current_user, session)
    person = None
    if form.validate_on_submit():
        person = db.session.scalar(
            people_query(programme_ids, PeopleFilters()).where(Person.id == form.person_id.data)
        )
    if person is None:
        abort(404)
    try:
        services.add_walk_in(session=session, person=person, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s is on the roster now.", name=person.full_name), "success")
    return redirect(_rollcall_url(session.id, person.id))


@bp.route("/sessions/<int:session_id>/walk-ins/new", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def new_walk_in(session_id):
    session = _session_to_teach(session_id)
    form = NewWalkInForm()
    form.municipality_id.choices = [("", "")] + municipality_choices()
    if form.validate_on_submit():
        try:
            person = rollcall.create_walk_in(
                session=session,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                sex=Sex(form.sex.data),
                municipality_id=form.municipality_id.data,
                by=current_user,
            )
        except DomainError as error:
            show_error(form, error, "first_name")
        else:
            db.session.commit()
            flash(_("%(name)s is on the roster now.", name=person.full_name), "success")
            return redirect(_rollcall_url(session.id, person.id))
    return _render_rollcall(session, new_person=form, code=422)


# JSON API for rollcall.js ----------------------------------------------------------------


@bp.route("/api/attendance/marks", methods=["POST"], endpoint="sync")
@role_required(Role.TRAINER, Role.MANAGER)
def sync_marks():
    """{marks: [...]} → {results: [...]}, one result per mark in the same order."""
    payload = request.get_json(silent=True)
    marks = payload.get("marks") if isinstance(payload, dict) else None
    if not isinstance(marks, list):
        message = _('Send a JSON object with a list of marks: {"marks": [...]}.')
        return jsonify(error="bad_request", message=message), 400
    if len(marks) > sync.MAX_MARKS:
        message = _("Send at most %(num)d marks at a time.", num=sync.MAX_MARKS)
        return jsonify(error="too_many", message=message), 413
    results = sync.apply_marks(marks=marks, user=current_user, now=utcnow())
    _commit_keeping_user()
    return jsonify(results=results)


def _commit_keeping_user() -> None:
    """Commit, keeping the signed-in user loaded.

    The security headers ask whether someone is signed in after the view; with the user
    expired by the commit that question would open a second transaction, which for a POST
    on SQLite is a second BEGIN IMMEDIATE: a second wait for the write lock per mark.
    """
    current_user.is_active  # noqa: B018 - loaded inside this transaction
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@bp.route("/api/sessions/<int:session_id>/marks")
@role_required(Role.TRAINER, Role.MANAGER)
def session_state(session_id):
    session = _session_to_teach(session_id)
    marks = queries.session_marks(session.id)
    return jsonify(
        session_id=session.id,
        cancelled=session.cancelled,
        marks=[rollcall.mark_json(m) for m in marks.values()],
    )


# Installable web app ---------------------------------------------------------------------

SHELL_FILES = (
    "css/main.css",
    "js/app.js",
    "js/rollcall.js",
    "img/logo.svg",
    "img/icon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
    "manifest.webmanifest",
)


def _worker_source() -> tuple[str, str]:
    """sw.js with its settings on top; the version changes whenever a cached file changes."""
    static = Path(current_app.static_folder)
    digest = hashlib.sha256()
    for name in ("sw.js", *SHELL_FILES):
        path = static / name
        digest.update(path.read_bytes() if path.exists() else b"")
    settings = {
        "version": digest.hexdigest()[:12],
        "shell": [url_for("static", filename=name) for name in SHELL_FILES],
        "offline_title": _("You are offline"),
        "offline_message": _(
            "This roll-call was not opened on this device while online. Open it once with a "
            "connection; after that it works offline too."
        ),
    }
    source = f"self.AKADEMIA = {json.dumps(settings)};\n" + (static / "sw.js").read_text()
    return source, settings["version"]


@bp.route("/sw.js")
@public
def service_worker():
    source, version = _worker_source()
    response = make_response(source)
    response.mimetype = "application/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(hashlib.sha256(source.encode()).hexdigest()[:16])
    return response.make_conditional(request)


# QR self check-in ------------------------------------------------------------------------


def _qr_payload(session: CourseSession, now: datetime) -> dict:
    url = url_for(
        "attendance.check_in",
        session_id=session.id,
        token=services.qr_token(session, now),
        _external=True,
    )
    count = rollcall.check_in_count(session)
    return {
        "url": url,
        "image": segno.make(url, error="m").svg_data_uri(scale=10, border=4),
        "checked_in": count.checked_in,
        "enrolled": count.enrolled,
        "recent": count.recent,
        "refresh_ms": QR_POLL_MS,
    }


@bp.route("/sessions/<int:session_id>/qr")
@role_required(Role.TRAINER, Role.MANAGER)
def qr_display(session_id):
    session = _session_to_teach(session_id)
    qr = _qr_payload(session, utcnow())
    return render_template(
        "attendance/qr.html",
        session=session,
        qr=qr,
        poll_url=url_for("attendance.qr_current", session_id=session.id),
    )


@bp.route("/api/sessions/<int:session_id>/qr")
@role_required(Role.TRAINER, Role.MANAGER)
def qr_current(session_id):
    session = _session_to_teach(session_id)
    return jsonify(_qr_payload(session, utcnow()))


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attendance-check-in")


def _scanned_at(ticket: str, session: CourseSession, token: str) -> datetime | None:
    """When the learner opened the scanned link, if the ticket is theirs and fresh."""
    try:
        data = _tickets().loads(ticket or "", max_age=CHECK_IN_CONFIRM_SECONDS)
    except BadSignature:
        return None
    if data.get("s") != session.id or data.get("u") != current_user.id or data.get("t") != token:
        return None
    return datetime.fromisoformat(data["at"])


def _confirmation_page(session: CourseSession, token: str):
    """GET: the code must be current now; the form then carries a signed, short-lived ticket."""
    now = utcnow()
    if not services.qr_token_valid(session, token, now):
        message = _("This code has expired. Scan the code on the screen again.")
        return render_template("attendance/check_in.html", session=session, error=message)
    form = CheckInForm(formdata=None)
    form.ticket.data = _tickets().dumps(
        {"s": session.id, "u": current_user.id, "t": token, "at": now.isoformat()}
    )
    return render_template("attendance/check_in.html", session=session, form=form)


def _qr_timing() -> dict[str, timedelta]:
    config = current_app.config
    return {
        "grace": timedelta(minutes=config.get("QR_GRACE_MINUTES", 30)),
        "late_after": timedelta(minutes=config.get("QR_LATE_AFTER_MINUTES", 15)),
    }


@bp.route("/check-in/<int:session_id>/<token>", methods=["GET", "POST"])
@login_required
def check_in(session_id, token):
    """GET shows what the learner is checking in to; only the POST records the mark, timed
    when the code was scanned (the GET), so a slow confirmation does not make anyone late."""
    session = queries.load_session(session_id) or abort(404)
    if request.method == "GET":
        return _confirmation_page(session, token)
    form = CheckInForm()
    scanned_at = _scanned_at(form.ticket.data if form.validate_on_submit() else "", session, token)
    try:
        if scanned_at is None:
            raise DomainError(
                _("This confirmation has expired. Scan the code on the screen again.")
            )
        result = services.check_in(
            session=session,
            person=current_user.person,
            token=token,
            now=scanned_at,
            by=current_user,
            **_qr_timing(),
        )
    except DomainError as error:
        page = render_template("attendance/check_in.html", session=session, error=error.message)
        return page, 409
    db.session.commit()
    status = ATTENDANCE_LABELS[result.status]
    return render_template("attendance/check_in.html", session=session, done=True, status=status)
