from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.i18n import current_locale
from app.permissions import (
    can_edit_person,
    can_manage_programme,
    can_view_person,
    managed_programme_ids,
)
from app.places.queries import municipality_choices
from app.programmes.models import Programme
from app.security import login_required, role_required

from . import importer, queries, services
from .forms import ImportConfirmForm, ImportUploadForm, PeopleFilterForm, PersonForm, ProfileForm

bp = Blueprint("people", __name__)

PAGE_SIZE = 25
# "<programme id>/<token>" of the uploads this browser may confirm; the file stays on the server.
IMPORT_TOKENS = "people_import_tokens"


def _fill_person_choices(form) -> None:
    form.municipality_id.choices = [("", _("Not given"))] + municipality_choices()
    form.institution_id.choices = [("", _("None"))] + queries.institution_choices()


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def my_profile():
    form = ProfileForm(obj=current_user.person)
    _fill_person_choices(form)
    if request.method == "GET":
        form.locale.data = current_user.locale or current_locale()
    if form.validate_on_submit():
        try:
            services.update_profile(
                user=current_user,
                values=form.person_fields(),
                locale=form.locale.data,
                today=date.today(),
            )
        except DomainError as error:
            show_error(form, error, "first_name")
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("people.my_profile"))
    return render_template("people/profile.html", form=form, email=current_user.email)


@bp.route("/people")
@role_required(Role.MANAGER)
def index():
    programme_ids = managed_programme_ids(current_user)
    programmes = queries.programme_choices(programme_ids)
    form = PeopleFilterForm(request.args)
    form.programme.choices = [("", _("All my programmes"))] + programmes
    form.municipality.choices = [("", _("Any"))] + municipality_choices()
    form.validate()
    page = db.paginate(
        queries.people_query(programme_ids, form.filters()), per_page=PAGE_SIZE, error_out=False
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "people/index.html",
        form=form,
        page=page,
        rows=queries.person_rows(page.items),
        args=args,
        programmes=programmes,
    )


def _load_person(person_id: int, check):
    person = queries.load_person(person_id) or abort(404)
    if not check(current_user, person):
        abort(403)
    return person


@bp.route("/people/<int:person_id>")
@role_required(Role.MANAGER)
def detail(person_id):
    person = _load_person(person_id, can_view_person)
    return render_template(
        "people/detail.html",
        person=person,
        facts=queries.person_facts(person),
        programmes=queries.programmes_of_person(person.id, managed_programme_ids(current_user)),
        privacy_actions=current_user.is_admin,
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit(person_id):
    person = _load_person(person_id, can_edit_person)
    form = PersonForm(obj=person)
    _fill_person_choices(form)
    if form.validate_on_submit():
        try:
            services.update_person(
                person=person,
                values=form.person_fields(),
                email=form.email.data,
                today=date.today(),
                may_change_login=current_user.is_admin,
            )
        except DomainError as error:
            show_error(form, error, "first_name")
        else:
            db.session.commit()
            flash(_("The details of %(name)s are saved.", name=person.full_name), "success")
            return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/edit.html", form=form, person=person)


def _managed_programme(programme_id: int) -> Programme:
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    return programme


def _upload_folder() -> Path:
    return importer.upload_folder(current_app.instance_path)


def _remember_token(programme_id: int, token: str) -> None:
    session[IMPORT_TOKENS] = (session.get(IMPORT_TOKENS, []) + [f"{programme_id}/{token}"])[-5:]


def _take_upload(programme_id: int, token: str | None) -> tuple[bytes, str] | None:
    """What this browser uploaded for the programme under the token; used once only."""
    entry = f"{programme_id}/{token}"
    tokens = session.get(IMPORT_TOKENS, [])
    if not token or entry not in tokens:
        return None
    session[IMPORT_TOKENS] = [t for t in tokens if t != entry]
    upload = importer.load_upload(folder=_upload_folder(), token=token)
    importer.discard_upload(folder=_upload_folder(), token=token)
    return upload


@bp.route("/programmes/<int:programme_id>/people/import", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def import_upload(programme_id):
    programme = _managed_programme(programme_id)
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            preview = importer.preview_import(
                data=data, filename=upload.filename or "", programme_id=programme.id
            )
        except DomainError as error:
            form.file.errors.append(error.message)
        else:
            token = importer.store_upload(folder=_upload_folder(), data=data, kind=preview.kind)
            _remember_token(programme.id, token)
            return render_template(
                "people/import_preview.html",
                programme=programme,
                preview=preview,
                form=ImportConfirmForm(token=token),
            )
    return render_template("people/import_upload.html", programme=programme, form=form)


@bp.route("/programmes/<int:programme_id>/people/import/confirm", methods=["POST"])
@role_required(Role.MANAGER)
def import_confirm(programme_id):
    programme = _managed_programme(programme_id)
    form = ImportConfirmForm()
    upload = _take_upload(programme.id, form.token.data if form.validate_on_submit() else None)
    if upload is None:
        flash(_("That upload has expired or was already used. Please upload it again."), "error")
        return redirect(url_for("people.import_upload", programme_id=programme.id))
    if request.form.get("cancel"):
        flash(_("The import is cancelled; nothing was saved."), "info")
        return redirect(url_for("people.import_upload", programme_id=programme.id))
    data, kind = upload
    try:
        preview = importer.preview_import(
            data=data, filename=f"upload.{kind}", programme_id=programme.id
        )
        result = importer.apply_import(preview=preview, programme_id=programme.id)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("people.import_upload", programme_id=programme.id))
    db.session.commit()
    return render_template("people/import_result.html", programme=programme, result=result)


@bp.route("/people/import-template.csv")
@role_required(Role.MANAGER)
def import_template():
    return Response(
        importer.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=akademia-participants.csv"},
    )
