from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth import emails, two_factor
from app.auth.roles import Role
from app.auth.services import make_password_token
from app.auth.sessions import user_sessions
from app.errors import DomainError, show_error
from app.extensions import db
from app.people.models import INSTITUTION_TYPE_LABELS, Institution, InstitutionType
from app.places.queries import municipality_choices, municipality_id_from_choice
from app.security import role_required

from . import queries, services
from .forms import (
    AccountForm,
    InstitutionFilterForm,
    InstitutionForm,
    InviteForm,
    UserFilterForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 25


def _valid(field):
    """A filter's value, or None when empty or not one of the choices."""
    return field.data if field.data and not field.errors else None


def _list_args() -> dict:
    return {key: value for key, value in request.args.items() if key != "page" and value}


@bp.route("")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/index.html", counts=queries.overview_counts())


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    form = UserFilterForm(request.args)
    form.validate()
    role, state = _valid(form.role), _valid(form.active)
    filters = queries.UserFilters(
        q=_valid(form.q),
        role=Role(role) if role else None,
        active=None if state is None else state == "yes",
    )
    page = db.paginate(queries.users_query(filters), per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", form=form, page=page, args=_list_args())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def invite_user():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = services.invite_user(
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                email=form.email.data,
                roles=form.role_set(),
            )
        except DomainError as error:
            show_error(form, error, "email")
        else:
            db.session.commit()
            token = make_password_token(user.person, user)
            emails.send_password_link(user.email, user, token, new_account=True)
            flash(
                _(
                    "The account is created and %(email)s has a link to choose a password.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_detail(user_id):
    user = queries.load_user(user_id) or abort(404)
    form = AccountForm(
        data={"roles": sorted(role.value for role in user.roles), "active": user.active}
    )
    if form.validate_on_submit():
        try:
            change = services.update_account(
                user=user, roles=form.role_set(), active=form.active.data, by=current_user
            )
        except DomainError as error:
            show_error(form, error, "roles")
        else:
            db.session.commit()
            flash(_("The account of %(name)s is saved.", name=user.name), "success")
            if change.sessions_ended:
                flash(
                    ngettext(
                        "%(num)d session was ended.",
                        "%(num)d sessions were ended.",
                        change.sessions_ended,
                    ),
                    "info",
                )
            if change.memberships_ended:
                flash(
                    ngettext(
                        "%(num)d programme membership ended with the role.",
                        "%(num)d programme memberships ended with the role.",
                        change.memberships_ended,
                    ),
                    "info",
                )
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template(
        "admin/user_detail.html",
        user=user,
        form=form,
        memberships=queries.user_memberships(user.id),
        sessions=user_sessions(user),
        is_self=user.id == current_user.id,
    )


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
@role_required(Role.ADMIN)
def end_sessions(user_id):
    user = queries.load_user(user_id) or abort(404)
    ended = services.end_sessions(user=user)
    db.session.commit()
    flash(ngettext("%(num)d session was ended.", "%(num)d sessions were ended.", ended), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/sessions/<int:user_session_id>/end", methods=["POST"])
@role_required(Role.ADMIN)
def end_session(user_id, user_session_id):
    user = queries.load_user(user_id) or abort(404)
    try:
        services.end_session(user=user, session_id=user_session_id)
    except DomainError as error:
        flash(error.message, "info")
    else:
        db.session.commit()
        flash(_("The browser is signed out."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@role_required(Role.ADMIN)
def reset_two_factor(user_id):
    user = queries.load_user(user_id) or abort(404)
    try:
        ended = two_factor.reset(user=user, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _("Two-step sign-in of %(name)s is reset.", name=user.name)
            + " "
            + ngettext("%(num)d session was ended.", "%(num)d sessions were ended.", ended),
            "success",
        )
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/institutions")
@role_required(Role.ADMIN)
def institutions():
    form = InstitutionFilterForm(request.args)
    form.validate()
    kind = _valid(form.type)
    filters = queries.InstitutionFilters(
        q=_valid(form.q), type=InstitutionType(kind) if kind else None
    )
    page = db.paginate(queries.institutions_query(filters), per_page=PER_PAGE, error_out=False)
    return render_template(
        "admin/institutions.html",
        form=form,
        page=page,
        args=_list_args(),
        people=queries.people_per_institution([i.id for i in page.items]),
        type_labels=INSTITUTION_TYPE_LABELS,
    )


def _institution_form(institution: Institution | None) -> InstitutionForm:
    data = None
    if institution is not None:
        data = {
            "name": institution.name,
            "type": institution.type.value,
            "municipality": str(institution.municipality_id or ""),
        }
    form = InstitutionForm(data=data)
    form.municipality.choices = [("", _("None (national)"))] + [
        (str(key), label) for key, label in municipality_choices()
    ]
    return form


def _save_institution(form: InstitutionForm, institution: Institution | None):
    return services.save_institution(
        institution,
        name=form.name.data,
        institution_type=InstitutionType(form.type.data),
        municipality_id=municipality_id_from_choice(form.municipality.data),
    )


@bp.route("/institutions/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def institution_new():
    form = _institution_form(None)
    if form.validate_on_submit():
        try:
            _save_institution(form, None)
        except DomainError as error:
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The institution is added."), "success")
            return redirect(url_for("admin.institutions"))
    return render_template("admin/institution_form.html", form=form, institution=None)


@bp.route("/institutions/<int:institution_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def institution_edit(institution_id):
    institution = db.get_or_404(Institution, institution_id)
    form = _institution_form(institution)
    if form.validate_on_submit():
        try:
            _save_institution(form, institution)
        except DomainError as error:
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The institution is saved."), "success")
            return redirect(url_for("admin.institutions"))
    return render_template("admin/institution_form.html", form=form, institution=institution)
