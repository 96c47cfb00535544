"""Reads of the Observatory: loading one object, the years with data, strategies and
recommendations; shared helpers for the progress and scorecard reads. Rows come back as plain
dataclasses; see progress.py and scorecards.py for the aggregates."""

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.i18n import CONTENT_SUFFIX, current_locale

from .models import (
    Measure,
    Milestone,
    MilestoneAssessment,
    MunicipalIndicator,
    Recommendation,
    RecommendationUptake,
    Strategy,
)
from .services import local_today


def natural_key(code: str) -> tuple:
    """Orders "1.2" before "1.10", as strategy documents number them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", code))


def localized_columns(model, name: str) -> list:
    """The English, Albanian and Serbian columns of a translated field, in that order."""
    return [getattr(model, f"{name}_{suffix}") for suffix in ("en", "sq", "sr")]


def pick(en: str, sq: str | None, sr: str | None, locale: str | None = None) -> str:
    """The text in the locale's language, falling back to English."""
    suffix = CONTENT_SUFFIX.get(locale or current_locale(), "en")
    return {"en": en, "sq": sq, "sr": sr}[suffix] or en or ""


def rate(part: int, whole: int) -> float | None:
    """A share in percent, None when there is nothing to share."""
    return round(100 * part / whole, 1) if whole else None


# --- Loading one object -----------------------------------------------------------------


def load_strategy(strategy_id: int) -> Strategy | None:
    return db.session.get(Strategy, strategy_id)


def load_measure(measure_id: int) -> Measure | None:
    return db.session.scalar(
        sa.select(Measure).where(Measure.id == measure_id).options(so.joinedload(Measure.strategy))
    )


def load_milestone(milestone_id: int) -> Milestone | None:
    return db.session.scalar(
        sa.select(Milestone)
        .where(Milestone.id == milestone_id)
        .options(so.joinedload(Milestone.measure).joinedload(Measure.strategy))
    )


def load_recommendation(recommendation_id: int) -> Recommendation | None:
    return db.session.get(Recommendation, recommendation_id)


def assessment_for(milestone_id: int, year: int) -> MilestoneAssessment | None:
    return db.session.scalar(
        sa.select(MilestoneAssessment).where(
            MilestoneAssessment.milestone_id == milestone_id, MilestoneAssessment.year == year
        )
    )


def indicators_for(municipality_id: int, year: int) -> MunicipalIndicator | None:
    return db.session.scalar(
        sa.select(MunicipalIndicator).where(
            MunicipalIndicator.municipality_id == municipality_id,
            MunicipalIndicator.year == year,
        )
    )


def uptake_for(recommendation_id: int, year: int) -> RecommendationUptake | None:
    return db.session.scalar(
        sa.select(RecommendationUptake).where(
            RecommendationUptake.recommendation_id == recommendation_id,
            RecommendationUptake.year == year,
        )
    )


# --- Years ------------------------------------------------------------------------------


def _years_union():
    return sa.union_all(
        sa.select(MilestoneAssessment.year.label("year")),
        sa.select(MunicipalIndicator.year),
        sa.select(Recommendation.year),
    ).subquery()


def years_with_data() -> list[int]:
    """Every year something was recorded for, newest first."""
    years = _years_union()
    return list(
        db.session.scalars(sa.select(years.c.year).distinct().order_by(years.c.year.desc()))
    )


def latest_year(today: date | None = None) -> int:
    """The newest year with data, else the current year: what a report shows by default."""
    years = _years_union()
    return db.session.scalar(sa.select(sa.func.max(years.c.year))) or (today or local_today()).year


# --- Strategies and measures ----------------------------------------------------------


@dataclass
class StrategyRow:
    id: int
    code: str
    title: str
    starts_year: int
    ends_year: int
    measures: int
    milestones: int


def strategy_rows(locale: str | None = None) -> list[StrategyRow]:
    """Every strategy with its number of measures and milestones; one query."""
    rows = db.session.execute(
        sa.select(
            Strategy.id,
            Strategy.code,
            *localized_columns(Strategy, "title"),
            Strategy.starts_year,
            Strategy.ends_year,
            sa.func.count(sa.distinct(Measure.id)),
            sa.func.count(Milestone.id),
        )
        .outerjoin(Measure, Measure.strategy_id == Strategy.id)
        .outerjoin(Milestone, Milestone.measure_id == Measure.id)
        .group_by(Strategy.id)
        .order_by(Strategy.starts_year.desc(), Strategy.code)
    )
    return [
        StrategyRow(sid, code, pick(en, sq, sr, locale), first, last, measures, milestones)
        for sid, code, en, sq, sr, first, last, measures, milestones in rows
    ]


# --- Recommendations --------------------------------------------------------------------


@dataclass
class RecommendationRow:
    id: int
    year: int
    number: int
    text: str
    addressed_to: str
    uptake: str | None = None  # as assessed in the uptake year; None: not assessed
    uptake_note: str | None = None


def recommendation_rows(
    year: int, *, uptake_year: int, locale: str | None = None
) -> list[RecommendationRow]:
    """The year's recommendations by number, with their uptake as assessed in uptake_year."""
    up = RecommendationUptake
    rows = db.session.execute(
        sa.select(
            Recommendation.id,
            Recommendation.year,
            Recommendation.number,
            *localized_columns(Recommendation, "text"),
            Recommendation.addressed_to,
            up.uptake,
            up.note,
        )
        .outerjoin(up, sa.and_(up.recommendation_id == Recommendation.id, up.year == uptake_year))
        .where(Recommendation.year == year)
        .order_by(Recommendation.number)
    )
    return [
        RecommendationRow(rid, ryear, number, pick(en, sq, sr, locale), to, uptake, note)
        for rid, ryear, number, en, sq, sr, to, uptake, note in rows
    ]
