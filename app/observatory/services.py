"""Writes of the Observatory: strategies, measures, milestones and their yearly assessments,
and the rules on years and dates that the indicator and recommendation services share.
Flushes, never commits."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.errors import Conflict, DomainError
from app.extensions import db

from .models import (
    NEEDS_EVIDENCE,
    Measure,
    Milestone,
    MilestoneAssessment,
    Status,
    Strategy,
)

BELGRADE = ZoneInfo("Europe/Belgrade")
# The first Digital Agenda of Kosovo began in 2013; nothing the Observatory tracks is older.
MIN_YEAR = 2010
LAST_STRATEGY_YEAR = 2100
MAX_EVIDENCE_LINKS = 20
LINK = re.compile(r"https?://[^\s/]+\.[^\s]+", re.IGNORECASE)


def local_today() -> date:
    """Today in Kosovo: a year rolls over at midnight Europe/Belgrade, not UTC."""
    return datetime.now(BELGRADE).date()


def clean_text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def check_year(year: int | None, *, today: date | None = None, field: str = "year") -> int:
    """A year the Observatory can hold data for: from MIN_YEAR to the current year."""
    last = (today or local_today()).year
    if year is None or not MIN_YEAR <= year <= last:
        raise DomainError(
            _("Choose a year between %(first)d and %(last)d.", first=MIN_YEAR, last=last),
            field=field,
        )
    return year


def check_assessed_on(assessed_on: date | None, year: int, today: date) -> date:
    if assessed_on is None:
        raise DomainError(_("Enter the date of the assessment."), field="assessed_on")
    if assessed_on > today:
        raise DomainError(_("The assessment date cannot be in the future."), field="assessed_on")
    if assessed_on.year < year:
        raise DomainError(
            _("An assessment of %(year)d cannot be dated before that year.", year=year),
            field="assessed_on",
        )
    return assessed_on


# --- Strategies, measures and milestones ------------------------------------------------


@dataclass
class StrategyFields:
    code: str
    title_en: str
    starts_year: int | None
    ends_year: int | None
    title_sq: str | None = None
    title_sr: str | None = None


@dataclass
class MeasureFields:
    code: str
    title_en: str
    responsible: str
    title_sq: str | None = None
    title_sr: str | None = None


@dataclass
class MilestoneFields:
    code: str
    title_en: str
    due_on: date | None
    responsible: str | None = None  # empty: the measure's institution
    title_sq: str | None = None
    title_sr: str | None = None


def _titles(item, values) -> None:
    if not clean_text(values.code):
        raise DomainError(_("Enter a code, such as 1.2."), field="code")
    if not clean_text(values.title_en):
        raise DomainError(_("Enter the title in English."), field="title_en")
    item.code = values.code.strip()
    item.title_en = values.title_en.strip()
    item.title_sq, item.title_sr = clean_text(values.title_sq), clean_text(values.title_sr)


def exists(model, *conditions, besides=None) -> bool:
    """Whether a row of the model meets the conditions, leaving out `besides` (being edited)."""
    query = sa.select(model.id).where(*conditions)
    if besides is not None and besides.id is not None:
        query = query.where(model.id != besides.id)
    return db.session.scalar(query.limit(1)) is not None


def save_strategy(strategy: Strategy | None, *, values: StrategyFields) -> Strategy:
    """Create or update a strategy document and the years it covers."""
    first, last = values.starts_year, values.ends_year
    if first is None or last is None or not (MIN_YEAR <= first <= last <= LAST_STRATEGY_YEAR):
        raise DomainError(
            _(
                "Enter the years the strategy covers, from %(first)d on, the first not after "
                "the last.",
                first=MIN_YEAR,
            ),
            field="starts_year",
        )
    code = (values.code or "").strip()
    if code and exists(Strategy, Strategy.code == code, besides=strategy):
        raise Conflict(_("Another strategy has the code %(code)s.", code=code), field="code")
    if strategy is None:
        strategy = Strategy()
        db.session.add(strategy)
    _titles(strategy, values)
    strategy.starts_year, strategy.ends_year = first, last
    db.session.flush()
    return strategy


def save_measure(measure: Measure | None, *, strategy: Strategy, values: MeasureFields) -> Measure:
    """Create or update a measure of the strategy."""
    if not clean_text(values.responsible):
        raise DomainError(_("Enter the responsible institution."), field="responsible")
    code = (values.code or "").strip()
    if code and exists(
        Measure, Measure.strategy_id == strategy.id, Measure.code == code, besides=measure
    ):
        raise Conflict(_("This strategy already has a measure %(code)s.", code=code), field="code")
    if measure is None:
        measure = Measure(strategy=strategy)
        db.session.add(measure)
    _titles(measure, values)
    measure.responsible = values.responsible.strip()
    db.session.flush()
    return measure


def save_milestone(
    milestone: Milestone | None, *, measure: Measure, values: MilestoneFields
) -> Milestone:
    """Create or update a milestone; its due date falls within the strategy's years."""
    strategy = measure.strategy
    if values.due_on is None:
        raise DomainError(_("Enter the due date."), field="due_on")
    if not strategy.starts_year <= values.due_on.year <= strategy.ends_year:
        raise DomainError(
            _(
                "The due date must fall within the strategy's years, %(first)d–%(last)d.",
                first=strategy.starts_year,
                last=strategy.ends_year,
            ),
            field="due_on",
        )
    code = (values.code or "").strip()
    if code and exists(
        Milestone, Milestone.measure_id == measure.id, Milestone.code == code, besides=milestone
    ):
        raise Conflict(_("This measure already has a milestone %(code)s.", code=code), field="code")
    if milestone is None:
        milestone = Milestone(measure=measure)
        db.session.add(milestone)
    _titles(milestone, values)
    milestone.responsible = clean_text(values.responsible)
    milestone.due_on = values.due_on
    db.session.flush()
    return milestone


def evidence_links(text: str | None) -> list[str]:
    """The links of an evidence field, one per line; raises DomainError for anything else."""
    links = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for link in links:
        if not LINK.fullmatch(link):
            raise DomainError(
                _(
                    "“%(value)s” is not a web link: write one link per line, starting with "
                    "https://.",
                    value=link[:80],
                ),
                field="evidence",
            )
    if len(links) > MAX_EVIDENCE_LINKS:
        raise DomainError(
            _("Give at most %(max)d evidence links.", max=MAX_EVIDENCE_LINKS), field="evidence"
        )
    return list(dict.fromkeys(links))


def assess_milestone(
    *,
    milestone: Milestone,
    year: int,
    status: Status | str,
    evidence: str | None,
    note: str | None,
    assessor: User,
    assessed_on: date | None,
    today: date | None = None,
) -> MilestoneAssessment:
    """Record (or correct) the milestone's state for the year; one assessment per year."""
    today = today or local_today()
    check_year(year, today=today)
    strategy = milestone.measure.strategy
    if year < strategy.starts_year:
        raise DomainError(
            _(
                "%(strategy)s starts in %(year)d: there is nothing to assess before.",
                strategy=strategy.code,
                year=strategy.starts_year,
            ),
            field="year",
        )
    status = Status(status)
    links = evidence_links(evidence)
    if status in NEEDS_EVIDENCE and not links:
        raise DomainError(
            _(
                "Add at least one evidence link: readers must be able to check a rating of "
                "progress."
            ),
            field="evidence",
        )
    values = {
        "status": status,
        "evidence": "\n".join(links),
        "note": clean_text(note),
        "assessor_id": assessor.id,
        "assessed_on": check_assessed_on(assessed_on, year, today),
    }
    assessment = db.session.scalar(
        sa.select(MilestoneAssessment).where(
            MilestoneAssessment.milestone_id == milestone.id, MilestoneAssessment.year == year
        )
    )
    if assessment is None:
        assessment = MilestoneAssessment(milestone_id=milestone.id, year=year, **values)
        db.session.add(assessment)
    else:
        for name, value in values.items():
            setattr(assessment, name, value)
    db.session.flush()
    return assessment
