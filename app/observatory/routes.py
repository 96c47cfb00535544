"""Strategies, measures and milestones, and the yearly assessment of each milestone.

The Observatory's data is not tied to a programme: every manager and administrator keeps it,
so the role check is the whole permission check. The blueprint's other views are in
indicator_routes.py, recommendation_routes.py and report_routes.py, imported here so that
registering this module's `bp` registers them all.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.security import role_required

from . import bp, indicator_routes, progress, queries, recommendation_routes, report_routes
from . import services as svc
from .forms import AssessmentForm, MeasureForm, MilestoneForm, StrategyForm
from .models import STATUS_HELP, STATUS_LABELS
from .scorecards import indicator_summary
from .views import requested_year

__all__ = ["bp", "indicator_routes", "recommendation_routes", "report_routes"]

TITLES = ["code", "title_en", "title_sq", "title_sr"]


def _form_page(form, *, heading: str, fields: list[str], back: str, intro=()):
    return render_template(
        "observatory/form.html", form=form, heading=heading, fields=fields, back=back, intro=intro
    )


@bp.route("/")
@role_required(Role.MANAGER)
def index():
    year = requested_year()
    total = progress.milestone_total()
    # A year nobody assessed has no share, as in the report: not 0 %.
    complete = {row.year: row.complete for row in progress.completion_by_year()}
    return render_template(
        "observatory/index.html",
        year=year,
        strategies=queries.strategy_rows(),
        completion=[
            (y, queries.rate(complete[y], total) if y in complete else None)
            for y in (year, year - 1)
        ],
        summary=indicator_summary([year])[year],
        years=queries.years_with_data(),
    )


@bp.route("/strategies/new", methods=["GET", "POST"], defaults={"strategy_id": None})
@bp.route("/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def strategy_form(strategy_id):
    strategy = queries.load_strategy(strategy_id) or abort(404) if strategy_id else None
    form = StrategyForm(obj=strategy)
    if form.validate_on_submit():
        try:
            strategy = svc.save_strategy(strategy, values=form.fields())
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The strategy is saved."), "success")
            return redirect(url_for("observatory.strategy", strategy_id=strategy.id))
    return _form_page(
        form,
        heading=_("Edit the strategy") if strategy else _("New strategy"),
        fields=[*TITLES, "starts_year", "ends_year"],
        back=url_for("observatory.index"),
    )


@bp.route("/strategies/<int:strategy_id>")
@role_required(Role.MANAGER)
def strategy(strategy_id):
    strategy = queries.load_strategy(strategy_id) or abort(404)
    year = requested_year()
    return render_template(
        "observatory/strategy.html",
        strategy=strategy,
        year=year,
        measures=progress.measure_progress(year, strategy_id=strategy.id),
    )


@bp.route("/strategies/<int:strategy_id>/measures/new", methods=["GET", "POST"])
@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def measure_form(strategy_id=None, measure_id=None):
    measure = queries.load_measure(measure_id) or abort(404) if measure_id else None
    strategy = measure.strategy if measure else queries.load_strategy(strategy_id) or abort(404)
    form = MeasureForm(obj=measure)
    if form.validate_on_submit():
        try:
            measure = svc.save_measure(measure, strategy=strategy, values=form.fields())
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The measure is saved."), "success")
            return redirect(url_for("observatory.measure", measure_id=measure.id))
    return _form_page(
        form,
        heading=_("Edit the measure") if measure else _("New measure"),
        fields=[*TITLES, "responsible"],
        back=url_for("observatory.strategy", strategy_id=strategy.id),
        intro=[f"{strategy.code} · {strategy.localized('title')}"],
    )


@bp.route("/measures/<int:measure_id>")
@role_required(Role.MANAGER)
def measure(measure_id):
    measure = queries.load_measure(measure_id) or abort(404)
    year = requested_year()
    rows = progress.measure_progress(year, strategy_id=measure.strategy_id)
    return render_template(
        "observatory/measure.html",
        measure=measure,
        year=year,
        progress=next(row for row in rows if row.measure_id == measure.id),
        milestones=progress.milestone_rows(year, measure_ids=[measure.id]),
        status_labels=STATUS_LABELS,
    )


@bp.route("/measures/<int:measure_id>/milestones/new", methods=["GET", "POST"])
@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def milestone_form(measure_id=None, milestone_id=None):
    milestone = queries.load_milestone(milestone_id) or abort(404) if milestone_id else None
    measure = milestone.measure if milestone else queries.load_measure(measure_id) or abort(404)
    form = MilestoneForm(obj=milestone)
    if form.validate_on_submit():
        try:
            svc.save_milestone(milestone, measure=measure, values=form.fields())
        except DomainError as error:
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("The milestone is saved."), "success")
            return redirect(url_for("observatory.measure", measure_id=measure.id))
    return _form_page(
        form,
        heading=_("Edit the milestone") if milestone else _("New milestone"),
        fields=[*TITLES, "responsible", "due_on"],
        back=url_for("observatory.measure", measure_id=measure.id),
        intro=[f"{measure.code} · {measure.localized('title')} · {measure.responsible}"],
    )


@bp.route("/milestones/<int:milestone_id>/assess", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def assess(milestone_id):
    milestone = queries.load_milestone(milestone_id) or abort(404)
    year = requested_year(default=svc.local_today().year)
    assessment = queries.assessment_for(milestone.id, year)
    form = AssessmentForm(obj=assessment, assessed_on=svc.local_today())
    if form.validate_on_submit():
        try:
            svc.assess_milestone(
                milestone=milestone,
                year=year,
                status=form.status.data,
                evidence=form.evidence.data,
                note=form.note.data,
                assessor=current_user,
                assessed_on=form.assessed_on.data,
            )
        except DomainError as error:
            show_error(form, error, "status")
        else:
            db.session.commit()
            flash(_("The assessment for %(year)d is saved.", year=year), "success")
            return redirect(
                url_for("observatory.measure", measure_id=milestone.measure_id, year=year)
            )
    return _form_page(
        form,
        heading=_("Assess milestone %(code)s for %(year)d", code=milestone.code, year=year),
        fields=["status", "evidence", "note", "assessed_on"],
        back=url_for("observatory.measure", measure_id=milestone.measure_id, year=year),
        intro=[milestone.localized("title"), milestone.responsible_institution]
        + [f"{STATUS_LABELS[s]}: {text}" for s, text in STATUS_HELP.items()],
    )
