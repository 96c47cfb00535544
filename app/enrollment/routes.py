import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.roles import Role
from app.courses.queries import load_run
from app.errors import DomainError
from app.extensions import db
from app.people.models import Person
from app.permissions import can_manage_programme, can_manage_run
from app.programmes.models import Programme, ProgrammeParticipant
from app.security import login_required, role_required
from app.text import normalize_email

from . import notifications, queries, services
from .forms import BulkEnrolForm
from .models import Enrollment, EnrollmentSource, EnrollmentStatus

bp = Blueprint("enrollment", __name__)


@bp.route("/my-courses")
@login_required
def my_courses():
    return render_template(
        "enrollment/my_courses.html", enrollments=queries.my_enrollments(current_user.person_id)
    )


@bp.route("/runs/<int:run_id>/enrol", methods=["POST"])
@login_required
def enrol(run_id):
    run = load_run(run_id) or abort(404)
    try:
        enrollment = services.enrol(run=run, person=current_user.person, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        messages = {
            EnrollmentStatus.ENROLLED: _("You are enrolled. See you at the first session!"),
            EnrollmentStatus.WAITLISTED: _(
                "The course is full, so you are on the waiting list. "
                "You will get a seat automatically when one frees up."
            ),
            EnrollmentStatus.PENDING: _("Your request is sent; a manager will approve it."),
        }
        flash(messages[enrollment.status], "success")
    return redirect(url_for("courses.run", run_id=run_id))


def _load_enrollment(enrollment_id: int) -> Enrollment:
    return db.get_or_404(Enrollment, enrollment_id)


@bp.route("/enrollments/<int:enrollment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(enrollment_id):
    enrollment = _load_enrollment(enrollment_id)
    own = enrollment.person_id == current_user.person_id
    if not (own or can_manage_run(current_user, enrollment.run)):
        abort(403)
    try:
        promoted = services.withdraw(enrollment=enrollment, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        notifications.seats_given(promoted)
        flash(_("The enrolment is withdrawn."), "success")
    if own:
        return redirect(url_for("enrollment.my_courses"))
    return redirect(url_for("enrollment.manage", run_id=enrollment.run_id))


@bp.route("/runs/<int:run_id>/enrolments")
@role_required(Role.MANAGER)
def manage(run_id):
    run = load_run(run_id) or abort(404)
    if not can_manage_run(current_user, run):
        abort(403)
    form = _bulk_form(run)
    return render_template(
        "enrollment/manage.html", run=run, enrollments=queries.run_enrollments(run.id), form=form
    )


def _bulk_form(run) -> BulkEnrolForm:
    form = BulkEnrolForm()
    taken = sa.select(Enrollment.person_id).where(
        Enrollment.run_id == run.id, Enrollment.status.in_(services.ACTIVE_STATUSES)
    )
    candidates = db.session.scalars(
        sa.select(Person)
        .join(ProgrammeParticipant, ProgrammeParticipant.person_id == Person.id)
        .where(ProgrammeParticipant.programme_id == run.programme_id, Person.id.not_in(taken))
        .order_by(Person.last_name, Person.first_name)
    )
    form.person_ids.choices = [(p.id, f"{p.full_name} · {p.email or ''}") for p in candidates]
    return form


@bp.route("/runs/<int:run_id>/enrolments/bulk", methods=["POST"])
@role_required(Role.MANAGER)
def bulk(run_id):
    run = load_run(run_id) or abort(404)
    if not can_manage_run(current_user, run):
        abort(403)
    form = _bulk_form(run)
    if not form.validate_on_submit():
        flash(_("Choose people from the list or paste their e-mail addresses."), "error")
        return redirect(url_for("enrollment.manage", run_id=run.id))
    people = list(
        db.session.scalars(sa.select(Person).where(Person.id.in_(form.person_ids.data or [])))
    )
    emails = {normalize_email(e) for e in re.split(r"[\s,;]+", form.emails.data or "") if e.strip()}
    unknown = []
    if emails:
        found = list(db.session.scalars(sa.select(Person).where(Person.email.in_(emails))))
        unknown = sorted(emails - {p.email for p in found})
        people += [p for p in found if p not in people]
    if not people:
        flash(
            _("Nobody to enrol: choose people or paste addresses of people already in Akademia."),
            "error",
        )
        return redirect(url_for("enrollment.manage", run_id=run.id))
    result = services.bulk_enrol(
        run=run, people=people, by=current_user, source=EnrollmentSource.MANAGER
    )
    db.session.commit()
    flash(
        ngettext("%(num)d person enrolled.", "%(num)d people enrolled.", len(result.enrolled))
        + " "
        + ngettext(
            "%(num)d on the waiting list.", "%(num)d on the waiting list.", len(result.waitlisted)
        ),
        "success",
    )
    for _person, reason in result.skipped:
        flash(reason, "warning")
    if unknown:
        flash(_("Not found in Akademia: %(list)s", list=", ".join(unknown)), "warning")
    return redirect(url_for("enrollment.manage", run_id=run.id))


@bp.route("/enrollments/<int:enrollment_id>/approve", methods=["POST"])
@role_required(Role.MANAGER)
def approve(enrollment_id):
    enrollment = _load_enrollment(enrollment_id)
    if not can_manage_run(current_user, enrollment.run):
        abort(403)
    try:
        services.approve(enrollment=enrollment, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        notifications.request_decided(enrollment)
        flash(
            _(
                "%(name)s: %(status)s.",
                name=enrollment.person.full_name,
                status=enrollment.status_label,
            ),
            "success",
        )
    return redirect(url_for("enrollment.manage", run_id=enrollment.run_id))


@bp.route("/enrollments/<int:enrollment_id>/reject", methods=["POST"])
@role_required(Role.MANAGER)
def reject(enrollment_id):
    enrollment = _load_enrollment(enrollment_id)
    if not can_manage_run(current_user, enrollment.run):
        abort(403)
    try:
        services.reject(enrollment=enrollment, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        notifications.request_decided(enrollment)
        flash(
            _("The request of %(name)s is declined.", name=enrollment.person.full_name), "success"
        )
    return redirect(url_for("enrollment.manage", run_id=enrollment.run_id))


@bp.route("/programmes/<int:programme_id>/enrolment-counts")
@role_required(Role.MANAGER)
def counts(programme_id):
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    return render_template(
        "enrollment/counts.html",
        programme=programme,
        per_course=queries.counts_per_course(programme.id),
        per_municipality=queries.counts_per_municipality(programme.id),
    )
