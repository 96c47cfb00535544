from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user

from app.attendance.queries import run_sessions
from app.attendance.schedule_views import session_rows
from app.auth.roles import Role
from app.enrollment.models import EnrollmentStatus
from app.enrollment.queries import enrollment_for, roster
from app.errors import DomainError, show_error
from app.extensions import db
from app.markdown import render_markdown
from app.permissions import (
    can_manage_programme,
    can_manage_run,
    can_teach_run,
    managed_programme_ids,
)
from app.places.queries import municipality_choices
from app.programmes.models import Programme
from app.security import public, role_required
from app.timeutil import utcnow

from . import queries, services
from .digcomp import COMPETENCES, competence_label, level_label
from .forms import CatalogueFilterForm, RunForm
from .models import Course, CourseRun
from .views import catalogue_filters, run_card

bp = Blueprint("courses", __name__)


@bp.route("/courses")
@public
def catalogue():
    form = CatalogueFilterForm(request.args)
    form.topic.choices = [("", _("Any"))] + [(t, t) for t in queries.topics_in_use()]
    form.competence.choices = [("", _("Any"))] + [(c, competence_label(c)) for c in COMPETENCES]
    form.municipality.choices = [("", _("Any"))] + municipality_choices()
    form.programme.choices = [("", _("Any"))] + queries.programme_choices()
    form.validate()
    filters = catalogue_filters(form)
    page = db.paginate(queries.catalogue_query(filters), per_page=12, error_out=False)
    taken = queries.seats_taken_by_run([run.id for run in page.items])
    cards = [run_card(run, taken.get(run.id, 0)) for run in page.items]
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("courses/catalogue.html", form=form, page=page, cards=cards, args=args)


@bp.route("/courses/<slug>")
@public
def detail(slug):
    course = queries.load_course(slug) or abort(404)
    runs = queries.runs_of_course(course.id)
    taken = queries.seats_taken_by_run([r.id for r in runs])
    return render_template(
        "courses/detail.html",
        course=course,
        description=render_markdown(course.localized("description")),
        competences=[competence_label(c) for c in course.competence_codes],
        level=level_label(course.level),
        cards=[run_card(r, taken.get(r.id, 0)) for r in runs],
    )


@bp.route("/courses/<slug>/lessons/<lesson_slug>")
@public
def lesson(slug, lesson_slug):
    course = queries.load_course(slug) or abort(404)
    lessons = [lesson for module in course.modules for lesson in module.lessons]
    index = next((i for i, item in enumerate(lessons) if item.slug == lesson_slug), None)
    if index is None:
        abort(404)
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=lessons[index],
        body=render_markdown(lessons[index].body_md),
        previous=lessons[index - 1] if index > 0 else None,
        next_lesson=lessons[index + 1] if index + 1 < len(lessons) else None,
    )


@bp.route("/runs/<int:run_id>")
@public
def run(run_id):
    course_run = queries.load_run(run_id) or abort(404)
    if not course_run.published and not (
        current_user.is_authenticated and can_teach_run(current_user, course_run)
    ):
        abort(404)
    taken = queries.seats_taken_by_run([course_run.id]).get(course_run.id, 0)
    mine = (
        enrollment_for(course_run.id, current_user.person_id)
        if current_user.is_authenticated
        else None
    )
    # Enrolled learners see the run's sessions; trainers get a link to manage them.
    sessions = (
        session_rows(run_sessions(course_run.id))
        if mine is not None and mine.status == EnrollmentStatus.ENROLLED
        else []
    )
    return render_template(
        "courses/run.html",
        session_rows=sessions,
        card=run_card(course_run, taken),
        run=course_run,
        enrollment=mine,
        open_now=course_run.enrolment_open(utcnow()),
        can_manage=current_user.is_authenticated and can_manage_run(current_user, course_run),
        can_teach=current_user.is_authenticated and can_teach_run(current_user, course_run),
    )


@bp.route("/teaching")
@role_required(Role.TRAINER)
def teaching():
    runs = queries.runs_taught_by(current_user.id)
    counts = queries.counts_by_status([r.id for r in runs])
    return render_template("courses/teaching.html", runs=runs, counts=counts)


@bp.route("/runs/<int:run_id>/roster")
@role_required(Role.TRAINER, Role.MANAGER)
def run_roster(run_id):
    course_run = queries.load_run(run_id) or abort(404)
    if not can_teach_run(current_user, course_run):
        abort(403)
    return render_template("courses/roster.html", run=course_run, rows=roster(course_run.id))


def _fill_run_form(form: RunForm, programme: Programme) -> None:
    form.course_id.choices = [
        (c.id, f"{c.code} · {c.localized('title')}")
        for c in db.session.scalars(db.select(Course).order_by(Course.code))
    ]
    form.municipality_id.choices = municipality_choices()
    form.trainer_ids.choices = [(u.id, u.name) for u in services.programme_trainers(programme.id)]


def _save_run(form: RunForm, run: CourseRun | None, programme: Programme):
    return services.save_run(
        run,
        programme=programme,
        course=db.session.get(Course, form.course_id.data) or abort(400),
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        venue=form.venue.data,
        municipality_id=form.municipality_id.data,
        language=form.language.data,
        capacity=form.capacity.data,
        enrol_opens_at=to_utc(form.enrol_opens_at.data).replace(tzinfo=None),
        enrol_closes_at=to_utc(form.enrol_closes_at.data).replace(tzinfo=None),
        requires_approval=form.requires_approval.data,
        published=form.published.data,
        trainer_ids=form.trainer_ids.data or [],
    )


@bp.route("/programmes/<int:programme_id>/runs/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def new_run(programme_id):
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    form = RunForm()
    _fill_run_form(form, programme)
    if form.validate_on_submit():
        try:
            created = _save_run(form, None, programme)
        except DomainError as error:
            show_error(form, error, "course_id")
        else:
            db.session.commit()
            flash(_("The course run is scheduled."), "success")
            return redirect(url_for("courses.run", run_id=created.id))
    return render_template("courses/run_form.html", form=form, programme=programme, run=None)


@bp.route("/runs/<int:run_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit_run(run_id):
    course_run = queries.load_run(run_id) or abort(404)
    if not can_manage_run(current_user, course_run):
        abort(403)
    form = RunForm(obj=course_run)
    _fill_run_form(form, course_run.programme)
    if request.method == "GET":
        form.enrol_opens_at.data = to_user_timezone(course_run.enrol_opens_at).replace(tzinfo=None)
        form.enrol_closes_at.data = to_user_timezone(course_run.enrol_closes_at).replace(
            tzinfo=None
        )
        form.trainer_ids.data = [row.user_id for row in course_run.trainer_rows]
    if form.validate_on_submit():
        try:
            _save_run(form, course_run, course_run.programme)
        except DomainError as error:
            show_error(form, error, "course_id")
        else:
            db.session.commit()
            flash(_("The course run is saved."), "success")
            return redirect(url_for("courses.run", run_id=course_run.id))
    return render_template(
        "courses/run_form.html", form=form, programme=course_run.programme, run=course_run
    )


@bp.route("/runs")
@role_required(Role.MANAGER)
def manage_runs():
    page = db.paginate(
        queries.runs_in_programmes(managed_programme_ids(current_user)),
        per_page=25,
        error_out=False,
    )
    counts = queries.counts_by_status([r.id for r in page.items])
    return render_template("courses/manage_runs.html", page=page, counts=counts)
