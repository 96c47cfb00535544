"""How far the strategy's measures have come: milestones counted by the status they were given
each year, beside the year before. Aggregates in SQL, one query per function."""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.extensions import db
from app.people.models import Person

from .models import Measure, Milestone, MilestoneAssessment, Status, Strategy
from .queries import localized_columns, natural_key, pick, rate

ADVANCED = (Status.COMPLETE, Status.SUBSTANTIAL)


@dataclass
class Shares:
    """Milestones counted by the status they were given for a year, beside the year before.

    Shares are of all the milestones: one not assessed counts as not done. A year in which
    none of them was assessed has no share at all (None), so that the first year of the
    Observatory is not compared with a year of zeros.
    """

    milestones: int
    counts: dict[Status, int]  # assessments of the year by status
    previous_assessed: int = 0
    previous_complete: int = 0
    previous_advanced: int = 0  # substantial or complete

    @classmethod
    def total(cls, parts: list["Shares"]) -> "Shares":
        return cls(
            milestones=sum(p.milestones for p in parts),
            counts={s: sum(p.counts[s] for p in parts) for s in Status},
            previous_assessed=sum(p.previous_assessed for p in parts),
            previous_complete=sum(p.previous_complete for p in parts),
            previous_advanced=sum(p.previous_advanced for p in parts),
        )

    @property
    def assessed(self) -> int:
        return sum(self.counts.values())

    @property
    def not_assessed(self) -> int:
        return self.milestones - self.assessed

    @property
    def complete(self) -> int:
        return self.counts[Status.COMPLETE]

    @property
    def advanced(self) -> int:
        return sum(self.counts[s] for s in ADVANCED)

    def _share(self, part: int, assessed: int) -> float | None:
        return rate(part, self.milestones) if assessed else None

    @property
    def complete_rate(self) -> float | None:
        return self._share(self.complete, self.assessed)

    @property
    def advanced_rate(self) -> float | None:
        return self._share(self.advanced, self.assessed)

    @property
    def previous_complete_rate(self) -> float | None:
        return self._share(self.previous_complete, self.previous_assessed)

    @property
    def previous_advanced_rate(self) -> float | None:
        return self._share(self.previous_advanced, self.previous_assessed)

    # From the counts, not the rounded rates: 2 of 3 after 1 of 3 is +33.3 points, not +33.4.
    @property
    def complete_change(self) -> float | None:
        both = self.assessed and self.previous_assessed
        return self._share(self.complete - self.previous_complete, both)

    @property
    def advanced_change(self) -> float | None:
        both = self.assessed and self.previous_assessed
        return self._share(self.advanced - self.previous_advanced, both)


@dataclass
class MeasureProgress(Shares):
    measure_id: int = 0
    strategy_id: int = 0
    strategy_code: str = ""
    code: str = ""
    title: str = ""
    responsible: str = ""


def measure_progress(
    year: int, *, strategy_id: int | None = None, locale: str | None = None
) -> list[MeasureProgress]:
    """Every measure (of one strategy, or all) with its milestones counted by the status they
    were given for the year and the year before (see Shares); one query.
    """
    current = MilestoneAssessment.year == year
    previous = MilestoneAssessment.year == year - 1
    query = (
        sa.select(
            Measure.id,
            Measure.strategy_id,
            Strategy.code,
            Measure.code,
            *localized_columns(Measure, "title"),
            Measure.responsible,
            # Two assessments (this year and last) can join one milestone: count it once.
            sa.func.count(sa.distinct(Milestone.id)),
            *(
                sa.func.count(MilestoneAssessment.id).filter(
                    current, MilestoneAssessment.status == status
                )
                for status in Status
            ),
            sa.func.count(MilestoneAssessment.id).filter(previous),
            sa.func.count(MilestoneAssessment.id).filter(
                previous, MilestoneAssessment.status == Status.COMPLETE
            ),
            sa.func.count(MilestoneAssessment.id).filter(
                previous, MilestoneAssessment.status.in_(ADVANCED)
            ),
        )
        .join(Strategy, Strategy.id == Measure.strategy_id)
        .outerjoin(Milestone, Milestone.measure_id == Measure.id)
        .outerjoin(
            MilestoneAssessment,
            sa.and_(
                MilestoneAssessment.milestone_id == Milestone.id,
                MilestoneAssessment.year.in_([year, year - 1]),
            ),
        )
        .group_by(Measure.id, Strategy.code)
    )
    if strategy_id is not None:
        query = query.where(Measure.strategy_id == strategy_id)
    result = []
    for row in db.session.execute(query):
        mid, sid, scode, code, en, sq, sr, responsible, milestones, *rest = row
        counts = dict(zip(Status, rest[: len(Status)], strict=True))
        result.append(
            MeasureProgress(
                measure_id=mid,
                strategy_id=sid,
                strategy_code=scode,
                code=code,
                title=pick(en, sq, sr, locale),
                responsible=responsible,
                milestones=milestones,
                counts=counts,
                previous_assessed=rest[-3],
                previous_complete=rest[-2],
                previous_advanced=rest[-1],
            )
        )
    return sorted(result, key=lambda m: (m.strategy_code, natural_key(m.code)))


@dataclass
class YearCompletion:
    year: int
    assessed: int
    complete: int
    advanced: int


def completion_by_year(*, strategy_id: int | None = None) -> list[YearCompletion]:
    """Assessments counted per year, oldest first; one query."""
    query = (
        sa.select(
            MilestoneAssessment.year,
            sa.func.count(MilestoneAssessment.id),
            sa.func.count(MilestoneAssessment.id).filter(
                MilestoneAssessment.status == Status.COMPLETE
            ),
            sa.func.count(MilestoneAssessment.id).filter(
                MilestoneAssessment.status.in_([Status.COMPLETE, Status.SUBSTANTIAL])
            ),
        )
        .group_by(MilestoneAssessment.year)
        .order_by(MilestoneAssessment.year)
    )
    if strategy_id is not None:
        query = (
            query.join(Milestone, Milestone.id == MilestoneAssessment.milestone_id)
            .join(Measure, Measure.id == Milestone.measure_id)
            .where(Measure.strategy_id == strategy_id)
        )
    return [YearCompletion(*row) for row in db.session.execute(query)]


def milestone_total(*, strategy_id: int | None = None) -> int:
    query = sa.select(sa.func.count(Milestone.id))
    if strategy_id is not None:
        query = query.join(Measure).where(Measure.strategy_id == strategy_id)
    return db.session.scalar(query)


@dataclass
class MilestoneRow:
    id: int
    measure_id: int
    code: str
    title: str
    responsible: str
    due_on: date
    status: Status | None = None  # as assessed for the year; None: not assessed
    previous_status: Status | None = None
    evidence: list[str] = field(default_factory=list)
    note: str | None = None
    assessor: str | None = None
    assessed_on: date | None = None
    year: int = 0
    measure_code: str = ""

    @property
    def overdue(self) -> bool:
        """Due by the end of the year and not complete."""
        return self.due_on.year <= self.year and self.status != Status.COMPLETE


def milestone_rows(
    year: int,
    *,
    measure_ids: list[int] | None = None,
    locale: str | None = None,
) -> list[MilestoneRow]:
    """Milestones (of some measures, or all) with their assessment of the year and the status
    of the year before, in the strategy document's order; one query."""
    now = so.aliased(MilestoneAssessment)
    before = so.aliased(MilestoneAssessment)
    query = (
        sa.select(
            Milestone.id,
            Milestone.measure_id,
            Milestone.code,
            *localized_columns(Milestone, "title"),
            sa.func.coalesce(Milestone.responsible, Measure.responsible),
            Milestone.due_on,
            now.status,
            before.status,
            now.evidence,
            now.note,
            Person.first_name,
            Person.last_name,
            now.assessed_on,
            Measure.code,
        )
        .join(Measure, Measure.id == Milestone.measure_id)
        .outerjoin(now, sa.and_(now.milestone_id == Milestone.id, now.year == year))
        .outerjoin(before, sa.and_(before.milestone_id == Milestone.id, before.year == year - 1))
        .outerjoin(User, User.id == now.assessor_id)
        .outerjoin(Person, Person.id == User.person_id)
    )
    if measure_ids is not None:
        query = query.where(Milestone.measure_id.in_(measure_ids))
    rows = []
    for row in db.session.execute(query):
        (mid, measure_id, code, en, sq, sr, responsible, due_on, status, previous) = row[:10]
        evidence, note, first, last, assessed_on, measure_code = row[10:]
        rows.append(
            MilestoneRow(
                id=mid,
                measure_id=measure_id,
                code=code,
                title=pick(en, sq, sr, locale),
                responsible=responsible,
                due_on=due_on,
                status=Status(status) if status else None,
                previous_status=Status(previous) if previous else None,
                evidence=[line for line in (evidence or "").splitlines() if line.strip()],
                note=note,
                assessor=f"{first} {last}" if first else None,
                assessed_on=assessed_on,
                year=year,
                measure_code=measure_code,
            )
        )
    return sorted(rows, key=lambda r: (natural_key(r.measure_code), natural_key(r.code)))
