"""Activities that are not courses: TalkDigital meetings, research workshops, events."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, to_user_timezone, to_utc
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.permissions import can_manage_programme, managed_programme_ids
from app.places.queries import municipality_choices
from app.programmes.models import Programme
from app.security import role_required

from . import queries, services
from .forms import ActivityForm, AttendanceForm, DoorForm, PeopleSearchForm, RegisterForm
from .models import Activity
from .views import activity_facts

bp = Blueprint("activities", __name__)

# Services name the stored columns; the form asks for a date and two times.
FORM_FIELDS = {"starts_at": "day", "ends_at": "ends"}


def _load_programme(programme_id: int) -> Programme:
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    return programme


def _load_activity(activity_id: int) -> Activity:
    activity = queries.load_activity(activity_id) or abort(404)
    if not can_manage_programme(current_user, activity.programme_id):
        abort(403)
    return activity


def _fill(form: ActivityForm) -> None:
    form.municipality_id.choices = [("", _("None"))] + municipality_choices()


def _save(form: ActivityForm, activity: Activity | None, programme: Programme) -> Activity:
    starts_at = to_utc(datetime.combine(form.day.data, form.starts.data))
    ends_at = to_utc(datetime.combine(form.day.data, form.ends.data))
    return services.save_activity(
        activity, programme=programme, values=form.fields(starts_at, ends_at)
    )


def _show(form, error: DomainError, default: str) -> None:
    error.field = FORM_FIELDS.get(error.field, error.field)
    show_error(form, error, default)


@bp.route("/programmes/<int:programme_id>/activities")
@role_required(Role.MANAGER)
def index(programme_id):
    programme = _load_programme(programme_id)
    page = db.paginate(queries.activities_query(programme.id), per_page=25, error_out=False)
    counts = queries.counts_by_activity([a.id for a in page.items])
    return render_template("activities/index.html", programme=programme, page=page, counts=counts)


@bp.route("/programmes/<int:programme_id>/activities/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def new(programme_id):
    programme = _load_programme(programme_id)
    form = ActivityForm()
    _fill(form)
    if form.validate_on_submit():
        try:
            activity = _save(form, None, programme)
        except DomainError as error:
            _show(form, error, "title")
        else:
            db.session.commit()
            flash(_("The activity is saved."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id))
    return render_template("activities/form.html", form=form, programme=programme, activity=None)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit(activity_id):
    activity = _load_activity(activity_id)
    starts, ends = to_user_timezone(activity.starts_at), to_user_timezone(activity.ends_at)
    form = ActivityForm(
        obj=activity,
        day=starts.date(),
        starts=starts.time().replace(tzinfo=None),
        ends=ends.time().replace(tzinfo=None),
    )
    _fill(form)
    if form.validate_on_submit():
        try:
            _save(form, activity, activity.programme)
        except DomainError as error:
            _show(form, error, "title")
        else:
            db.session.commit()
            flash(_("The activity is saved."), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id))
    return render_template(
        "activities/form.html", form=form, programme=activity.programme, activity=activity
    )


@bp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@role_required(Role.MANAGER)
def cancel(activity_id):
    activity = _load_activity(activity_id)
    try:
        services.cancel_activity(activity=activity)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The activity is cancelled."), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id))


def _render_detail(activity: Activity, door_form: DoorForm | None = None):
    search = PeopleSearchForm(request.args)
    search.validate()
    q = (search.q.data or "").strip()
    people = queries.participants(activity.id)
    candidates = queries.candidates(
        activity=activity, q=q, visible_programme_ids=managed_programme_ids(current_user)
    )
    return render_template(
        "activities/detail.html",
        activity=activity,
        facts=activity_facts(activity),
        participants=people,
        attended_count=sum(p.attended for p in people),
        by_sex=queries.attended_by_sex(activity.id),
        search=search,
        searched=len(q) >= queries.MIN_SEARCH,
        candidates=candidates,
        register_form=RegisterForm(formdata=None),
        attendance_form=AttendanceForm(formdata=None),
        door_form=door_form or DoorForm(formdata=None),
    )


@bp.route("/activities/<int:activity_id>")
@role_required(Role.MANAGER)
def detail(activity_id):
    return _render_detail(_load_activity(activity_id))


@bp.route("/activities/<int:activity_id>/participants", methods=["POST"])
@role_required(Role.MANAGER)
def register(activity_id):
    activity = _load_activity(activity_id)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            added = services.register_people(
                activity=activity,
                person_ids=form.person_ids.data or [],
                visible_programme_ids=managed_programme_ids(current_user),
                by=current_user,
            )
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                ngettext("%(num)d person is registered.", "%(num)d people are registered.", added),
                "success",
            )
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#participants")


@bp.route("/activities/<int:activity_id>/attendance", methods=["POST"])
@role_required(Role.MANAGER)
def attendance(activity_id):
    activity = _load_activity(activity_id)
    form = AttendanceForm()
    if form.validate_on_submit():
        try:
            count = services.set_attendance(
                activity=activity, attended_ids=set(form.attended.data or [])
            )
        except DomainError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Attendance is saved: %(num)d person attended.",
                    "Attendance is saved: %(num)d people attended.",
                    count,
                ),
                "success",
            )
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#participants")


@bp.route("/activities/<int:activity_id>/at-the-door", methods=["POST"])
@role_required(Role.MANAGER)
def add_at_door(activity_id):
    activity = _load_activity(activity_id)
    form = DoorForm()
    if form.validate_on_submit():
        try:
            participant = services.add_at_door(
                activity=activity, values=form.door_person(), by=current_user
            )
        except DomainError as error:
            show_error(form, error, "first_name")
        else:
            db.session.commit()
            flash(
                _("%(name)s is added and marked as attended.", name=participant.person.full_name),
                "success",
            )
            return redirect(url_for("activities.detail", activity_id=activity.id) + "#door")
    return _render_detail(activity, door_form=form)


@bp.route(
    "/activities/<int:activity_id>/participants/<int:participant_id>/remove", methods=["POST"]
)
@role_required(Role.MANAGER)
def remove_participant(activity_id, participant_id):
    activity = _load_activity(activity_id)
    participant = queries.load_participant(activity.id, participant_id) or abort(404)
    # Read before the delete: a removed row cannot load its person afterwards.
    name = participant.person.full_name
    try:
        services.remove_participant(participant=participant)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s is removed.", name=name), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id) + "#participants")
