from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import User
from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.permissions import can_manage_programme, managed_programme_ids
from app.security import role_required

from . import queries, services
from .forms import AccountSearchForm, MemberForm, PeriodForm, ProgrammeForm
from .models import Programme, ReportingPeriod

bp = Blueprint("programmes", __name__)


def _load_managed(programme_id: int) -> Programme:
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    return programme


def _programme_values(form: ProgrammeForm) -> dict:
    return dict(
        code=form.code.data,
        name=form.name.data.strip(),
        donor=form.donor.data.strip(),
        grant_code=(form.grant_code.data or "").strip() or None,
        description=(form.description.data or "").strip() or None,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        attendance_threshold=form.attendance_threshold.data,
        min_public_cell=form.min_public_cell.data or 5,
        iati_identifier=(form.iati_identifier.data or "").strip() or None,
    )


@bp.route("/programmes")
@role_required(Role.MANAGER)
def index():
    rows = queries.programmes_with_counts(managed_programme_ids(current_user))
    return render_template("programmes/index.html", rows=rows, can_create=current_user.is_admin)


@bp.route("/programmes/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    form = ProgrammeForm()
    if form.validate_on_submit():
        try:
            programme = services.save_programme(None, **_programme_values(form))
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The programme %(code)s is created.", code=programme.code), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    return render_template("programmes/form.html", form=form, programme=None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit(programme_id):
    programme = _load_managed(programme_id)
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        try:
            services.save_programme(programme, **_programme_values(form))
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The programme is saved."), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    return render_template("programmes/form.html", form=form, programme=programme)


def _render_detail(programme: Programme, *, period_form=None, member_form=None):
    search = AccountSearchForm(request.args)
    search.validate()
    member_form = member_form or MemberForm(formdata=None)
    found = queries.accounts_by_email(search.account.data)
    member_form.user_id.choices = [(u.id, f"{u.name} · {u.email}") for u in found]
    runs = queries.programme_runs(programme.id)
    return render_template(
        "programmes/detail.html",
        programme=programme,
        period_form=period_form or PeriodForm(formdata=None),
        member_form=member_form,
        search=search,
        searched=bool((search.account.data or "").strip()),
        found_count=len(found),
        min_search=queries.MIN_ACCOUNT_SEARCH,
        members=queries.programme_members(programme.id),
        runs=[{"run": run, "title": run.course.localized("title")} for run in runs],
        participants=queries.participant_count(programme.id),
    )


@bp.route("/programmes/<int:programme_id>")
@role_required(Role.MANAGER)
def detail(programme_id):
    return _render_detail(_load_managed(programme_id))


@bp.route("/programmes/<int:programme_id>/periods", methods=["POST"])
@role_required(Role.MANAGER)
def add_period(programme_id):
    programme = _load_managed(programme_id)
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            period = services.add_period(
                programme=programme,
                name=form.name.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            )
        except DomainError as error:
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The reporting period %(name)s is added.", name=period.name), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id) + "#periods")
    return _render_detail(programme, period_form=form)


@bp.route("/programmes/<int:programme_id>/periods/<int:period_id>/delete", methods=["POST"])
@role_required(Role.MANAGER)
def delete_period(programme_id, period_id):
    programme = _load_managed(programme_id)
    period = db.get_or_404(ReportingPeriod, period_id)
    if period.programme_id != programme.id:
        abort(404)
    services.delete_period(period=period)
    db.session.commit()
    flash(_("The reporting period %(name)s is deleted.", name=period.name), "success")
    return redirect(url_for("programmes.detail", programme_id=programme.id) + "#periods")


@bp.route("/programmes/<int:programme_id>/members", methods=["POST"])
@role_required(Role.MANAGER)
def add_member(programme_id):
    programme = _load_managed(programme_id)
    form = MemberForm()
    if form.validate_on_submit():
        user = db.session.get(User, form.user_id.data)
        try:
            if user is None:
                raise DomainError(_("Choose an account from the search results."), field="user_id")
            services.add_member(programme=programme, user=user, role=Role(form.role.data))
        except DomainError as error:
            show_error(form, error, "user_id")
        else:
            db.session.commit()
            flash(_("%(name)s is now a member of the programme.", name=user.name), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id) + "#members")
    return _render_detail(programme, member_form=form)


@bp.route("/programmes/<int:programme_id>/members/<int:member_id>/remove", methods=["POST"])
@role_required(Role.MANAGER)
def remove_member(programme_id, member_id):
    programme = _load_managed(programme_id)
    member = queries.load_member(programme.id, member_id) or abort(404)
    name = member.user.name
    services.remove_member(member=member)
    db.session.commit()
    flash(_("%(name)s is no longer a member of the programme.", name=name), "success")
    # Managers who removed themselves can no longer open the programme.
    if not can_manage_programme(current_user, programme.id):
        return redirect(url_for("programmes.index"))
    return redirect(url_for("programmes.detail", programme_id=programme.id) + "#members")
