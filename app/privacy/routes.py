"""Downloads of one's own data, and an administrator's download and erasure of a person's."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.people.queries import load_person
from app.security import login_required, role_required
from app.timeutil import utcnow

from . import export, services
from .forms import ErasureForm

bp = Blueprint("privacy", __name__)

FORMATS = {"json": "application/json", "pdf": "application/pdf"}


def _download(person, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    data = export.collect(person, utcnow())
    body = export.json_bytes(data) if fmt == "json" else export.pdf_bytes(data, person.full_name)
    return Response(
        body,
        mimetype=FORMATS[fmt],
        headers={
            "Content-Disposition": f"attachment; filename={export.file_stem(data)}.{fmt}",
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/my-data")
@login_required
def my_data():
    data = export.collect(current_user.person, utcnow())
    return render_template("privacy/my_data.html", summary=export.summary(data))


@bp.route("/my-data/download.<fmt>")
@login_required
def my_data_download(fmt):
    # Always the signed-in person's own data: no id in the address to change.
    return _download(current_user.person, fmt)


def _person(person_id: int):
    return load_person(person_id) or abort(404)


@bp.route("/people/<int:person_id>/data.<fmt>")
@role_required(Role.ADMIN)
def person_download(person_id, fmt):
    return _download(_person(person_id), fmt)


@bp.route("/people/<int:person_id>/erase", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def erase(person_id):
    person = _person(person_id)
    if person.erased_at is not None:
        flash(_("This person's data was erased already."), "info")
        return redirect(url_for("people.detail", person_id=person.id))
    form = ErasureForm()
    if form.validate_on_submit():
        try:
            erasure = services.erase_person(
                person=person, by=current_user, reason=form.reason.data, now=utcnow()
            )
        except DomainError as error:
            show_error(form, error, "reason")
        else:
            db.session.commit()
            services.delete_files(erasure.files)
            flash(_("The personal data of person #%(id)s is erased.", id=person_id), "success")
            return redirect(url_for("people.detail", person_id=person_id))
    summary = export.summary(export.collect(person, utcnow()))
    return render_template("privacy/erase.html", form=form, person=person, summary=summary)
