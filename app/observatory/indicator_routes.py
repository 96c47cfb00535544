"""Municipal indicators: the year's scorecards, one municipality's values, and the import of a
whole file with a preview that is saved only when confirmed."""

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.people import importer as uploads
from app.places.models import Municipality
from app.security import role_required

from . import bp, importer, queries
from .forms import ImportConfirmForm, ImportUploadForm, IndicatorForm
from .indicator_services import save_indicators
from .models import BILINGUAL_LABELS, INDICATOR_LABELS, MATURITY_LABELS
from .scorecards import indicator_summary, scorecards
from .services import local_today
from .views import requested_year

# The uploads this browser may confirm; the file itself stays on the server.
IMPORT_TOKENS = "observatory_import_tokens"


@bp.route("/municipalities")
@role_required(Role.MANAGER)
def indicators():
    year = requested_year()
    return render_template(
        "observatory/indicators.html",
        year=year,
        cards=scorecards(year),
        summary=indicator_summary([year])[year],
        labels=INDICATOR_LABELS,
        maturity_labels=MATURITY_LABELS,
        bilingual_labels=BILINGUAL_LABELS,
    )


@bp.route("/municipalities/<int:municipality_id>/indicators", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def indicator_form(municipality_id):
    municipality = db.get_or_404(Municipality, municipality_id)
    year = requested_year(default=local_today().year)
    form = IndicatorForm(obj=queries.indicators_for(municipality.id, year))
    if form.validate_on_submit():
        try:
            save_indicators(
                municipality=municipality, year=year, values=form.values(), by=current_user
            )
        except DomainError as error:
            show_error(form, error, "online_services")
        else:
            db.session.commit()
            flash(
                _(
                    "The indicators of %(name)s for %(year)d are saved.",
                    name=municipality.display_name,
                    year=year,
                ),
                "success",
            )
            return redirect(url_for("observatory.indicators", year=year))
    return render_template(
        "observatory/form.html",
        form=form,
        heading=_("%(name)s: indicators for %(year)d", name=municipality.display_name, year=year),
        fields=list(INDICATOR_LABELS),
        back=url_for("observatory.indicators", year=year),
        intro=[_("Leave a field empty when it was not measured.")],
    )


def _remember(token: str) -> None:
    session[IMPORT_TOKENS] = (session.get(IMPORT_TOKENS, []) + [token])[-5:]


def _take_upload(token: str | None) -> tuple[bytes, str] | None:
    """What this browser uploaded under the token; used once only."""
    tokens = session.get(IMPORT_TOKENS, [])
    if not uploads.valid_token(token) or token not in tokens:
        return None
    session[IMPORT_TOKENS] = [t for t in tokens if t != token]
    folder = uploads.upload_folder(current_app.instance_path)
    upload = uploads.load_upload(folder=folder, token=token)
    uploads.discard_upload(folder=folder, token=token)
    return upload


@bp.route("/indicators/import", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def import_indicators():
    form = ImportUploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(uploads.MAX_BYTES + 1)
        try:
            preview = importer.preview_indicators(data=data, filename=form.file.data.filename or "")
        except DomainError as error:
            form.file.errors.append(error.message)
        else:
            token = None
            if not preview.error_rows:
                folder = uploads.upload_folder(current_app.instance_path)
                token = uploads.store_upload(folder=folder, data=data, kind=preview.kind)
                _remember(token)
            return render_template(
                "observatory/import_preview.html",
                preview=preview,
                form=ImportConfirmForm(token=token),
            )
    return render_template("observatory/import_upload.html", form=form, year=local_today().year - 1)


@bp.route("/indicators/import/confirm", methods=["POST"])
@role_required(Role.MANAGER)
def import_confirm():
    form = ImportConfirmForm()
    upload = _take_upload(form.token.data if form.validate_on_submit() else None)
    if upload is None:
        flash(_("That upload has expired or was already used. Please upload it again."), "error")
        return redirect(url_for("observatory.import_indicators"))
    if request.form.get("cancel"):
        flash(_("The import is cancelled; nothing was saved."), "info")
        return redirect(url_for("observatory.import_indicators"))
    data, kind = upload
    try:
        # Checked again: the records may have changed since the preview.
        preview = importer.preview_indicators(data=data, filename=f"upload.{kind}")
        result = importer.apply_preview(preview=preview, by=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("observatory.import_indicators"))
    db.session.commit()
    flash(
        _(
            "The indicators are imported: %(new)d new, %(updated)d updated, %(same)d unchanged.",
            new=result.created,
            updated=result.updated,
            same=result.unchanged,
        ),
        "success",
    )
    years = sorted({row.year for row in preview.rows})
    return redirect(url_for("observatory.indicators", year=years[-1]))


@bp.route("/indicators/template.csv")
@role_required(Role.MANAGER)
def import_template():
    year = requested_year(default=local_today().year - 1)
    return Response(
        importer.template_csv(year),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="indicators-{year}.csv"'},
    )
