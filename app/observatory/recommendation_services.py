"""Writes of the numbered recommendations and of their uptake, assessed in a later year.
Flushes, never commits."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.errors import Conflict, DomainError
from app.extensions import db

from .models import Recommendation, RecommendationUptake, Uptake
from .services import check_assessed_on, check_year, clean_text, exists, local_today

MAX_NUMBER = 10_000


@dataclass
class RecommendationFields:
    year: int | None
    text_en: str
    addressed_to: str
    number: int | None = None  # None: the next free number of the year
    text_sq: str | None = None
    text_sr: str | None = None


def next_number(year: int) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(Recommendation.number)).where(Recommendation.year == year)
    )
    return (highest or 0) + 1


def save_recommendation(
    recommendation: Recommendation | None,
    *,
    values: RecommendationFields,
    today: date | None = None,
) -> Recommendation:
    """Create or update a numbered recommendation; numbers are unique within a year."""
    year = check_year(values.year, today=today)
    if not clean_text(values.text_en):
        raise DomainError(_("Enter the recommendation in English."), field="text_en")
    if not clean_text(values.addressed_to):
        raise DomainError(_("Enter the institutions it is addressed to."), field="addressed_to")
    number = values.number if values.number is not None else next_number(year)
    if number < 1:
        raise DomainError(_("Recommendations are numbered from 1."), field="number")
    if number > MAX_NUMBER:  # a typo; it would not fit the column either
        raise DomainError(
            _("Enter a number no larger than %(num)d.", num=MAX_NUMBER), field="number"
        )
    if exists(
        Recommendation,
        Recommendation.year == year,
        Recommendation.number == number,
        besides=recommendation,
    ):
        raise Conflict(
            _(
                "Recommendation %(number)d of %(year)d already exists: choose another number.",
                number=number,
                year=year,
            ),
            field="number",
        )
    if recommendation is not None and exists(
        RecommendationUptake,
        RecommendationUptake.recommendation_id == recommendation.id,
        RecommendationUptake.year <= year,
    ):
        raise DomainError(
            _(
                "Its uptake is already assessed for that year or an earlier one: the "
                "recommendation cannot move to %(year)d.",
                year=year,
            ),
            field="year",
        )
    if recommendation is None:
        recommendation = Recommendation()
        db.session.add(recommendation)
    recommendation.year, recommendation.number = year, number
    recommendation.text_en = values.text_en.strip()
    recommendation.text_sq, recommendation.text_sr = (
        clean_text(values.text_sq),
        clean_text(values.text_sr),
    )
    recommendation.addressed_to = values.addressed_to.strip()
    db.session.flush()
    return recommendation


def assess_uptake(
    *,
    recommendation: Recommendation,
    year: int,
    uptake: Uptake | str,
    note: str | None,
    assessor: User,
    assessed_on: date | None,
    today: date | None = None,
) -> RecommendationUptake:
    """Record how far a recommendation was taken up, as seen in a year after it was made."""
    today = today or local_today()
    check_year(year, today=today)
    if year <= recommendation.year:
        raise DomainError(
            _(
                "Uptake is assessed in a later year than the recommendation: %(year)d or after.",
                year=recommendation.year + 1,
            ),
            field="year",
        )
    values = {
        "uptake": Uptake(uptake),
        "note": clean_text(note),
        "assessor_id": assessor.id,
        "assessed_on": check_assessed_on(assessed_on, year, today),
    }
    record = db.session.scalar(
        sa.select(RecommendationUptake).where(
            RecommendationUptake.recommendation_id == recommendation.id,
            RecommendationUptake.year == year,
        )
    )
    if record is None:
        record = RecommendationUptake(recommendation_id=recommendation.id, year=year, **values)
        db.session.add(record)
    else:
        for name, value in values.items():
            setattr(record, name, value)
    db.session.flush()
    return record
