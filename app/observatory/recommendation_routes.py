"""Numbered recommendations of a year's report, and their uptake assessed in a later year."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.security import role_required

from . import bp, queries
from .forms import RecommendationForm, UptakeForm
from .models import UPTAKE_LABELS
from .recommendation_services import assess_uptake, save_recommendation
from .services import local_today
from .views import requested_year


@bp.route("/recommendations")
@role_required(Role.MANAGER)
def recommendations():
    year = requested_year()
    return render_template(
        "observatory/recommendations.html",
        year=year,
        current=queries.recommendation_rows(year, uptake_year=year + 1),
        previous=queries.recommendation_rows(year - 1, uptake_year=year),
        uptake_labels=UPTAKE_LABELS,
        next_year_open=year + 1 <= local_today().year,
    )


@bp.route("/recommendations/new", methods=["GET", "POST"], defaults={"recommendation_id": None})
@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def recommendation_form(recommendation_id):
    recommendation = (
        queries.load_recommendation(recommendation_id) or abort(404) if recommendation_id else None
    )
    form = RecommendationForm(obj=recommendation, year=requested_year())
    if form.validate_on_submit():
        try:
            recommendation = save_recommendation(recommendation, values=form.fields())
        except DomainError as error:
            show_error(form, error, "text_en")
        else:
            db.session.commit()
            flash(_("Recommendation %(label)s is saved.", label=recommendation.label), "success")
            return redirect(url_for("observatory.recommendations", year=recommendation.year))
    return render_template(
        "observatory/form.html",
        form=form,
        heading=_("Edit the recommendation") if recommendation else _("New recommendation"),
        fields=["year", "number", "text_en", "text_sq", "text_sr", "addressed_to"],
        back=url_for("observatory.recommendations"),
        intro=[],
    )


@bp.route("/recommendations/<int:recommendation_id>/uptake", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def uptake_form(recommendation_id):
    recommendation = queries.load_recommendation(recommendation_id) or abort(404)
    year = requested_year(default=recommendation.year + 1)
    record = queries.uptake_for(recommendation.id, year)
    form = UptakeForm(obj=record, assessed_on=local_today())
    if form.validate_on_submit():
        try:
            assess_uptake(
                recommendation=recommendation,
                year=year,
                uptake=form.uptake.data,
                note=form.note.data,
                assessor=current_user,
                assessed_on=form.assessed_on.data,
            )
        except DomainError as error:
            show_error(form, error, "uptake")
        else:
            db.session.commit()
            flash(
                _("The uptake of recommendation %(label)s is saved.", label=recommendation.label),
                "success",
            )
            return redirect(url_for("observatory.recommendations", year=year))
    return render_template(
        "observatory/form.html",
        form=form,
        heading=_(
            "Uptake of recommendation %(label)s, as seen in %(year)d",
            label=recommendation.label,
            year=year,
        ),
        fields=["uptake", "note", "assessed_on"],
        back=url_for("observatory.recommendations", year=year),
        intro=[
            recommendation.localized("text"),
            _("Addressed to: %(to)s", to=recommendation.addressed_to),
        ],
    )
