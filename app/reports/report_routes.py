"""The donor report: the page, its files (XLSX, CSV, PDF, IATI), frozen snapshots, drill-down."""

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.permissions import can_manage_programme
from app.programmes.models import Programme
from app.security import role_required
from app.timeutil import utcnow

from . import data, files, labels, queries, services
from .aggregate import subjects
from .compute import compute_report
from .forms import LANGUAGES, FreezeForm, ReportForm
from .measures import MEASURES
from .models import ExportFormat, ReportSnapshot
from .presenter import present
from .routes import bp, load_programme
from .scope import Scope

CUSTOM = "custom"


def _default_period(programme: Programme, today: date):
    periods = sorted(programme.periods, key=lambda p: p.starts_on)
    current = [p for p in periods if p.starts_on <= today <= p.ends_on]
    if current:
        return current[0]
    past = [p for p in periods if p.ends_on < today]
    return past[-1] if past else (periods[0] if periods else None)


def _choice(programme: Programme) -> tuple[ReportForm, tuple]:
    """The period, language and audience asked for in the query string, or sensible defaults."""
    form = ReportForm(request.args)
    periods = sorted(programme.periods, key=lambda p: p.starts_on)
    form.period.choices = [(str(p.id), p.name) for p in periods] + [(CUSTOM, _("Dates below"))]
    chosen = next((p for p in periods if str(p.id) == form.period.data), None)
    if chosen is None and form.period.data != CUSTOM:
        chosen = _default_period(programme, utcnow().date())
    if chosen is not None:
        form.period.data = str(chosen.id)
        starts_on, ends_on = chosen.starts_on, chosen.ends_on
    else:
        form.period.data = CUSTOM
        form.validate()  # parses the dates; errors show next to the fields
        starts_on = form.starts_on.data or programme.starts_on
        ends_on = form.ends_on.data or min(programme.ends_on, utcnow().date())
    language = form.language.data if form.language.data in dict(LANGUAGES) else "en"
    return form, (starts_on, ends_on, language, bool(form.public.data))


def _args(starts_on, ends_on, language, public) -> dict:
    args = {"period": CUSTOM, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
    args["language"] = language
    if public:
        args["public"] = "y"
    return args


@bp.route("/programmes/<int:programme_id>/report")
@role_required(Role.MANAGER)
def report(programme_id):
    programme = load_programme(programme_id)
    form, (starts_on, ends_on, language, public) = _choice(programme)
    try:
        services.check_range(programme, starts_on, ends_on)
    except DomainError as error:
        flash(error.message, "error")
        starts_on, ends_on = programme.starts_on, programme.ends_on
    computed = compute_report(
        programme, starts_on=starts_on, ends_on=ends_on, language=language, public=public
    )
    with force_locale(language):
        shown = present(computed)
    args = _args(starts_on, ends_on, language, public)
    return render_template(
        "reports/report.html",
        programme=programme,
        form=form,
        report=shown,
        args=args,
        freeze_form=FreezeForm(
            formdata=None,
            starts_on=starts_on,
            ends_on=ends_on,
            language=language,
            public="y" if public else "",
        ),
        formats=list(ExportFormat),
        snapshot=None,
    )


def _download(content: bytes, fmt: ExportFormat, name: str) -> Response:
    mimetype, extension = files.MEDIA[fmt]
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/programmes/<int:programme_id>/report/export/<fmt>")
@role_required(Role.MANAGER)
def export(programme_id, fmt):
    programme = load_programme(programme_id)
    fmt = ExportFormat(fmt) if fmt in set(ExportFormat) else abort(404)
    _form, (starts_on, ends_on, language, public) = _choice(programme)
    try:
        services.check_range(programme, starts_on, ends_on)
        computed = compute_report(
            programme, starts_on=starts_on, ends_on=ends_on, language=language, public=public
        )
        content = files.render(fmt, computed, programme=programme)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(
            url_for(
                "reports.report",
                programme_id=programme.id,
                **_args(starts_on, ends_on, language, public),
            )
        )
    services.record_export(programme=programme, report=computed, format=fmt, by=current_user)
    db.session.commit()
    return _download(content, fmt, files.file_name(computed))


@bp.route("/programmes/<int:programme_id>/report/freeze", methods=["POST"])
@role_required(Role.MANAGER)
def freeze(programme_id):
    programme = load_programme(programme_id)
    form = FreezeForm()
    if not form.validate_on_submit():
        flash(_("Name the snapshot, e.g. “Q1 report sent to the donor”."), "error")
        return redirect(url_for("reports.report", programme_id=programme.id))
    language = form.language.data
    computed = compute_report(
        programme,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        language=language,
        public=form.public.data == "y",
    )
    snapshot = services.freeze(
        programme=programme, report=computed, title=form.title.data, by=current_user
    )
    db.session.commit()
    flash(_("The report is frozen: its files will always show these numbers."), "success")
    return redirect(url_for("reports.snapshot", snapshot_id=snapshot.id))


def _load_snapshot(snapshot_id: int) -> ReportSnapshot:
    snapshot = db.get_or_404(ReportSnapshot, snapshot_id)
    if not can_manage_programme(current_user, snapshot.programme_id):
        abort(403)
    return snapshot


@bp.route("/reports/snapshots/<int:snapshot_id>")
@role_required(Role.MANAGER)
def snapshot(snapshot_id):
    snapshot = _load_snapshot(snapshot_id)
    frozen = data.from_json(snapshot.content)
    with force_locale(frozen.language):
        shown = present(frozen)
    return render_template(
        "reports/report.html",
        programme=db.session.get(Programme, snapshot.programme_id),
        form=None,
        report=shown,
        args={},
        freeze_form=None,
        formats=list(ExportFormat),
        snapshot=snapshot,
    )


@bp.route("/reports/snapshots/<int:snapshot_id>/export/<fmt>")
@role_required(Role.MANAGER)
def snapshot_export(snapshot_id, fmt):
    snapshot = _load_snapshot(snapshot_id)
    fmt = ExportFormat(fmt) if fmt in set(ExportFormat) else abort(404)
    programme = db.session.get(Programme, snapshot.programme_id)
    frozen = data.from_json(snapshot.content)
    try:
        content = files.render(fmt, frozen, programme=programme, frozen=True)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("reports.snapshot", snapshot_id=snapshot.id))
    services.record_export(
        programme=programme, report=frozen, format=fmt, by=current_user, snapshot=snapshot
    )
    db.session.commit()
    return _download(content, fmt, files.file_name(frozen))


@bp.route("/programmes/<int:programme_id>/report/history")
@role_required(Role.MANAGER)
def history(programme_id):
    programme = load_programme(programme_id)
    return render_template(
        "reports/history.html",
        programme=programme,
        exports=queries.exports(programme.id),
        snapshots=queries.snapshots(programme.id),
    )


@bp.route("/programmes/<int:programme_id>/report/drill")
@role_required(Role.MANAGER)
def drill(programme_id):
    """The people (or sessions) behind a number; only managers of the programme see names."""
    programme = load_programme(programme_id)
    measure = MEASURES.get(request.args.get("measure", "")) or abort(404)
    _form, (starts_on, ends_on, language, _public) = _choice(programme)
    dimension = request.args.get("dimension") or None
    if dimension is not None and dimension not in measure.dimensions:
        abort(404)
    key = request.args.get("key") or None
    scope = Scope(programme.id, starts_on, ends_on, programme.attendance_threshold, utcnow())
    ids = subjects(measure, scope, dimension, key)
    lister = {
        "person": queries.people,
        "session": queries.sessions,
        "municipality": queries.municipalities,
        "institution": queries.institutions,
    }[measure.subject]
    return render_template(
        "reports/drill.html",
        programme=programme,
        measure=measure,
        dimension=dimension,
        key=key,
        starts_on=starts_on,
        ends_on=ends_on,
        subject=measure.subject,
        rows=lister(ids),
        dimension_label=labels.dimension_label(dimension) if dimension else None,
        key_label=labels.for_dimension(dimension).get(key, key) if dimension else None,
        total=queries.count(ids),
        limit=queries.DRILL_LIMIT,
        back=url_for(
            "reports.report",
            programme_id=programme.id,
            **_args(starts_on, ends_on, language, False),
        ),
    )
