"""Scheduling sessions, in-app notifications and the iCalendar feeds."""

from datetime import date, datetime, time

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import force_locale, ngettext, to_user_timezone, to_utc
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import User
from app.auth.roles import Role
from app.courses.models import CourseRun
from app.courses.queries import load_run, runs_in_programmes, runs_taught_by
from app.errors import DomainError, show_error
from app.extensions import db
from app.permissions import can_teach_run, managed_programme_ids
from app.places.queries import municipality_choices
from app.security import login_required, public, role_required
from app.timeutil import utcnow

from . import calendar, notifications, queries, services
from .schedule_forms import CancelSessionForm, MoveSessionForm, NewSessionForm, SessionPlaceForm
from .schedule_views import cancelled_notice, feed_link, moved_notice, session_rows

bp = Blueprint("schedule", __name__)

# Services name the stored columns; the forms ask for a date and two times.
FORM_FIELDS = {"starts_at": "day", "ends_at": "ends"}


def _load_run(run_id: int) -> CourseRun:
    run = load_run(run_id) or abort(404)
    if not can_teach_run(current_user, run):
        abort(403)
    return run


def _load_session(session_id: int):
    session = queries.load_session(session_id) or abort(404)
    if not can_teach_run(current_user, session.run):
        abort(403)
    return session


def _fill_choices(form: SessionPlaceForm, run: CourseRun, current_trainer: User | None = None):
    form.municipality_id.choices = municipality_choices()
    trainers = [(row.user_id, row.user.name) for row in run.trainer_rows]
    # A trainer who left the run stays selectable on the sessions they were given.
    if current_trainer and all(uid != current_trainer.id for uid, _name in trainers):
        trainers.append((current_trainer.id, current_trainer.name))
    form.trainer_id.choices = [(0, _("Not assigned"))] + trainers


def _utc(day: date, at: time) -> datetime:
    return to_utc(datetime.combine(day, at))


def _place(form: SessionPlaceForm) -> dict:
    return dict(
        starts_at=_utc(form.day.data, form.starts.data),
        ends_at=_utc(form.day.data, form.ends.data),
        venue=form.venue.data,
        municipality_id=form.municipality_id.data,
        trainer_id=form.trainer_id.data or None,
    )


def _show(form, error: DomainError) -> None:
    error.field = FORM_FIELDS.get(error.field, error.field)
    show_error(form, error, "day")


def _schedule(form: NewSessionForm, run: CourseRun) -> list:
    place = _place(form)
    step = form.step_days
    if form.repeat.data == "once":
        if form.count.data != 1:
            raise DomainError(
                _("Choose how often the sessions repeat, or schedule 1 session."), field="repeat"
            )
        return [services.schedule_session(run=run, **place)]
    return services.schedule_series(
        run=run,
        first_starts_at=place.pop("starts_at"),
        first_ends_at=place.pop("ends_at"),
        count=form.count.data,
        every_days=step or 0,
        **place,
    )


def _title(run: CourseRun) -> str:
    return run.course.localized("title")


@bp.route("/runs/<int:run_id>/sessions")
@role_required(Role.TRAINER, Role.MANAGER)
def run_sessions(run_id):
    run = _load_run(run_id)
    rows = session_rows(queries.run_sessions(run.id))
    return render_template("schedule/sessions.html", run=run, title=_title(run), rows=rows)


@bp.route("/runs/<int:run_id>/sessions/new", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def new_session(run_id):
    run = _load_run(run_id)
    teaches = any(row.user_id == current_user.id for row in run.trainer_rows)
    form = NewSessionForm(
        day=run.starts_on,
        venue=run.venue,
        municipality_id=run.municipality_id,
        trainer_id=current_user.id if teaches else 0,
    )
    _fill_choices(form, run)
    if form.validate_on_submit():
        try:
            created = _schedule(form, run)
        except DomainError as error:
            _show(form, error)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d session is scheduled.", "%(num)d sessions are scheduled.", len(created)
                ),
                "success",
            )
            return redirect(url_for("schedule.run_sessions", run_id=run.id))
    return render_template("schedule/new_session.html", form=form, run=run, title=_title(run))


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def move_session(session_id):
    session = _load_session(session_id)
    starts, ends = to_user_timezone(session.starts_at), to_user_timezone(session.ends_at)
    form = MoveSessionForm(
        day=starts.date(),
        starts=starts.time().replace(tzinfo=None),
        ends=ends.time().replace(tzinfo=None),
        venue=session.venue,
        municipality_id=session.municipality_id,
        trainer_id=session.trainer_id or 0,
    )
    _fill_choices(form, session.run, session.trainer)
    if form.validate_on_submit():
        place = _place(form)
        notice = moved_notice(
            title=_title(session.run),
            session=session,
            municipality=dict(form.municipality_id.choices)[place["municipality_id"]],
            message=form.message.data,
            **{k: place[k] for k in ("starts_at", "ends_at", "venue")},
        )
        try:
            told = services.move_session(
                session=session, message=notice, link=_run_link(session.run_id), **place
            )
        except DomainError as error:
            _show(form, error)
        else:
            db.session.commit()
            flash(_moved_flash(told), "success")
            return redirect(url_for("schedule.run_sessions", run_id=session.run_id))
    return render_template("schedule/move_session.html", form=form, session=session)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def cancel_session(session_id):
    session = _load_session(session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        notice = cancelled_notice(
            title=_title(session.run), session=session, reason=form.reason.data
        )
        try:
            told = services.cancel_session(
                session=session, message=notice, link=_run_link(session.run_id)
            )
        except DomainError as error:
            show_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_cancelled_flash(told), "success")
            return redirect(url_for("schedule.run_sessions", run_id=session.run_id))
    rows = session_rows([session])
    return render_template("schedule/cancel_session.html", form=form, session=session, row=rows[0])


def _run_link(run_id: int) -> str:
    return url_for("courses.run", run_id=run_id, _external=False)


def _moved_flash(told: int) -> str:
    return ngettext(
        "The session is moved; %(num)d learner is notified.",
        "The session is moved; %(num)d learners are notified.",
        told,
    )


def _cancelled_flash(told: int) -> str:
    return ngettext(
        "The session is cancelled; %(num)d learner is notified.",
        "The session is cancelled; %(num)d learners are notified.",
        told,
    )


# Notifications -------------------------------------------------------------------------------


@bp.route("/notifications", endpoint="notifications")
@login_required
def notifications_page():
    person_id = current_user.person_id
    page = db.paginate(notifications.notifications_query(person_id), per_page=25, error_out=False)
    unread = notifications.unread_count(person_id)
    return render_template("schedule/notifications.html", page=page, unread=unread)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_notifications_read():
    count = notifications.mark_all_read(person_id=current_user.person_id, now=utcnow())
    db.session.commit()
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("schedule.notifications"))


@bp.route("/notifications/count.json")
@login_required
def notification_count():
    return {"unread": notifications.unread_count(current_user.person_id)}


# Calendar feeds ------------------------------------------------------------------------------


@bp.route("/calendar")
@login_required
def my_calendar():
    user = current_user
    personal = [feed_link(_("My sessions as a learner"), _feed_url(calendar.LEARNER, user.id))]
    if user.has_role(Role.TRAINER):
        personal.append(feed_link(_("Sessions I teach"), _feed_url(calendar.TRAINER, user.id)))
    taught = runs_taught_by(user.id) if user.has_role(Role.TRAINER) else []
    managed = None
    if user.is_admin or user.has_role(Role.MANAGER):
        managed = db.paginate(
            runs_in_programmes(managed_programme_ids(user)), per_page=25, error_out=False
        )
    return render_template(
        "schedule/calendar.html",
        personal=personal,
        taught=[_run_feed_link(run) for run in taught],
        managed=managed,
        managed_links=[_run_feed_link(run) for run in managed.items] if managed else [],
    )


def _feed_url(kind: str, object_id: int) -> str:
    token = calendar.feed_token(kind, object_id)
    return url_for(f"schedule.{kind}_feed", token=token, _external=True)


def _run_feed_link(run: CourseRun):
    label = f"{run.course.localized('title')} · {run.municipality.display_name}"
    return feed_link(label, _feed_url(calendar.RUN, run.id), starts_on=run.starts_on)


def _calendar_response(name: str, sessions: list, filename: str) -> Response:
    body = calendar.build_calendar(
        name=name,
        sessions=sessions,
        run_url=lambda run_id: url_for("courses.run", run_id=run_id, _external=True),
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _feed_user(kind: str, token: str) -> User:
    user_id = calendar.feed_object_id(kind, token)
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.active:
        abort(404)
    return user


@bp.route("/calendar/learner/<token>.ics")
@public
def learner_feed(token):
    user = _feed_user(calendar.LEARNER, token)
    with force_locale(user.locale or "en"):
        name = _("Akademia: my sessions")
    sessions = calendar.learner_sessions(user.person_id, utcnow())
    return _calendar_response(name, sessions, "akademia-learner.ics")


@bp.route("/calendar/trainer/<token>.ics")
@public
def trainer_feed(token):
    user = _feed_user(calendar.TRAINER, token)
    with force_locale(user.locale or "en"):
        name = _("Akademia: sessions I teach")
    sessions = calendar.trainer_sessions(user.id, utcnow())
    return _calendar_response(name, sessions, "akademia-trainer.ics")


@bp.route("/calendar/run/<token>.ics")
@public
def run_feed(token):
    run_id = calendar.feed_object_id(calendar.RUN, token)
    run = db.session.get(CourseRun, run_id) if run_id else None
    if run is None:
        abort(404)
    name = f"Akademia: {run.course.localized('title', run.language)}"
    sessions = calendar.run_sessions(run.id, utcnow())
    return _calendar_response(name, sessions, f"akademia-run-{run.id}.ics")
