"""The logframe: a programme's indicators, their targets per period and values entered by hand."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.permissions import can_manage_programme
from app.programmes.models import Programme
from app.security import role_required

from . import queries, services
from .formatting import FILTERS
from .forms import IndicatorForm, ManualValueForm
from .measures import MEASURES
from .models import IndicatorLevel, IndicatorUnit

bp = Blueprint("reports", __name__)
for _name, _filter in FILTERS.items():
    bp.add_app_template_filter(_filter, _name)


def load_programme(programme_id: int) -> Programme:
    programme = db.get_or_404(Programme, programme_id)
    if not can_manage_programme(current_user, programme.id):
        abort(403)
    return programme


def _load_indicator(indicator_id: int):
    indicator = queries.load_indicator(indicator_id)
    if indicator is None:
        abort(404)
    if not can_manage_programme(current_user, indicator.programme_id):
        abort(403)
    return indicator


@bp.route("/programmes/<int:programme_id>/logframe")
@role_required(Role.MANAGER)
def logframe(programme_id):
    programme = load_programme(programme_id)
    indicators = queries.indicators(programme.id)
    periods = sorted(programme.periods, key=lambda p: p.starts_on)
    return render_template(
        "reports/logframe.html",
        programme=programme,
        indicators=indicators,
        periods=periods,
        targets=queries.targets([i.id for i in indicators]),
        measures=MEASURES,
        unused=len(set(MEASURES) - {i.measure for i in indicators}),
    )


@bp.route("/programmes/<int:programme_id>/logframe/standard", methods=["POST"])
@role_required(Role.MANAGER)
def add_standard(programme_id):
    programme = load_programme(programme_id)
    added = services.add_standard_indicators(programme, by=current_user)
    db.session.commit()
    flash(ngettext("%(num)d indicator added.", "%(num)d indicators added.", len(added)), "success")
    return redirect(url_for("reports.logframe", programme_id=programme.id))


def _save(form: IndicatorForm, programme: Programme, indicator=None):
    return services.save_indicator(
        programme=programme,
        indicator=indicator,
        code=form.code.data,
        title=form.title.data,
        level=IndicatorLevel(form.level.data),
        unit=IndicatorUnit(form.unit.data),
        measure=form.measure.data,
        baseline_value=form.baseline_value.data,
        baseline_year=form.baseline_year.data,
        target=form.target.data,
        means_of_verification=form.means_of_verification.data,
    )


@bp.route("/programmes/<int:programme_id>/logframe/new", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def new_indicator(programme_id):
    programme = load_programme(programme_id)
    form = IndicatorForm()
    if form.validate_on_submit():
        try:
            indicator = _save(form, programme)
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The indicator %(code)s is saved.", code=indicator.code), "success")
            return redirect(url_for("reports.edit_indicator", indicator_id=indicator.id))
    return render_template(
        "reports/indicator_form.html", programme=programme, form=form, indicator=None
    )


def _period_targets(indicator) -> dict[int, float | None]:
    """Targets typed into the page's target-<period id> fields; a bad number is an error."""
    values = {}
    for period in indicator.programme.periods:
        raw = (request.form.get(f"target-{period.id}") or "").strip().replace(",", ".")
        try:
            values[period.id] = float(raw) if raw else None
        except ValueError:
            raise DomainError(
                _("The target for %(period)s is not a number.", period=period.name)
            ) from None
    return values


@bp.route("/indicators/<int:indicator_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit_indicator(indicator_id):
    indicator = _load_indicator(indicator_id)
    programme = indicator.programme
    form = IndicatorForm(obj=indicator)
    target_error = None
    if form.validate_on_submit():
        try:
            _save(form, programme, indicator)
            services.set_targets(indicator, _period_targets(indicator))
        except DomainError as error:
            db.session.rollback()
            if error.field:
                show_error(form, error, "code")
            else:
                target_error = error.message
        else:
            db.session.commit()
            flash(_("The indicator %(code)s is saved.", code=indicator.code), "success")
            return redirect(url_for("reports.logframe", programme_id=programme.id))
    value_form = ManualValueForm(prefix="value")
    value_form.period_id.choices = [(p.id, p.name) for p in programme.periods]
    return _render_indicator(indicator, form, value_form, target_error)


def _render_indicator(indicator, form, value_form, target_error=None):
    periods = sorted(indicator.programme.periods, key=lambda p: p.starts_on)
    typed = (
        {p.id: request.form.get(f"target-{p.id}") for p in periods}
        if request.method == "POST"
        else {}
    )
    saved = queries.targets([indicator.id])
    return render_template(
        "reports/indicator_form.html",
        programme=indicator.programme,
        indicator=indicator,
        form=form,
        value_form=value_form,
        periods=periods,
        targets={p.id: typed.get(p.id, saved.get((indicator.id, p.id))) for p in periods},
        target_error=target_error,
        values=queries.manual_values(indicator.id),
    )


@bp.route("/indicators/<int:indicator_id>/values", methods=["POST"])
@role_required(Role.MANAGER)
def enter_value(indicator_id):
    indicator = _load_indicator(indicator_id)
    value_form = ManualValueForm(prefix="value")
    value_form.period_id.choices = [(p.id, p.name) for p in indicator.programme.periods]
    if value_form.validate_on_submit():
        period = next(p for p in indicator.programme.periods if p.id == value_form.period_id.data)
        try:
            services.enter_value(
                indicator=indicator,
                period=period,
                value=float(value_form.value.data),
                evidence_url=value_form.evidence_url.data,
                note=value_form.note.data,
                by=current_user,
            )
        except DomainError as error:
            show_error(value_form, error, "value")
        else:
            db.session.commit()
            flash(_("The value for %(period)s is saved.", period=period.name), "success")
            return redirect(url_for("reports.edit_indicator", indicator_id=indicator.id))
    return _render_indicator(indicator, IndicatorForm(obj=indicator), value_form)


@bp.route("/indicators/<int:indicator_id>/delete", methods=["POST"])
@role_required(Role.MANAGER)
def delete_indicator(indicator_id):
    indicator = _load_indicator(indicator_id)
    programme_id, code = indicator.programme_id, indicator.code
    services.delete_indicator(indicator)
    db.session.commit()
    flash(_("The indicator %(code)s is deleted.", code=code), "success")
    return redirect(url_for("reports.logframe", programme_id=programme_id))
